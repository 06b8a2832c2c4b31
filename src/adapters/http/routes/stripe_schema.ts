import { z } from 'zod';

/** Schemas shared by the Stripe endpoints (outputs, for OpenAPI). */

export const stripeEventStatus = z.enum(['received', 'processed', 'failed', 'ignored', 'deferred']);

export const stripeEventSchema = z
  .object({
    object: z.literal('stripe_event'),
    id: z.string(),
    stripe_event_id: z.string(),
    type: z.string(),
    api_version: z.string().nullable(),
    livemode: z.boolean(),
    occurred_at: z.string(),
    received_at: z.string(),
    status: stripeEventStatus.describe(
      'processed: applied; failed: see reason, retry after a fix; ignored: nothing to apply, see reason; deferred: waits for the event named by waiting_for',
    ),
    reason: z.string().nullable(),
    waiting_for: z.string().nullable(),
    attempts: z.number(),
    processed_at: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'StripeEvent' });

export const stripeCallSchema = z
  .object({
    object: z.literal('stripe_call'),
    id: z.string(),
    operation: z.string(),
    params: z.record(z.string(), z.unknown()),
    idempotency_key: z.string().describe('Sent as Idempotency-Key on every attempt'),
    status: z.enum(['pending', 'succeeded', 'failed', 'canceled']),
    attempts: z.number(),
    max_attempts: z.number(),
    next_attempt_at: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    last_error: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .meta({ id: 'StripeCall' });

export const stripeSettingsSchema = z
  .object({
    object: z.literal('stripe_settings'),
    webhook_path: z.string().describe('The path to give Stripe as this workspace’s webhook endpoint'),
    webhook_secrets: z.array(z.object({ last4: z.string() })),
    api_key: z.object({ last4: z.string(), livemode: z.boolean() }).nullable(),
    plan_units_key: z.string(),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'StripeSettings' });
