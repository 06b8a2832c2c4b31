import { z } from 'zod';
import { errorEnvelope } from '../schemas.js';

/**
 * Schemas of the end-customer widget endpoints. They are reached with a customer token, never a
 * secret key, and answer only about the customer the token names.
 */

export const customerTokenSecurity = [{ customerToken: [] }];

export const widgetErrors = {
  400: errorEnvelope,
  401: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
  422: errorEnvelope,
};

const text = z.string().describe('The amount in words, as the end customer reads it');

export const widgetReferralSchema = z
  .object({
    object: z.literal('widget_referral'),
    customer: z.string(),
    program: z.object({ key: z.string(), name: z.string(), description: z.string().nullable() }),
    option: z
      .object({ key: z.string(), name: z.string() })
      .nullable()
      .describe('The reward option the customer is on, for programs that offer a choice'),
    eligible: z.boolean(),
    eligibility: z
      .object({
        unmet: z.enum(['card_on_file', 'paid_subscription']),
        message: z
          .string()
          .describe('What to do to get a code, e.g. "Add a card to get your referral code."'),
      })
      .nullable(),
    code: z.string().nullable().describe('Null while the customer is not eligible'),
    link: z.string().nullable().describe('Null when the program attributes by code only'),
    status: z.enum(['active', 'suspended']),
    suspended_at: z.string().nullable(),
    referrals: z.object({
      invited: z.number().describe('Customers referred (not rejected)'),
      converted: z.number().describe('Referrals that qualified'),
      pending: z.number(),
    }),
    rewards: z.array(
      z.object({
        asset: z.string(),
        kind: z.enum(['money', 'units', 'days']),
        purpose: z.enum(['credit', 'commission']),
        amount: z.number().describe('Earned, net of reversals, in the asset unit'),
        text: text.describe('e.g. "$50 in credits", "90 bonus minutes", "12 free days"'),
        expiring: z.array(z.object({ amount: z.number(), text, expires_at: z.string() })),
      }),
    ),
    pending_rewards: z.array(
      z.object({ asset: z.string(), amount: z.number(), text, referrals: z.number() }),
    ),
    commission: z.array(
      z.object({
        asset: z.string(),
        currency: z.string().nullable(),
        available: z.number(),
        available_text: text,
        held: z.number().describe('Requested, awaiting payment'),
        held_text: text,
        minimum: z.number(),
        minimum_text: text,
        can_withdraw: z.boolean(),
        message: z.string(),
      }),
    ),
  })
  .meta({ id: 'WidgetReferral' });

export const widgetPayoutSchema = z
  .object({
    id: z.string(),
    object: z.literal('payout'),
    asset: z.string(),
    currency: z.string().nullable(),
    amount: z.number(),
    status: z.enum(['pending', 'paid', 'rejected', 'canceled']),
    requested_at: z.string(),
  })
  .meta({ id: 'WidgetPayout' });
