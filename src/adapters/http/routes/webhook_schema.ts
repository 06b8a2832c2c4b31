import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../../app/outbox_webhooks.js';
import { isStorableText, metadata, text } from '../schemas.js';

/** Schemas shared by the webhook endpoint endpoints. */

export const MAX_EVENT_TYPES = 50;

export const eventTypes = z
  .array(
    z.enum(['*', ...WEBHOOK_EVENT_TYPES], {
      message: `must be '*' or one of: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    }),
  )
  .min(1, 'must name at least one event type, or "*" for all')
  .max(MAX_EVENT_TYPES, `must name at most ${MAX_EVENT_TYPES} event types`)
  .transform((types) => [...new Set(types)])
  .describe('The event types sent to this endpoint; ["*"] for every type');

export const endpointUrl = z
  .string()
  .min(1, 'must not be empty')
  .max(2048, 'must be at most 2048 characters')
  .refine(isStorableText, 'must not contain NUL characters or unpaired UTF-16 surrogates')
  .refine((u) => !/[\s\p{Cc}]/u.test(u), 'must not contain spaces or control characters')
  .describe('The https URL deliveries are POSTed to; it may not resolve to a private address');

export const endpointFields = {
  description: text(500).nullable().optional(),
  metadata: metadata.optional(),
};

export const endpointSchema = z
  .object({
    object: z.literal('webhook_endpoint'),
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()),
    metadata: z.record(z.string(), z.string()),
    status: z.enum(['enabled', 'disabled']),
    disabled_reason: z.string().nullable(),
    disabled_at: z.string().nullable(),
    last_success_at: z.string().nullable(),
    failing_since: z.string().nullable(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .describe('During a rotation grace period, when the previous secret stops signing'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointWithSecretSchema = endpointSchema
  .extend({ secret: z.string().describe('The signing secret (whsec_...), shown only in this response') })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const deliverySchema = z
  .object({
    object: z.literal('webhook_delivery'),
    id: z.string(),
    endpoint: z.string().nullable(),
    event_id: z.string().nullable().describe('The message id, sent as the webhook-id header'),
    event_type: z.string().nullable(),
    status: z.enum(['pending', 'succeeded', 'failed', 'canceled']),
    attempts: z.number(),
    max_attempts: z.number(),
    next_attempt_at: z.string().nullable(),
    last_error: z.string().nullable(),
    replay_of: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    payload: z.unknown().describe('The body that is sent'),
    attempt_log: z.array(
      z.object({
        attempt: z.number(),
        started_at: z.string(),
        duration_ms: z.number(),
        status_code: z.number().nullable(),
        error: z.string().nullable(),
        response_body: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'WebhookDelivery' });
