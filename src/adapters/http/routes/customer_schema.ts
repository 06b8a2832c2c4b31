import { z } from 'zod';
import { identifier, metadata, text } from '../schemas.js';

export const customerInput = z.strictObject({
  external_id: identifier.describe("The caller's own id for this customer (unique per workspace)"),
  email: z.email('must be an email address').max(320, 'must be at most 320 characters').nullable().optional(),
  name: text(200).nullable().optional(),
  metadata: metadata.optional(),
  parent_customer_id: identifier
    .nullable()
    .optional()
    .describe('The customer that owns this one as a sub-account (Perks id or external id)'),
});

const iso = z.string();

export const customer = z
  .object({
    id: z.string(),
    object: z.literal('customer'),
    external_id: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    parent_customer_id: z.string().nullable(),
    created_at: iso,
    updated_at: iso,
    payment_methods: z.array(
      z.object({
        id: z.string(),
        external_id: z.string().nullable(),
        fingerprint: z.string(),
        brand: z.string().nullable(),
        last4: z.string().nullable(),
        attached_at: iso,
        first: z.boolean().describe('The earliest card attached to this customer'),
      }),
    ),
    subscriptions: z.array(
      z.object({
        id: z.string(),
        external_id: z.string(),
        plan_id: z.string().nullable(),
        plan_units: z.number().nullable(),
        interval: z.enum(['month', 'year']).nullable(),
        status: z.string(),
        current_period_start: iso.nullable(),
        current_period_end: iso.nullable(),
        amount: z.number().nullable(),
        currency: z.string().nullable(),
        canceled_at: iso.nullable(),
      }),
    ),
  })
  .meta({ id: 'Customer' });
