import { isIP } from 'node:net';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { GuessingBlockedError } from '../../../app/promo_failures.js';
import { redemptionLimitError } from '../../../app/promo_redemptions.js';
import {
  GENERATE_MAX_COUNT,
  GENERATED_MAX_LENGTH,
  GENERATED_MIN_LENGTH,
} from '../../../core/promo/generate.js';
import { CODE_INPUT_MAX_LENGTH } from '../../../core/promo/normalize.js';
import {
  MAX_APPLIES_TO,
  MAX_DURATION_PERIODS,
  MAX_PER_CUSTOMER_LIMIT,
  MAX_PERCENT_BPS,
  REJECTIONS,
} from '../../../core/promo/rules.js';
import { type BoundaryInput, parseDateOnly } from '../../../core/promo/time.js';
import {
  amountMinor,
  currency,
  errorEnvelope,
  identifier,
  integerIn,
  metadata,
  positiveAmountMinor,
  requiredText,
} from '../schemas.js';

/** Schemas shared by the promotion, code and redemption endpoints. */

const isoDateTime = z.iso.datetime({ offset: true });

export const boundaryInput = z
  .string()
  .max(40, 'must be at most 40 characters')
  .refine(
    (s) => parseDateOnly(s) !== undefined || isoDateTime.safeParse(s).success,
    'must be an ISO 8601 date-time with a time zone (2026-03-31T23:59:59Z) or a date (2026-03-31) read in the time_zone',
  )
  .transform((s): BoundaryInput => {
    const date = parseDateOnly(s);
    return date ? { kind: 'date', date } : { kind: 'instant', at: new Date(s) };
  });

const count = (max: number) =>
  integerIn(1, max, { range: `must be from 1 to ${max}`, notInteger: `must be an integer from 1 to ${max}` });

export const promotionInput = z.strictObject({
  name: requiredText(200),
  percent_off_bps: integerIn(1, MAX_PERCENT_BPS, {
    range: `must be from 1 to ${MAX_PERCENT_BPS} basis points (100%)`,
    notInteger: 'must be an integer number of basis points (2000 = 20%)',
    notNumber: 'must be an integer number of basis points',
  })
    .optional()
    .describe('Percentage off in basis points: 2000 is 20%, 10000 is 100%'),
  amount_off: positiveAmountMinor
    .optional()
    .describe('Fixed amount off each discounted invoice, in minor units'),
  currency: currency
    .optional()
    .describe('Required with amount_off, max_discount_amount or minimum_amount; limits the promotion to it'),
  max_discount_amount: positiveAmountMinor
    .optional()
    .describe('Cap on what a percentage takes off one invoice'),
  duration: z
    .enum(['once', 'repeating', 'forever'])
    .optional()
    .describe(
      'once (the default): the next invoice; repeating: duration_periods invoices; forever: every invoice',
    ),
  duration_periods: count(MAX_DURATION_PERIODS)
    .optional()
    .describe('Billing periods (invoices) a repeating promotion discounts; a yearly period counts as one'),
  applies_to: z
    .array(identifier)
    .min(1, `must list 1 to ${MAX_APPLIES_TO} plan ids`)
    .max(MAX_APPLIES_TO, `must list 1 to ${MAX_APPLIES_TO} plan ids`)
    .optional()
    .describe('Plan ids the promotion is limited to'),
  first_time_only: z.boolean().optional().describe('Only for customers with no succeeded payment'),
  minimum_amount: amountMinor.optional(),
  starts_at: boundaryInput.optional().describe('Inclusive; a date means the start of that day in time_zone'),
  expires_at: boundaryInput.optional().describe('Exclusive; a date means the end of that day in time_zone'),
  time_zone: z
    .string()
    .max(64, 'must be at most 64 characters')
    .optional()
    .describe('IANA zone, default UTC'),
  max_redemptions: count(1_000_000_000_000).optional().describe('Over all codes of the promotion'),
  max_per_customer: count(MAX_PER_CUSTOMER_LIMIT).optional().describe('Default 1'),
  stackable: z.boolean().optional().describe('May combine with other stackable promotions on a subscription'),
  metadata: metadata.optional(),
});

const iso = z.string();

export const promotion = z
  .object({
    id: z.string(),
    object: z.literal('promotion'),
    name: z.string(),
    percent_off_bps: z.int().nullable(),
    amount_off: z.int().nullable(),
    currency: z.string().nullable(),
    max_discount_amount: z.int().nullable(),
    duration: z.enum(['once', 'repeating', 'forever']),
    duration_periods: z.int().nullable(),
    applies_to: z.array(z.string()).nullable(),
    first_time_only: z.boolean(),
    minimum_amount: z.int().nullable(),
    starts_at: iso.nullable(),
    expires_at: iso.nullable(),
    time_zone: z.string(),
    max_redemptions: z.int().nullable(),
    max_per_customer: z.int(),
    stackable: z.boolean(),
    times_redeemed: z.int(),
    metadata: z.record(z.string(), z.string()),
    created_at: iso,
  })
  .meta({ id: 'Promotion' });

/** A code as typed; normalised by the server. Longer or stranger input gets a typed 400 naming it. */
export const codeText = z
  .string()
  .max(CODE_INPUT_MAX_LENGTH, `must be at most ${CODE_INPUT_MAX_LENGTH} characters`)
  .describe('Letters, digits and _; case, spaces and dashes are ignored (NFKC-normalised)');

export const codeInput = z.strictObject({
  promotion: identifier.describe('The promotion id'),
  code: codeText,
  max_redemptions: count(1_000_000_000_000).optional().describe('Limit for this code alone'),
  expires_at: boundaryInput.optional().describe("Exclusive; a date is read in the promotion's time_zone"),
  customer: identifier.optional().describe('Binds the code to one customer (Perks id or external_id)'),
  metadata: metadata.optional(),
});

export const promotionCode = z
  .object({
    id: z.string(),
    object: z.literal('promotion_code'),
    code: z.string(),
    promotion_id: z.string(),
    batch_id: z.string().nullable(),
    customer_id: z.string().nullable(),
    max_redemptions: z.int().nullable(),
    expires_at: iso.nullable(),
    times_redeemed: z.int(),
    metadata: z.record(z.string(), z.string()),
    created_at: iso,
  })
  .meta({ id: 'PromotionCode' });

export const generateInput = z.strictObject({
  count: count(GENERATE_MAX_COUNT),
  prefix: z
    .string()
    .max(40, 'must be at most 40 characters as typed (and 20 once spaces and dashes are removed)')
    .optional(),
  length: integerIn(GENERATED_MIN_LENGTH, GENERATED_MAX_LENGTH, {
    range: `must be from ${GENERATED_MIN_LENGTH} to ${GENERATED_MAX_LENGTH}`,
    notInteger: `must be an integer from ${GENERATED_MIN_LENGTH} to ${GENERATED_MAX_LENGTH}`,
  })
    .optional()
    .describe('Random characters after the prefix, 5 bits each; default 12'),
  max_redemptions: count(1_000_000_000_000).optional().describe('Per code; default 1 (single-use)'),
  expires_at: boundaryInput.optional(),
});

export const codeBatch = z
  .object({
    id: z.string(),
    object: z.literal('code_batch'),
    promotion_id: z.string(),
    status: z.enum(['pending', 'running', 'succeeded', 'failed']),
    total: z.int(),
    generated: z.int(),
    prefix: z.string(),
    length: z.int(),
    max_redemptions: z.int().nullable(),
    expires_at: iso.nullable(),
    error: z.string().nullable(),
    created_at: iso,
    started_at: iso.nullable(),
    completed_at: iso.nullable(),
  })
  .meta({ id: 'CodeBatch' });

const clientIp = z
  .string()
  .max(64, { message: 'must be an IPv4 or IPv6 address (at most 64 characters)', abort: true })
  .refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address, e.g. 203.0.113.7 or 2001:db8::1')
  .describe("The end customer's IP address, for the guessing limits; default: the caller's address");

/**
 * The code is any string here: a malformed code must be answered exactly like an unknown one, so it
 * is not refused by the schema. The body limit bounds it.
 */
export const redeemInput = z.strictObject({
  code: z.string(),
  customer: identifier.describe('Perks id or external_id'),
  subscription: identifier.optional().describe('Your subscription id (as in billing events)'),
  plan: identifier.optional(),
  amount: amountMinor.optional().describe('Amount to check the minimum against and preview the discount on'),
  currency: currency.optional(),
  client_ip: clientIp.optional(),
});

export const redeemBody = redeemInput.extend({ metadata: metadata.optional() });

const discount = z.object({
  promotion_id: z.string(),
  percent_off_bps: z.int().nullable(),
  amount_off: z.int().nullable(),
  currency: z.string().nullable(),
  max_discount_amount: z.int().nullable(),
  duration: z.enum(['once', 'repeating', 'forever']),
  duration_periods: z.int().nullable(),
  periods_total: z.int().nullable(),
  applies_from: iso.nullable(),
  stackable: z.boolean(),
});

export const validation = z
  .object({
    object: z.literal('promotion_code_validation'),
    valid: z.boolean(),
    code: z.string().nullable(),
    promotion_code_id: z.string().nullable(),
    discount: discount.nullable(),
    preview: z
      .object({ amount: z.int(), currency: z.string(), amount_off: z.int(), amount_due: z.int() })
      .nullable(),
    // Open, as redeem's error is: a refusal carries the facts it names (expires_at, max_redemptions...).
    error: z.looseObject({ code: z.enum(REJECTIONS), message: z.string(), param: z.string() }).nullable(),
  })
  .meta({ id: 'PromotionCodeValidation' });

export const redemption = z
  .object({
    id: z.string(),
    object: z.literal('redemption'),
    promotion_id: z.string(),
    promotion_code_id: z.string(),
    code: z.string(),
    customer_id: z.string(),
    subscription: z.string().nullable(),
    status: z.enum(['active', 'completed', 'voided']),
    stackable: z.boolean(),
    periods_total: z.int().nullable(),
    periods_applied: z.int(),
    periods_remaining: z.int().nullable(),
    applies_from: iso.nullable(),
    metadata: z.record(z.string(), z.string()),
    redeemed_at: iso,
    completed_at: iso.nullable(),
    voided_at: iso.nullable(),
  })
  .meta({ id: 'Redemption' });

/**
 * The typed error a code endpoint answers for what its transaction threw: a guessing block becomes 429
 * rate_limited with Retry-After (in seconds, the standard header); a redemption whose commit found a
 * limit reached (taken by a concurrent one) becomes the typed refusal. Anything else passes through.
 */
export function codeEndpointError(reply: FastifyReply, err: unknown): unknown {
  if (err instanceof GuessingBlockedError) {
    reply.header('retry-after', String(err.retryAfterSeconds));
    return err.toPerksError();
  }
  return redemptionLimitError(err) ?? err;
}

/** The errors a code endpoint may give. */
export const codeErrors = {
  400: errorEnvelope,
  401: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
  422: errorEnvelope,
  429: errorEnvelope,
};

/**
 * Validate's: a refusal about the code is a 200 with `valid: false`, so no 422; 409 only for an
 * Idempotency-Key reused or in use.
 */
export const validateErrors = {
  400: errorEnvelope,
  401: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
  429: errorEnvelope,
};
