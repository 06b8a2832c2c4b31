/**
 * Who may refer, and whether an attempt to attribute a referral is accepted: referrer eligibility,
 * when a code is accepted, the link window, the referee rules and the fraud rules that can be decided
 * from facts. The rules that are limits (a customer referred once, a card backing one referral, the
 * per-referrer cap) are returned as claims: the use case makes each claim with a unique index or a
 * conditional update in the same transaction, so two concurrent attempts cannot both pass.
 */
import { addDays } from './calendar.js';
import type { CapPeriod, Eligibility, Program } from './schema.js';

export const REJECTION_REASONS = [
  'method_not_allowed',
  'code_not_accepted_now',
  'attribution_window_expired',
  'referrer_suspended',
  'referrer_not_eligible',
  'self_referral',
  'sub_account',
  'not_new_account',
  'not_first_card',
  'already_referred',
  'card_already_used',
  'referrer_cap_reached',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  reason: RejectionReason;
  message: string;
  details?: Record<string, unknown>;
}

export interface ReferrerEligibilityFacts {
  has_card: boolean;
  has_paid_subscription: boolean;
}

export type EligibilityResult =
  { eligible: true } | { eligible: false; unmet: Exclude<Eligibility, 'any'>; message: string };

export function referrerEligibility(program: Program, facts: ReferrerEligibilityFacts): EligibilityResult {
  switch (program.referrer.eligibility) {
    case 'any':
      return { eligible: true };
    case 'card_on_file':
      return facts.has_card
        ? { eligible: true }
        : {
            eligible: false,
            unmet: 'card_on_file',
            message: 'a card must be on file to get a referral code',
          };
    case 'paid_subscription':
      return facts.has_paid_subscription
        ? { eligible: true }
        : {
            eligible: false,
            unmet: 'paid_subscription',
            message: 'only customers with an active paid subscription get a referral code',
          };
  }
}

/**
 * Where the attempt comes from: a customer.created or card.attached event, the API, or a support
 * repair (`manual`), which is not bound to the moment a code may be entered.
 */
export type AttributionContext = 'signup' | 'card_attached' | 'api' | 'manual';
export type AttributionMethod = 'code' | 'link' | 'manual';

export interface CustomerFacts {
  id: string;
  parent_id: string | null;
  /** Card fingerprints the customer has (for the referee: including one attached by this event). */
  fingerprints: readonly string[];
}

export interface AttributionInput {
  context: AttributionContext;
  method: AttributionMethod;
  /** When the referral is attributed. */
  at: Date;
  /** The link click's time, for method `link`. */
  clicked_at?: Date | undefined;
  referrer: CustomerFacts & ReferrerEligibilityFacts & { suspended: boolean };
  referee: CustomerFacts & {
    created_at: Date;
    /** A subscription or a payment of the referee dated before `at`. */
    billed_before: boolean;
    /** Another referrer already holds a referral of this referee in the program. */
    already_referred: boolean;
    /** For context card_attached: the card this event attached, and whether it is the first. */
    card_attached?: { fingerprint: string; first: boolean } | undefined;
  };
}

export type Claim =
  | { kind: 'referee_once' }
  | { kind: 'card'; fingerprint: string }
  | { kind: 'cap'; count: number; period: CapPeriod; period_start: Date };

export type AttributionDecision = { ok: true; claims: Claim[] } | { ok: false; rejection: Rejection };

const reject = (reason: RejectionReason, message: string, details?: Record<string, unknown>) =>
  ({ ok: false, rejection: { reason, message, ...(details ? { details } : {}) } }) as const;

/** The start of the cap period holding `at`, in UTC (weeks start on Monday). */
export function capPeriodStart(period: CapPeriod, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (period) {
    case 'day':
      return new Date(Date.UTC(y, m, d));
    case 'week': {
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d - sinceMonday));
    }
    case 'month':
      return new Date(Date.UTC(y, m, 1));
    case 'year':
      return new Date(Date.UTC(y, 0, 1));
    case 'all_time':
      return new Date(0);
  }
}

function codeAcceptedNow(program: Program, input: AttributionInput): Rejection | undefined {
  const accepted = program.attribution.code_accepted;
  if (accepted === 'at_any_time' || input.context === 'manual') return undefined;
  if (accepted === 'at_signup') {
    if (input.context === 'signup') return undefined;
    if (input.context === 'api' && isNewAccount(program, input)) return undefined;
    // Through the API, "at signup" means a new account; when the program also requires one, the
    // more precise reason is recorded by that rule.
    if (input.context === 'api' && program.referee.new_accounts_only) return undefined;
    return {
      reason: 'code_not_accepted_now',
      message: 'this program accepts a code only at signup',
      details: { code_accepted: accepted },
    };
  }
  // at_first_card: with the first card itself, or before any card (the card then qualifies it).
  if (input.context === 'card_attached' && input.referee.card_attached?.first) return undefined;
  if (input.context === 'api' && input.referee.fingerprints.length === 0) return undefined;
  if (input.context === 'signup' && input.referee.fingerprints.length === 0) return undefined;
  return {
    reason: input.context === 'card_attached' ? 'not_first_card' : 'code_not_accepted_now',
    message: 'this program accepts a code only with the first card',
    details: { code_accepted: accepted },
  };
}

function isNewAccount(program: Program, input: AttributionInput): boolean {
  const grace_ms = program.referee.new_account_grace_minutes * 60_000;
  return !input.referee.billed_before && input.at.getTime() - input.referee.created_at.getTime() <= grace_ms;
}

/**
 * Decides an attribution attempt from facts. Rules are checked in a fixed order and the first that
 * fails is the recorded reason: the method, then who is involved (already referred, self-referral,
 * sub-account), then the moment (when a code is accepted, the link window), the referrer (suspended,
 * eligible), and last the referee's history (new account, first card).
 */
export function decideAttribution(program: Program, input: AttributionInput): AttributionDecision {
  const { referrer, referee } = input;
  if (input.method !== 'manual' && !program.attribution.methods.includes(input.method)) {
    return reject('method_not_allowed', `this program does not accept referrals by ${input.method}`, {
      methods: program.attribution.methods,
    });
  }
  if (program.fraud.referred_once && referee.already_referred) {
    return { ok: false, rejection: rejectionForClaim({ kind: 'referee_once' }) };
  }
  if (program.fraud.self_referral && referee.id === referrer.id) {
    return reject('self_referral', 'a customer cannot refer itself');
  }
  if (program.referee.separate_account && referee.parent_id !== null && referee.parent_id === referrer.id) {
    return reject('sub_account', 'a sub-account of the referrer is not a referral');
  }
  if (program.fraud.self_referral) {
    const sameAccount =
      (referee.parent_id !== null && referee.parent_id === referrer.parent_id) ||
      referrer.parent_id === referee.id ||
      referee.parent_id === referrer.id;
    if (sameAccount)
      return reject('self_referral', 'the referee belongs to the same account as the referrer');
    const shared = sharedFingerprint(referrer.fingerprints, referee.fingerprints);
    if (shared)
      return reject('self_referral', 'the referee uses a card the referrer has', { fingerprint: shared });
  }
  if (input.method === 'code') {
    const problem = codeAcceptedNow(program, input);
    if (problem) return { ok: false, rejection: problem };
  }
  if (input.method === 'link') {
    const clicked = input.clicked_at ?? input.at;
    const closes = addDays(clicked, program.attribution.link_window_days);
    if (input.at.getTime() >= closes.getTime()) {
      return reject(
        'attribution_window_expired',
        `the link was clicked more than ${program.attribution.link_window_days} days before attribution`,
        { clicked_at: clicked.toISOString(), window_closed_at: closes.toISOString() },
      );
    }
  }
  if (referrer.suspended) return reject('referrer_suspended', 'the referrer is suspended in this program');
  const eligibility = referrerEligibility(program, referrer);
  if (!eligibility.eligible) {
    return reject('referrer_not_eligible', eligibility.message, { unmet: eligibility.unmet });
  }
  if (program.referee.new_accounts_only && input.context !== 'manual' && !isNewAccount(program, input)) {
    return reject(
      'not_new_account',
      input.referee.billed_before
        ? 'the referee had a subscription or payment before the referral'
        : `the referee's account existed more than ${program.referee.new_account_grace_minutes} minutes before the referral`,
    );
  }
  if (program.referee.first_card_only && input.context !== 'manual') {
    const notFirst =
      input.context === 'card_attached'
        ? input.referee.card_attached?.first === false
        : input.referee.fingerprints.length > 0;
    if (notFirst)
      return reject('not_first_card', 'the referee already had a card; only the first card counts');
  }
  return { ok: true, claims: claimsFor(program, input) };
}

function sharedFingerprint(a: readonly string[], b: readonly string[]): string | undefined {
  const mine = new Set(a);
  return b.find((f) => mine.has(f));
}

function claimsFor(program: Program, input: AttributionInput): Claim[] {
  const claims: Claim[] = [];
  if (program.fraud.referred_once) claims.push({ kind: 'referee_once' });
  if (program.fraud.card_once_per_program) {
    for (const fingerprint of new Set(input.referee.fingerprints)) claims.push({ kind: 'card', fingerprint });
  }
  const cap = program.fraud.max_referrals_per_referrer;
  if (cap) {
    claims.push({
      kind: 'cap',
      count: cap.count,
      period: cap.period,
      period_start: capPeriodStart(cap.period, input.at),
    });
  }
  return claims;
}

/** The reason recorded when the store refuses a claim. */
export function rejectionForClaim(claim: Claim): Rejection {
  switch (claim.kind) {
    case 'referee_once':
      return { reason: 'already_referred', message: 'this customer was already referred in this program' };
    case 'card':
      return {
        reason: 'card_already_used',
        message: 'this card already backed a referral in this program',
        details: { fingerprint: claim.fingerprint },
      };
    case 'cap':
      return {
        reason: 'referrer_cap_reached',
        message: `the referrer reached the limit of ${claim.count} referrals per ${claim.period.replace('_', ' ')}`,
        details: { limit: claim.count, period: claim.period, period_start: claim.period_start.toISOString() },
      };
  }
}

/**
 * A card attached to a referee after attribution, before its referral is rewarded, is checked again:
 * the referrer's own card makes it a self-referral, and a card that backed another referral is reuse.
 */
export function decideLaterCard(
  program: Program,
  referrerFingerprints: readonly string[],
  fingerprint: string,
): { ok: true; claims: Claim[] } | { ok: false; rejection: Rejection } {
  if (program.fraud.self_referral && referrerFingerprints.includes(fingerprint)) {
    return reject('self_referral', 'the referee uses a card the referrer has', { fingerprint });
  }
  return { ok: true, claims: program.fraud.card_once_per_program ? [{ kind: 'card', fingerprint }] : [] };
}
