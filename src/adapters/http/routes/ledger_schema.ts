import { z } from 'zod';
import {
  currency,
  errorEnvelope,
  identifier,
  metadata,
  positiveAmountMinor,
  requiredText,
  timestamp,
} from '../schemas.js';

/** Schemas shared by the ledger endpoints: inputs (validation) and outputs (OpenAPI). */

export const assetKey = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'must be 1 to 64 lower-case letters, digits or _ starting with a letter, e.g. usd_credit',
  )
  .describe('The asset key, e.g. usd_credit or bonus_minutes');

export const expiryInput = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('never') }),
    z.strictObject({
      type: z.literal('at'),
      at: timestamp.describe('The instant the grant expires (must be in the future)'),
    }),
    z.strictObject({
      type: z.literal('after'),
      duration: z
        .string()
        .max(40, 'must be at most 40 characters')
        .describe('An ISO 8601 duration from now, e.g. P30D, P1M, PT12H; months clamp to the month end'),
    }),
    z.strictObject({
      type: z.literal('end_of_billing_period'),
      subscription: identifier
        .optional()
        .describe("Which subscription's current period; needed only when the customer has several"),
    }),
  ])
  .describe('When the grant expires; default never');

export const grantSource = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.enum(['program', 'referral', 'event']), id: identifier }),
    z.strictObject({
      type: z.literal('manual'),
      actor: requiredText(200).describe('Who granted it by hand, e.g. an operator e-mail'),
    }),
  ])
  .describe('What the grant comes from');

export const amount = positiveAmountMinor.describe(
  'An integer amount in the asset unit: minor units of the currency for money, else minutes or days',
);

export { currency, identifier, metadata };

export const ledgerErrors = {
  400: errorEnvelope,
  401: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
};

const iso = z.string();

export const assetSchema = z
  .object({
    id: z.string(),
    object: z.literal('asset'),
    key: z.string(),
    kind: z.enum(['money', 'units', 'days']),
    currency: z.string().nullable(),
    unit: z.string().nullable(),
    purpose: z.enum(['credit', 'commission']),
    negative_policy: z.enum(['allow_negative', 'forgive']),
    payout_minimum: z.number().nullable(),
    created_at: iso,
  })
  .meta({ id: 'Asset' });

export const grantSchema = z
  .object({
    id: z.string(),
    object: z.literal('grant'),
    customer: z.string(),
    asset: z.string(),
    amount: z.number(),
    remaining: z.number(),
    debt_repaid: z.number().describe('The part of the amount that repaid an earlier debt'),
    expires_at: iso.nullable(),
    expiry: z.record(z.string(), z.unknown()).describe('The expiry policy as it was given'),
    granted_at: iso,
    source: z.object({ type: z.string(), id: z.string().nullable(), actor: z.string().nullable() }),
    reason: z.string().nullable(),
    reference: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    reversed: z.boolean(),
  })
  .meta({ id: 'Grant' });

export const touchedLot = z.object({
  lot: z.string(),
  grant: z.string(),
  amount: z.number(),
  remaining: z.number().describe('What the lot holds after this operation'),
  expires_at: iso.nullable(),
});

export const consumptionSchema = z
  .object({
    id: z.string(),
    object: z.literal('consumption'),
    customer: z.string(),
    asset: z.string(),
    requested: z.number(),
    consumed: z.number(),
    partial: z.boolean(),
    reference: z.string().nullable(),
    lots: z.array(touchedLot).describe('The lots touched, in burn-down order'),
    available: z.number(),
    created_at: iso,
  })
  .meta({ id: 'Consumption' });

export const settlementSchema = z
  .object({
    id: z.string(),
    object: z.literal('invoice_settlement'),
    invoice_id: z.string(),
    customer: z.string().describe('The customer’s Perks id (cus_...), whichever id the settle named it by'),
    subscription: z
      .string()
      .nullable()
      .describe(
        'Your subscription id (the one your billing events and redemptions use), whichever id the settle named it by and whether Perks knew it from a billing event or only from a redemption; null for an invoice without one',
      ),
    currency: z.string(),
    subtotal_cents: z.number(),
    discount_cents: z.number(),
    credit_cents: z.number(),
    amount_due_cents: z.number(),
    lines: z.array(
      z.object({
        type: z.enum(['discount', 'credit']),
        description: z.string(),
        asset: z.string().optional(),
        amount_cents: z.number(),
        reference: z.string().nullable(),
      }),
    ),
    credits: z.array(
      z.object({
        lot: z.string(),
        grant: z.string(),
        asset: z.string(),
        amount_cents: z.number(),
        expires_at: iso.nullable(),
      }),
    ),
    status: z.enum(['applied', 'voided']),
    created_at: iso,
    voided_at: iso.nullable(),
  })
  .meta({ id: 'InvoiceSettlement' });

export const reversalSchema = z
  .object({
    id: z.string(),
    object: z.literal('reversal'),
    grant: z.string(),
    customer: z.string(),
    asset: z.string(),
    negative_policy: z.enum(['allow_negative', 'forgive']),
    unspent_reversed: z.number(),
    spent: z.number(),
    taken_from_other_lots: z.number(),
    debt_added: z.number(),
    forgiven: z.number(),
    lots: z.array(z.object({ lot: z.string(), amount: z.number(), part: z.enum(['unspent', 'spent']) })),
    reason: z.string().nullable(),
    reference: z.string().nullable(),
    created_at: iso,
  })
  .meta({ id: 'Reversal' });

export const payoutSchema = z
  .object({
    id: z.string(),
    object: z.literal('payout'),
    customer: z.string(),
    asset: z.string(),
    currency: z.string().nullable(),
    amount: z.number(),
    destination: z.string(),
    status: z.enum(['pending', 'paid', 'rejected', 'canceled']),
    lots: z.array(z.object({ lot: z.string(), amount: z.number() })),
    requested_at: iso,
    decided_at: iso.nullable(),
    decided_by: z.string().nullable(),
    reason: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
  })
  .meta({ id: 'Payout' });

export const balanceSchema = z
  .object({
    object: z.literal('balance'),
    asset: z.string(),
    kind: z.enum(['money', 'units', 'days']),
    purpose: z.enum(['credit', 'commission']),
    currency: z.string().nullable(),
    unit: z.string().nullable(),
    available: z.number().describe('What the open lots hold, less any debt; negative while in debt'),
    held: z.number().describe('Held by pending payouts'),
    debt: z.number(),
    expiring: z
      .array(z.object({ expires_at: iso, amount: z.number() }))
      .describe('The next 3 expiry instants'),
  })
  .meta({ id: 'Balance' });

export const entrySchema = z
  .object({
    id: z.string(),
    object: z.literal('ledger_entry'),
    asset: z.string(),
    type: z.string(),
    amount: z.number(),
    from: z.string().describe('The account debited: customer or a system account'),
    to: z.string().describe('The account credited'),
    balance_change: z.number().describe("The change to the customer's balance: +, - or 0"),
    lot: z.string().nullable(),
    grant: z.string().nullable(),
    source: z
      .object({
        type: z.string(),
        id: z.string().nullable(),
        actor: z.string().nullable(),
        reason: z.string().nullable(),
      })
      .nullable(),
    operation: z.string().describe('The grant, consumption, settlement, reversal, payout or expiry run'),
    reference: z.string().nullable(),
    effective_at: iso,
    created_at: iso,
  })
  .meta({ id: 'LedgerEntry' });
