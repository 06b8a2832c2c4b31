import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { REFERRAL_STATUSES } from '../../../core/programs/lifecycle.js';
import { errorEnvelope, identifier, requiredText } from '../schemas.js';

/** Schemas shared by the referral program endpoints (responses, and the fields requests share). */

const iso = z.string();
const isoOrNull = z.string().nullable();

/**
 * The origin referral links are built on: PERKS_PUBLIC_URL when set (the address customers reach
 * Perks at, e.g. https://go.example.com), else the origin this request came in on.
 */
export function publicOrigin(req: FastifyRequest): string {
  const configured = process.env.PERKS_PUBLIC_URL;
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.host}`;
}

export const referralErrors = {
  400: errorEnvelope,
  401: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
  422: errorEnvelope,
};

export const programRef = identifier.describe('The program: its key (e.g. bonus-minutes) or id (prg_...)');
export const actor = requiredText(200).describe(
  'Who made the change (a support agent, a script): kept in the audit log',
);
export const reason = requiredText(500).describe('Why: kept in the audit log');

export const referralEventResult = z
  .object({
    referral: z.string().nullable().describe('The referral the code or click made (pending, or rejected)'),
    status: z.enum(REFERRAL_STATUSES).nullable(),
    reason: z.string().nullable().describe('Why the referral was rejected'),
    error: z
      .object({ code: z.literal('referral_code_invalid'), message: z.string() })
      .nullable()
      .describe('The code or click id is unknown: no referral was made, the event still applied'),
  })
  .meta({ id: 'ReferralEventResult' });

const document = z
  .record(z.string(), z.unknown())
  .describe(
    'The program document (see ProgramDocument and GET /v1/programs/schema.json), defaults filled in',
  );

const version = z.object({
  object: z.literal('program_version'),
  version: z.number(),
  effective_at: iso,
  actor: z.string().nullable(),
  created_at: iso,
  document,
});

export const versionSchema = version.meta({ id: 'ProgramVersion' });

export const programSchema = z
  .object({
    id: z.string(),
    object: z.literal('program'),
    key: z.string(),
    name: z.string(),
    version: z.number().nullable().describe('The version in force now (null until the first takes effect)'),
    latest_version: z.number(),
    effective_at: iso,
    document,
    pending_version: version.nullable().describe('A newer version that is not in force yet'),
    created_at: iso,
    updated_at: iso,
  })
  .meta({ id: 'Program' });

export const codeSchema = z
  .object({
    object: z.literal('referral_code'),
    code: z.string(),
    program: z.string(),
    customer: z.string(),
    customer_external_id: z.string(),
    vanity: z.boolean(),
    link: z
      .string()
      .nullable()
      .describe(
        'The referral link: GET it to record a click and land on the program page. Null when the program does not take links (attribution.methods without link): share the code instead',
      ),
    created_at: iso,
  })
  .meta({ id: 'ReferralCode' });

export const referralSchema = z
  .object({
    id: z.string(),
    object: z.literal('referral'),
    program: z.string(),
    program_version: z.number(),
    referrer: z.string(),
    referee: z.string(),
    method: z.enum(['code', 'link', 'manual']),
    source: z.enum(['event', 'api', 'manual']),
    code: z.string().nullable(),
    status: z.enum(REFERRAL_STATUSES),
    reason: z.string().nullable().describe('The rule that rejected the referral'),
    reason_message: z.string().nullable(),
    reason_details: z.record(z.string(), z.unknown()).nullable(),
    attributed_at: iso,
    qualified_at: isoOrNull,
    rewarded_at: isoOrNull,
    rejected_at: isoOrNull,
    created_at: iso,
    updated_at: iso,
  })
  .meta({ id: 'Referral' });

export const referralDetailSchema = referralSchema
  .extend({
    history: z.array(
      z.object({
        seq: z.number(),
        from: z.string().nullable(),
        to: z.string(),
        reason: z.string().nullable(),
        message: z.string().nullable(),
        actor: z.string().nullable(),
        event_id: z.string().nullable(),
        at: iso,
      }),
    ),
    rewards: z.array(
      z.object({
        id: z.string(),
        object: z.literal('referral_reward'),
        reward_index: z.number(),
        trigger: z.string(),
        recipient: z.enum(['referrer', 'referee']),
        customer: z.string(),
        asset: z.string(),
        status: z.enum(['granted', 'skipped', 'reversed']),
        reason: z.string().nullable().describe('Why the reward was skipped (e.g. contract_not_signed)'),
        message: z.string().nullable(),
        amount: z.number(),
        reversed_amount: z.number(),
        grant: z.string().nullable().describe('The ledger grant holding the reward'),
        expires_at: isoOrNull,
        payment: z.string().nullable(),
        source_key: z.string(),
        event_id: z.string().nullable(),
        occurred_at: iso,
        created_at: iso,
      }),
    ),
    audit_log: z.array(
      z.object({
        id: z.string(),
        action: z.string(),
        actor: z.string().nullable(),
        reason: z.string().nullable(),
        details: z.record(z.string(), z.unknown()),
        at: iso,
      }),
    ),
  })
  .meta({ id: 'ReferralDetail' });

const standing = {
  status: z.enum(['active', 'suspended']),
  suspended_at: isoOrNull,
  suspends_at: isoOrNull.describe('When the referrer will be suspended without a new referral'),
};

export const summarySchema = z
  .object({
    object: z.literal('referral_summary'),
    customer: z.string(),
    programs: z.array(
      z.object({
        program: z.string(),
        code: z.string().nullable(),
        link: z
          .string()
          .nullable()
          .describe('The referral link; null without a code or when the program does not take links'),
        clicks: z.number(),
        signups: z.number().describe('Referred customers who came through the code or link'),
        referred_customers: z.number().describe('Referrals not rejected'),
        converted: z.number().describe('Referrals qualified or rewarded'),
        pending: z.number(),
        rejected: z.number(),
        rewards_earned: z.array(
          z.object({ asset: z.string(), granted: z.number(), reversed: z.number(), net: z.number() }),
        ),
        pending_rewards: z.array(z.object({ asset: z.string(), amount: z.number(), referrals: z.number() })),
        option: z.string().nullable(),
        ...standing,
      }),
    ),
  })
  .meta({ id: 'ReferralSummary' });

interface TreeNodeShape {
  referral: string;
  program: string;
  customer: string;
  status: string;
  children: TreeNodeShape[];
}

const treeNode: z.ZodType<TreeNodeShape> = z.lazy(() =>
  z.object({
    referral: z.string(),
    program: z.string(),
    customer: z.string(),
    status: z.string(),
    children: z.array(treeNode),
  }),
);

export const treeSchema = z
  .object({
    object: z.literal('referral_tree'),
    customer: z.string(),
    depth: z.number(),
    nodes: z.array(treeNode),
    truncated: z.boolean(),
  })
  .meta({ id: 'ReferralTree' });

export const referrerSchema = z
  .object({
    object: z.literal('referrer'),
    program: z.string(),
    customer: z.string(),
    option: z.string().nullable(),
    option_chosen: z.boolean(),
    ...standing,
    reinstated_at: isoOrNull,
  })
  .meta({ id: 'Referrer' });

export const contractSchema = z
  .object({
    object: z.literal('contract'),
    customer: z.string(),
    signed_at: iso,
    recorded_at: iso,
    actor: z.string().nullable(),
  })
  .meta({ id: 'Contract' });
