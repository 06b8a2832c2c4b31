/**
 * The program document: a referral program stated as data. The same zod schema validates the API
 * body, the CLI's file and the stored versions, and is published as JSON Schema, so there is one
 * definition of what a program may say.
 */
import { z } from 'zod';
import { MAX_AMOUNT_MINOR } from '../money/currency.js';
import type { RoundingMode } from '../money/rounding.js';
import { parseIsoDuration } from '../ledger/expiry.js';
import { isoInstant } from '../time/instants.js';

export const TRIGGERS = [
  'signup',
  'first_card_attached',
  'subscription_activated',
  'payment_succeeded',
] as const;
export type Trigger = (typeof TRIGGERS)[number];
export const ELIGIBILITY = ['any', 'card_on_file', 'paid_subscription'] as const;
export type Eligibility = (typeof ELIGIBILITY)[number];
export const CODE_ACCEPTED = ['at_signup', 'at_first_card', 'at_any_time'] as const;
export const ATTRIBUTION_METHODS = ['code', 'link'] as const;
export const GATES = ['has_signed_contract'] as const;
export type Gate = (typeof GATES)[number];
export const CAP_PERIODS = ['day', 'week', 'month', 'year', 'all_time'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];
export const RECIPIENTS = ['referrer', 'referee'] as const;
export type Recipient = (typeof RECIPIENTS)[number];
export const REPEATS = ['once_per_referral', 'every_time'] as const;
export type Repeat = (typeof REPEATS)[number];

export const ROUNDING_MODES = [
  'half_even',
  'half_up',
  'down',
  'up',
] as const satisfies readonly RoundingMode[];

export const MAX_REWARDS = 20;
export const MAX_OPTIONS = 10;

const slug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    "must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit",
  );

/** The key of a ledger asset (POST /v1/assets), e.g. usd_credit or minutes. */
export const assetKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be 1 to 64 lower-case letters, digits or _ starting with a letter');

// A number past 2^53 (1e20) is whole to the person who wrote it, though not to JavaScript: it is told
// the bound it crossed, once.
const wholeNumber = (min: number, max: number) =>
  z
    .number()
    .int({
      abort: true,
      error: (issue) =>
        issue.code === 'too_big'
          ? `must be at most ${max}`
          : issue.code === 'too_small'
            ? `must be at least ${min}`
            : 'must be a whole number',
    })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const bps = wholeNumber(1, 10_000).describe('Basis points: 100 = 1%, 10000 = 100%');

/** A per-interval value: a number of the asset's units, or whole calendar months counted in days. */
export const CALENDAR_MONTHS_PATTERN = /^([1-9][0-9]?) calendar months?$/;
const intervalValue = z.union([
  wholeNumber(1, 3650),
  z.string().regex(CALENDAR_MONTHS_PATTERN, "must be a number or a text like '1 calendar month'"),
]);

const amount = z.discriminatedUnion('kind', [
  z
    .strictObject({ kind: z.literal('fixed'), value: wholeNumber(1, MAX_AMOUNT_MINOR) })
    .describe('A fixed amount in the minor units of the asset (cents, minutes, days)'),
  z
    .strictObject({ kind: z.literal('percent_of_payment'), bps })
    .describe("A share of the referee's payment (commission); the asset's currency must match"),
  z
    .strictObject({ kind: z.literal('percent_of_plan_units'), bps })
    .describe("A share of the units the referee's plan includes per period (e.g. minutes)"),
  z
    .strictObject({
      kind: z.literal('per_interval'),
      table: z
        .strictObject({ month: intervalValue.optional(), year: intervalValue.optional() })
        .refine((t) => t.month !== undefined || t.year !== undefined, 'must give month, year or both'),
    })
    .describe('An amount by the billing interval of the payment or subscription'),
]);
export type RewardAmount = z.infer<typeof amount>;

/** The ledger's expiry policies (see docs/ledger.md), resolved for each recipient when granted. */
const expiry = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('never') }),
  z
    .strictObject({ type: z.literal('end_of_billing_period') })
    .describe("Expires at the end of the recipient's current billing period"),
  z
    .strictObject({
      type: z.literal('after'),
      duration: z
        .string()
        .max(40, 'must be at most 40 characters')
        .refine((d) => parseIsoDuration(d) !== undefined, 'must be an ISO 8601 duration such as P30D or P1M'),
    })
    .describe('Expires a fixed time after it is granted'),
]);
export type RewardExpiry = z.infer<typeof expiry>;

const reward = z.strictObject({
  description: z.string().max(500, 'must be at most 500 characters').optional(),
  trigger: z
    .enum(TRIGGERS)
    .describe(
      'signup: the referral is attributed; first_card_attached: the referee attaches its first card; ' +
        'subscription_activated: its first paid subscription; payment_succeeded: each payment',
    ),
  recipient: z.enum(RECIPIENTS),
  asset: assetKey.describe('The ledger asset granted (POST /v1/assets)'),
  amount,
  rounding: z.enum(ROUNDING_MODES).default('half_even'),
  expiry: expiry.default({ type: 'never' }),
  repeat: z
    .enum(REPEATS)
    .optional()
    .describe(
      'once_per_referral (default except for payment_succeeded): a cancelled and resubscribed referee ' +
        'never pays out again; every_time (default for payment_succeeded): each payment or subscription',
    ),
  for_months: wholeNumber(1, 120)
    .optional()
    .describe('payment_succeeded only: pay only for payments within this many months of attribution'),
  option: slug.optional().describe('Paid only to referrers who chose this option (see options)'),
  gates: z
    .array(z.enum(GATES))
    .max(GATES.length)
    .default([])
    .describe('has_signed_contract: accrues only for payments after the referrer signed the contract'),
});
export type RewardRule = z.infer<typeof reward>;

const optionSchema = z.strictObject({
  key: slug,
  name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: z.string().max(1000, 'must be at most 1000 characters').optional(),
});

const programShape = z.strictObject({
  $schema: z.string().max(2000).optional().describe('Ignored; lets editors find the JSON Schema'),
  key: slug.describe('Identifies the program in the workspace; applying the same key makes a new version'),
  name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: z.string().max(2000, 'must be at most 2000 characters').optional(),
  landing_url: z
    .url({ protocol: /^https?$/, message: 'must be an http or https URL' })
    .max(2000, 'must be at most 2000 characters')
    .describe('Where GET /r/{code} redirects, with ?ref=CODE&perks_click=CLICK_ID added'),
  effective_at: isoInstant('must be an ISO 8601 date-time with a time zone')
    .optional()
    .describe('When this version takes effect (default now; never earlier than now)'),
  referrer: z
    .strictObject({
      eligibility: z.enum(ELIGIBILITY).default('any').describe('What a customer needs to get a code'),
      suspend_after_inactivity_days: wholeNumber(1, 3650)
        .nullable()
        .default(null)
        .describe('Suspend a referrer this many days after its last new referral'),
    })
    .prefault({}),
  attribution: z
    .strictObject({
      methods: z
        .array(z.enum(ATTRIBUTION_METHODS))
        .min(1, 'must name at least one method')
        .max(2, 'must name at most 2 methods')
        .default(['code', 'link']),
      code_accepted: z.enum(CODE_ACCEPTED).default('at_any_time'),
      link_window_days: wholeNumber(1, 365).default(60).describe('How long a link click can attribute'),
    })
    .prefault({}),
  referee: z
    .strictObject({
      new_accounts_only: z.boolean().default(false),
      new_account_grace_minutes: wholeNumber(0, 10_080)
        .default(60)
        .describe('new_accounts_only: an account created this long before attribution still counts as new'),
      separate_account: z
        .boolean()
        .default(false)
        .describe('A sub-account of the referrer is not a referral'),
      first_card_only: z.boolean().default(false).describe('The code counts only with the first card'),
    })
    .prefault({}),
  fraud: z
    .strictObject({
      self_referral: z.boolean().default(true),
      referred_once: z.boolean().default(true),
      card_once_per_program: z.boolean().default(true),
      max_referrals_per_referrer: z
        .strictObject({ count: wholeNumber(1, 1_000_000), period: z.enum(CAP_PERIODS) })
        .nullable()
        .default(null),
    })
    .prefault({}),
  options: z
    .array(optionSchema)
    .max(MAX_OPTIONS, `must hold at most ${MAX_OPTIONS} options`)
    .default([])
    .describe('Alternative rewards a referrer chooses between; the first is the default'),
  rewards: z
    .array(reward)
    .min(1, 'must hold at least one reward')
    .max(MAX_REWARDS, `must hold at most ${MAX_REWARDS} rewards`),
});

const AMOUNT_TRIGGERS: Record<RewardAmount['kind'], readonly Trigger[]> = {
  fixed: TRIGGERS,
  percent_of_payment: ['payment_succeeded'],
  percent_of_plan_units: ['subscription_activated', 'payment_succeeded'],
  per_interval: ['subscription_activated', 'payment_succeeded'],
};
const REPEATABLE_TRIGGERS = new Set<Trigger>(['subscription_activated', 'payment_succeeded']);

export const programDocument = programShape
  .superRefine((doc, ctx) => {
    const optionKeys = new Set<string>();
    doc.options.forEach((o, i) => {
      if (optionKeys.has(o.key))
        ctx.addIssue({ code: 'custom', path: ['options', i, 'key'], message: `duplicate option '${o.key}'` });
      optionKeys.add(o.key);
    });
    if (new Set(doc.attribution.methods).size !== doc.attribution.methods.length) {
      ctx.addIssue({ code: 'custom', path: ['attribution', 'methods'], message: 'must not repeat a method' });
    }
    doc.rewards.forEach((r, i) => {
      const at = (...p: (string | number)[]) => ['rewards', i, ...p];
      if (!AMOUNT_TRIGGERS[r.amount.kind].includes(r.trigger)) {
        ctx.addIssue({
          code: 'custom',
          path: at('amount', 'kind'),
          message: `${r.amount.kind} works only with the trigger ${AMOUNT_TRIGGERS[r.amount.kind].join(' or ')}`,
        });
      }
      if (r.for_months !== undefined && r.trigger !== 'payment_succeeded') {
        ctx.addIssue({
          code: 'custom',
          path: at('for_months'),
          message: 'works only with payment_succeeded',
        });
      }
      if (r.repeat === 'every_time' && !REPEATABLE_TRIGGERS.has(r.trigger)) {
        ctx.addIssue({
          code: 'custom',
          path: at('repeat'),
          message: `${r.trigger} happens once per referral; every_time needs subscription_activated or payment_succeeded`,
        });
      }
      if (r.option !== undefined && !optionKeys.has(r.option)) {
        ctx.addIssue({
          code: 'custom',
          path: at('option'),
          message: `names no option of this program (options: ${[...optionKeys].join(', ') || 'none'})`,
        });
      }
      if (r.gates.length > 0 && r.recipient !== 'referrer') {
        ctx.addIssue({
          code: 'custom',
          path: at('gates'),
          message: "gates apply to the referrer's rewards only",
        });
      }
    });
  })
  .meta({
    id: 'ProgramDocument',
    title: 'Perks referral program',
    description: 'A referral program: who may refer, how referrals are attributed, and what they earn.',
  });

/** A program as written by its author (optional fields may be absent). */
export type ProgramInput = z.input<typeof programDocument>;
/** A validated program with every default filled in; this is what a version stores. */
export type Program = z.output<typeof programDocument>;

export interface SchemaError {
  path: string;
  message: string;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

type Issue = z.core.$ZodIssue;

/** Flattens union issues to the branch that got furthest, so each error names a real path. */
function flattenIssues(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const depth = (branch: readonly Issue[]) => Math.max(...branch.map((i) => i.path.length));
      const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      return flattenIssues(best, path);
    }
    return [{ ...issue, path } as Issue];
  });
}

/** Every schema error, each named by its path in the document. */
export function schemaErrors(error: z.ZodError): SchemaError[] {
  return flattenIssues(error.issues).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const base = pathText(issue.path);
      return {
        path: issue.keys.map((k) => (base ? `${base}.${k}` : k)).join(', '),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''}`,
      };
    }
    return { path: pathText(issue.path) || '(document)', message: issue.message };
  });
}

export type ParsedProgram = { ok: true; program: Program } | { ok: false; errors: SchemaError[] };

/**
 * Validates a document and fills in defaults, including each reward's `repeat` (every_time for
 * payments, once_per_referral otherwise), so a stored version states every rule explicitly.
 */
export function parseProgram(input: unknown): ParsedProgram {
  const result = programDocument.safeParse(input);
  if (!result.success) return { ok: false, errors: schemaErrors(result.error) };
  const { $schema: _ignored, effective_at: _effective, ...rest } = result.data;
  const program: Program = {
    ...rest,
    rewards: rest.rewards.map((r) => ({ ...r, repeat: rewardRepeat(r) })),
  };
  return { ok: true, program };
}

export function rewardRepeat(r: RewardRule): Repeat {
  return r.repeat ?? (r.trigger === 'payment_succeeded' ? 'every_time' : 'once_per_referral');
}

/** The option a referrer is on when it has not chosen one: the first the program lists. */
export function defaultOption(program: Program): string | null {
  return program.options[0]?.key ?? null;
}

/** The published JSON Schema of the program document (what an author writes). */
export function programJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(programDocument, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
