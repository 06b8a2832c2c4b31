/**
 * Reward computation: given a program, a trigger and the facts around it, which rewards are due,
 * to whom, how much and until when; or why a reward that would apply is skipped. No I/O: the use
 * case loads the facts, calls this, and persists each decision under its business key.
 */
import { divideRounded, type RoundingMode } from '../money/rounding.js';
import { applyBasisPoints } from '../money/rounding.js';
import { addCalendarMonths, daysInCalendarMonths } from './calendar.js';
import {
  CALENDAR_MONTHS_PATTERN,
  defaultOption,
  type Program,
  type Recipient,
  type RewardRule,
  rewardRepeat,
  type SchemaError,
  type Trigger,
} from './schema.js';

export interface AssetFacts {
  kind: 'money' | 'units' | 'days';
  currency: string | null;
}

export type BillingInterval = 'month' | 'year';

export interface RewardFacts {
  trigger: Trigger;
  /** When the trigger happened (the event's occurred_at). */
  at: Date;
  /** What makes a repeatable trigger distinct: the payment's or subscription's external id. */
  source_key: string;
  referral: { attributed_at: Date; referrer_id: string; referee_id: string };
  referrer: {
    suspended: boolean;
    contract_signed_at: Date | null;
    /** The option the referrer chose, or null for the program's default. */
    option: string | null;
    current_period_end: Date | null;
  };
  referee: { current_period_end: Date | null };
  payment?:
    | { amount: number; currency: string; interval: BillingInterval | null; period_start: Date | null }
    | undefined;
  subscription?: { plan_units: number | null; interval: BillingInterval | null } | undefined;
  assets: ReadonlyMap<string, AssetFacts>;
}

export const SKIP_REASONS = [
  'contract_not_signed',
  'referrer_suspended',
  'currency_mismatch',
  'plan_units_unknown',
  'interval_unknown',
  'interval_not_rewarded',
  'outside_payment_months',
  'rounds_to_zero',
  'no_billing_period',
  'asset_unusable',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * Skips whose cause a later event of the same trigger can correct: a fact the event did not state
 * (the plan's units, the billing interval) or did not yet hold (a current billing period). Such a
 * skip of a once-per-referral reward is recorded under its event's own source, not the reward's
 * one-time key, so the first later event that supplies the fact can still grant the reward once.
 * Every other skip is final: it is a fact about the referral, the referrer or the program, and a
 * later event would not make the skipped trigger pay.
 */
export const RETRIED_SKIP_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>([
  'plan_units_unknown',
  'interval_unknown',
  'no_billing_period',
]);

/** An expiry resolved for one recipient, in the ledger's terms. */
export type GrantExpiry =
  | { type: 'never' }
  | { type: 'after'; duration: string }
  | { type: 'end_of_billing_period'; period_end: Date };

export interface RewardKey {
  reward_index: number;
  trigger: Trigger;
  recipient: Recipient;
  recipient_customer_id: string;
  asset: string;
  /**
   * '' for once_per_referral rewards: a second subscription or payment finds the key taken. A skip
   * that a later event may correct (RETRIED_SKIP_REASONS) is keyed by its event's source instead.
   */
  source_key: string;
}

export type RewardDecision = RewardKey &
  (
    | { outcome: 'grant'; amount: number; expiry: GrantExpiry }
    | { outcome: 'skip'; reason: SkipReason; message: string }
  );

type Computed = { amount: number } | { reason: SkipReason; message: string };

function skip(reason: SkipReason, message: string): Computed {
  return { reason, message };
}

function computeAmount(rule: RewardRule, facts: RewardFacts, asset: AssetFacts): Computed {
  const mode: RoundingMode = rule.rounding;
  const a = rule.amount;
  switch (a.kind) {
    case 'fixed':
      return { amount: a.value };
    case 'percent_of_payment': {
      const p = facts.payment;
      if (!p) return skip('asset_unusable', 'this reward needs a payment');
      if (asset.kind !== 'money' || asset.currency !== p.currency) {
        return skip(
          'currency_mismatch',
          `the payment is in ${p.currency}; asset '${rule.asset}' holds ${asset.currency ?? asset.kind}`,
        );
      }
      return { amount: applyBasisPoints(p.amount, a.bps, mode) };
    }
    case 'percent_of_plan_units': {
      const units = facts.subscription?.plan_units ?? null;
      if (units === null) return skip('plan_units_unknown', "the referee's plan states no plan_units");
      return { amount: applyBasisPoints(units, a.bps, mode) };
    }
    case 'per_interval': {
      const interval = facts.payment?.interval ?? facts.subscription?.interval ?? null;
      if (interval === null) return skip('interval_unknown', 'the payment states no billing interval');
      const value = a.table[interval];
      if (value === undefined)
        return skip('interval_not_rewarded', `this reward pays nothing for ${interval}ly billing`);
      if (typeof value === 'number') return { amount: value };
      const months = Number(CALENDAR_MONTHS_PATTERN.exec(value)?.[1]);
      if (asset.kind !== 'days') {
        return skip(
          'asset_unusable',
          `'${value}' is counted in days; asset '${rule.asset}' is ${asset.kind}`,
        );
      }
      // A calendar month is counted from the paid period's start, so a yearly payment starting on
      // 15 January gives 31 days and one starting on 1 February gives 28 (29 in a leap year).
      const from = facts.payment?.period_start ?? facts.at;
      return { amount: daysInCalendarMonths(from, months) };
    }
  }
}

function resolveExpiry(rule: RewardRule, periodEnd: Date | null, at: Date): GrantExpiry | Computed {
  switch (rule.expiry.type) {
    case 'never':
      return { type: 'never' };
    case 'after':
      return { type: 'after', duration: rule.expiry.duration };
    case 'end_of_billing_period':
      if (periodEnd === null || periodEnd.getTime() <= at.getTime()) {
        return skip(
          'no_billing_period',
          `the ${rule.recipient} has no current billing period to end the reward at`,
        );
      }
      return { type: 'end_of_billing_period', period_end: periodEnd };
  }
}

/** Whether a reward of the program applies to this referrer's chosen option. */
function optionApplies(program: Program, rule: RewardRule, chosen: string | null): boolean {
  if (rule.option === undefined) return true;
  return rule.option === (chosen ?? defaultOption(program));
}

/**
 * The decisions for one trigger: one per reward of the program with that trigger (and, for
 * alternatives, the referrer's chosen option). Skipped rewards are decisions too, so the reason is
 * recorded and a later replay of the same trigger finds the key taken (see RETRIED_SKIP_REASONS for
 * the skips that leave a once-per-referral reward open to a later event).
 */
export function decideRewards(program: Program, facts: RewardFacts): RewardDecision[] {
  const decisions: RewardDecision[] = [];
  program.rewards.forEach((rule, reward_index) => {
    if (rule.trigger !== facts.trigger) return;
    if (!optionApplies(program, rule, facts.referrer.option)) return;
    const recipient_customer_id =
      rule.recipient === 'referrer' ? facts.referral.referrer_id : facts.referral.referee_id;
    const key: RewardKey = {
      reward_index,
      trigger: rule.trigger,
      recipient: rule.recipient,
      recipient_customer_id,
      asset: rule.asset,
      source_key: rewardRepeat(rule) === 'once_per_referral' ? '' : facts.source_key,
    };
    const skipped = (c: { reason: SkipReason; message: string }) =>
      decisions.push({
        ...key,
        ...(RETRIED_SKIP_REASONS.has(c.reason) ? { source_key: facts.source_key } : {}),
        outcome: 'skip',
        reason: c.reason,
        message: c.message,
      });
    if (rule.recipient === 'referrer' && facts.referrer.suspended) {
      return skipped({ reason: 'referrer_suspended', message: 'the referrer is suspended in this program' });
    }
    for (const gate of rule.gates) {
      if (gate === 'has_signed_contract') {
        const signed = facts.referrer.contract_signed_at;
        if (signed === null || signed.getTime() > facts.at.getTime()) {
          return skipped({
            reason: 'contract_not_signed',
            message: signed
              ? `the payment (${facts.at.toISOString()}) is before the contract was signed (${signed.toISOString()})`
              : 'the referrer has not signed the contract; nothing accrues until it does',
          });
        }
      }
    }
    if (rule.for_months !== undefined) {
      const closes = addCalendarMonths(facts.referral.attributed_at, rule.for_months);
      if (facts.at.getTime() >= closes.getTime()) {
        return skipped({
          reason: 'outside_payment_months',
          message: `only payments in the first ${rule.for_months} months after the referral pay (until ${closes.toISOString()})`,
        });
      }
    }
    const asset = facts.assets.get(rule.asset);
    if (!asset)
      return skipped({ reason: 'asset_unusable', message: `the asset '${rule.asset}' does not exist` });
    const computed = computeAmount(rule, facts, asset);
    if ('reason' in computed) return skipped(computed);
    if (computed.amount <= 0) {
      return skipped({ reason: 'rounds_to_zero', message: `the reward rounds to 0 (${rule.rounding})` });
    }
    const periodEnd =
      rule.recipient === 'referrer' ? facts.referrer.current_period_end : facts.referee.current_period_end;
    const expiry = resolveExpiry(rule, periodEnd, facts.at);
    if ('reason' in expiry) return skipped(expiry);
    decisions.push({ ...key, outcome: 'grant', amount: computed.amount, expiry: expiry as GrantExpiry });
  });
  return decisions;
}

/**
 * How much of a payment-earned reward a refund or dispute takes back, beyond what was already taken.
 * A dispute takes all of it; a refund takes the refunded share of the payment (cumulative refunds
 * included), rounded by the reward's own mode.
 */
export function reversalDue(
  granted: number,
  alreadyReversed: number,
  payment: { status: 'succeeded' | 'refunded' | 'disputed'; amount: number | null; amount_refunded: number },
  mode: RoundingMode,
): number {
  let target = 0;
  if (payment.status === 'disputed') target = granted;
  else if (payment.status === 'refunded') {
    const whole = payment.amount ?? 0;
    const part = Math.min(payment.amount_refunded, whole);
    target =
      whole > 0 && part > 0
        ? Number(divideRounded(BigInt(granted) * BigInt(part), BigInt(whole), mode))
        : granted;
  }
  return Math.max(0, Math.min(granted, target) - alreadyReversed);
}

/**
 * Checks a program against the workspace's ledger assets: each reward names an existing asset whose
 * kind fits the amount. Returned as schema errors so the caller lists them with the others.
 */
export function assetErrors(program: Program, assets: ReadonlyMap<string, AssetFacts>): SchemaError[] {
  const errors: SchemaError[] = [];
  program.rewards.forEach((rule, i) => {
    const asset = assets.get(rule.asset);
    if (!asset) {
      errors.push({
        path: `rewards[${i}].asset`,
        message: `no asset '${rule.asset}' in this workspace (POST /v1/assets)`,
      });
      return;
    }
    const kind = rule.amount.kind;
    if (kind === 'percent_of_payment' && asset.kind !== 'money') {
      errors.push({
        path: `rewards[${i}].asset`,
        message: `a share of a payment is money; '${rule.asset}' is ${asset.kind}`,
      });
    }
    if (kind === 'percent_of_plan_units' && asset.kind === 'money') {
      errors.push({
        path: `rewards[${i}].asset`,
        message: `a share of plan units cannot be paid in money asset '${rule.asset}'`,
      });
    }
    if (kind === 'per_interval') {
      const usesMonths = Object.values(rule.amount.table).some((v) => typeof v === 'string');
      if (usesMonths && asset.kind !== 'days') {
        errors.push({
          path: `rewards[${i}].asset`,
          message: `calendar months are counted in days; '${rule.asset}' is ${asset.kind}`,
        });
      }
    }
  });
  return errors;
}
