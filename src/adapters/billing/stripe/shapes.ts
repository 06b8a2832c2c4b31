import { z } from 'zod';

/**
 * The parts of Stripe's objects that Perks reads, as Stripe sends them in webhook events. Only the
 * fields used are checked; everything else in the object is kept in the stored event and ignored. An
 * object missing a field Perks needs makes the event fail with the field named.
 *
 * Shapes follow Stripe's API versions from 2022-11-15 on; where a later version moved a field (the
 * subscription's current period moved to its items in 2025-03-31), both places are read.
 */

/** An id, or the object it names when the field was expanded. */
const ref = z
  .union([z.string().min(1).max(255), z.object({ id: z.string().min(1).max(255) })], {
    message: 'must be an id, or the object it names with its id',
  })
  .transform((v) => (typeof v === 'string' ? v : v.id));
const optionalRef = ref.nullable().optional();
const metadata = z
  .record(z.string(), z.string())
  .nullable()
  .optional()
  .transform((m) => m ?? {});
const id = z.string().min(1).max(255);
const unixSeconds = z.number().int().nonnegative();
const amount = z.number().int();

export const stripeEventEnvelope = z.object({
  id,
  type: z.string().min(1).max(255),
  created: unixSeconds,
  livemode: z.boolean().optional().default(false),
  api_version: z.string().max(100).nullable().optional(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
export type StripeEventEnvelope = z.output<typeof stripeEventEnvelope>;

export const customer = z.object({
  id,
  email: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  metadata,
});

export const paymentMethod = z.object({
  id,
  type: z.string(),
  customer: optionalRef,
  card: z
    .object({
      fingerprint: z.string().nullable().optional(),
      brand: z.string().nullable().optional(),
      last4: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
});

export const product = z.object({ id, name: z.string().nullable().optional(), metadata });

const recurring = z.object({ interval: z.string(), interval_count: z.number().int().optional() });

const price = z.object({
  id,
  currency: z.string(),
  unit_amount: amount.nullable().optional(),
  recurring: recurring.nullable().optional(),
  metadata,
  product: z.union([id, z.object({ id, metadata })]),
});

const subscriptionItem = z.object({
  price,
  quantity: z.number().int().nonnegative().nullable().optional(),
  current_period_start: unixSeconds.optional(),
  current_period_end: unixSeconds.optional(),
});
export type SubscriptionItem = z.output<typeof subscriptionItem>;

export const subscription = z.object({
  id,
  customer: ref,
  status: z.string(),
  currency: z.string().optional(),
  current_period_start: unixSeconds.optional(),
  current_period_end: unixSeconds.optional(),
  items: z.object({ data: z.array(subscriptionItem).min(1, 'a subscription must have at least one item') }),
});

/** Whether a line is a proration, under `parent` from API version 2025-03-31 on. */
const lineDetails = z.object({ proration: z.boolean().optional() }).nullable().optional();

const invoiceLine = z.object({
  amount,
  // Before API version 2025-03-31: `type` (subscription or invoiceitem), `proration` and `price`.
  type: z.string().optional(),
  proration: z.boolean().optional(),
  subscription: optionalRef,
  period: z.object({ start: unixSeconds, end: unixSeconds }).optional(),
  price: z.object({ recurring: recurring.nullable().optional() }).nullable().optional(),
  // From 2025-03-31: `parent` says what made the line (subscription_item_details or
  // invoice_item_details), with its proration flag.
  parent: z
    .object({
      type: z.string().optional(),
      subscription_item_details: lineDetails,
      invoice_item_details: lineDetails,
    })
    .nullable()
    .optional(),
});
export type InvoiceLine = z.output<typeof invoiceLine>;

export const invoice = z.object({
  id,
  customer: ref,
  status: z.string().nullable(),
  currency: z.string(),
  amount_paid: z.number().int().nonnegative(),
  /** Before invoice-level discounts; the line items' own discounts are already taken off. */
  subtotal: amount,
  /** Every discount's amount, the line items' and the invoice's alike. */
  total_discount_amounts: z
    .array(z.object({ amount, discount: optionalRef }))
    .nullable()
    .optional(),
  /** The discounts of the invoice itself (not of its line items). */
  discounts: z.array(ref).nullable().optional(),
  subscription: optionalRef,
  parent: z
    .object({ subscription_details: z.object({ subscription: ref }).nullable().optional() })
    .nullable()
    .optional(),
  payment_intent: optionalRef,
  charge: optionalRef,
  period_start: unixSeconds,
  period_end: unixSeconds,
  lines: z.object({ data: z.array(invoiceLine) }),
});
export type Invoice = z.output<typeof invoice>;

export const charge = z.object({
  id,
  customer: optionalRef,
  payment_intent: optionalRef,
  amount_refunded: z.number().int().nonnegative(),
  currency: z.string(),
});

export const dispute = z.object({ id, charge: ref, payment_intent: optionalRef });
