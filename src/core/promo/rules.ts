import type { ErrorCode } from '../errors.js';
import { formatMoney, MAX_AMOUNT_MINOR } from '../money/currency.js';
import { type DiscountTerms, discountOn, type Duration, periodsFor } from './discount.js';
import { GENERATE_MAX_COUNT } from './generate.js';
import { isWithin } from './time.js';

/**
 * The rules of a promotion, decided without I/O: whether its terms make sense when it is created, and
 * whether a code may be redeemed now by a customer for a subscription. The use case loads the facts,
 * asks these functions, and the database then enforces the limits again in the same transaction
 * (conditional updates), because facts read a moment ago may already be stale under concurrency.
 */

export const MAX_PERCENT_BPS = 10_000;
export const MAX_DURATION_PERIODS = 1_200;
export const MAX_PER_CUSTOMER_LIMIT = 1_000;
export const MAX_APPLIES_TO = 100;

export interface PromotionTerms extends DiscountTerms {
  duration: Duration;
  duration_periods: number | null;
  applies_to: readonly string[] | null;
  first_time_only: boolean;
  minimum_amount: number | null;
  starts_at: Date | null;
  expires_at: Date | null;
  max_redemptions: number | null;
  max_per_customer: number;
  stackable: boolean;
}

export interface TermsIssue {
  code: Extract<ErrorCode, 'parameter_missing' | 'parameter_invalid'>;
  param: string;
  message: string;
}

/** Cross-field checks on a new promotion; the first issue found, or undefined when the terms hold. */
export function checkTerms(t: PromotionTerms): TermsIssue | undefined {
  const invalid = (param: string, message: string): TermsIssue => ({
    code: 'parameter_invalid',
    param,
    message,
  });
  const missing = (param: string, message: string): TermsIssue => ({
    code: 'parameter_missing',
    param,
    message,
  });
  if (t.percent_off_bps === null && t.amount_off === null) {
    return missing('percent_off_bps', 'give percent_off_bps (1 to 10000 basis points) or amount_off');
  }
  if (t.percent_off_bps !== null && t.amount_off !== null) {
    return invalid('amount_off', 'give percent_off_bps or amount_off, not both');
  }
  if (t.percent_off_bps !== null && (t.percent_off_bps < 1 || t.percent_off_bps > MAX_PERCENT_BPS)) {
    return invalid('percent_off_bps', `must be from 1 to ${MAX_PERCENT_BPS} basis points (100%)`);
  }
  if (t.amount_off !== null && t.amount_off <= 0)
    return invalid('amount_off', `must be from 1 to ${MAX_AMOUNT_MINOR}`);
  if (t.amount_off !== null && t.currency === null) {
    return missing('currency', 'amount_off needs the currency it is in');
  }
  if (t.max_discount_amount !== null) {
    if (t.percent_off_bps === null) {
      return invalid(
        'max_discount_amount',
        'a cap applies to percent_off_bps only; amount_off is its own cap',
      );
    }
    if (t.max_discount_amount <= 0)
      return invalid('max_discount_amount', `must be from 1 to ${MAX_AMOUNT_MINOR}`);
    if (t.currency === null) return missing('currency', 'max_discount_amount needs the currency it is in');
  }
  if (t.minimum_amount !== null) {
    if (t.minimum_amount < 0) return invalid('minimum_amount', `must be from 0 to ${MAX_AMOUNT_MINOR}`);
    if (t.currency === null) return missing('currency', 'minimum_amount needs the currency it is in');
  }
  if (t.duration === 'repeating') {
    if (t.duration_periods === null) {
      return missing('duration_periods', 'a repeating promotion needs duration_periods (billing periods)');
    }
    if (t.duration_periods < 1 || t.duration_periods > MAX_DURATION_PERIODS) {
      return invalid('duration_periods', `must be from 1 to ${MAX_DURATION_PERIODS}`);
    }
  } else if (t.duration_periods !== null) {
    return invalid(
      'duration_periods',
      `only a repeating promotion has duration_periods, not '${t.duration}'`,
    );
  }
  if (t.applies_to !== null) {
    if (t.applies_to.length === 0 || t.applies_to.length > MAX_APPLIES_TO) {
      return invalid('applies_to', `must list 1 to ${MAX_APPLIES_TO} plan ids (omit it for every plan)`);
    }
    if (new Set(t.applies_to).size !== t.applies_to.length) {
      return invalid('applies_to', 'must not list a plan twice');
    }
  }
  if (t.starts_at !== null && t.expires_at !== null && t.expires_at.getTime() <= t.starts_at.getTime()) {
    return invalid(
      'expires_at',
      `must be after starts_at (${t.starts_at.toISOString()}); the window is [starts_at, expires_at)`,
    );
  }
  if (t.max_redemptions !== null && t.max_redemptions < 1) {
    return invalid('max_redemptions', 'must be at least 1');
  }
  if (t.max_per_customer < 1 || t.max_per_customer > MAX_PER_CUSTOMER_LIMIT) {
    return invalid('max_per_customer', `must be from 1 to ${MAX_PER_CUSTOMER_LIMIT}`);
  }
  return undefined;
}

export interface CodeLimits {
  max_redemptions: number | null;
  expires_at: Date | null;
}

/** Checks a code's own limits against its promotion's. */
export function checkCodeLimits(promotion: PromotionTerms, code: CodeLimits): TermsIssue | undefined {
  if (code.max_redemptions !== null && (code.max_redemptions < 1 || code.max_redemptions > 1e12)) {
    return { code: 'parameter_invalid', param: 'max_redemptions', message: 'must be at least 1' };
  }
  if (
    code.expires_at !== null &&
    promotion.starts_at !== null &&
    code.expires_at.getTime() <= promotion.starts_at.getTime()
  ) {
    return {
      code: 'parameter_invalid',
      param: 'expires_at',
      message: `must be after the promotion's starts_at (${promotion.starts_at.toISOString()})`,
    };
  }
  return undefined;
}

export function checkGenerateCount(count: number): TermsIssue | undefined {
  if (!Number.isInteger(count) || count < 1 || count > GENERATE_MAX_COUNT) {
    return { code: 'parameter_invalid', param: 'count', message: `must be from 1 to ${GENERATE_MAX_COUNT}` };
  }
  return undefined;
}

/** Why a code cannot be redeemed: each is an error code of its own. */
export type Rejection = Extract<
  ErrorCode,
  | 'code_invalid'
  | 'code_expired'
  | 'code_not_yet_active'
  | 'code_exhausted'
  | 'code_already_used_by_customer'
  | 'subscription_already_has_promotion'
  | 'not_first_time'
  | 'minimum_not_met'
  | 'plan_not_eligible'
  | 'code_bound_to_other_customer'
  | 'promotion_currency_mismatch'
>;

export const REJECTIONS: readonly Rejection[] = [
  'code_invalid',
  'code_expired',
  'code_not_yet_active',
  'code_exhausted',
  'code_already_used_by_customer',
  'subscription_already_has_promotion',
  'not_first_time',
  'minimum_not_met',
  'plan_not_eligible',
  'code_bound_to_other_customer',
  'promotion_currency_mismatch',
];

export function isRejection(code: string): code is Rejection {
  return (REJECTIONS as readonly string[]).includes(code);
}

/** The one answer for unknown and malformed codes alike, so neither can be told from the other. */
export const CODE_INVALID_MESSAGE = 'this code is not valid';

export interface CodeFacts {
  /** The normalised code. */
  code: string;
  /** The customer the code is bound to, if any. */
  customer_id: string | null;
  max_redemptions: number | null;
  times_redeemed: number;
  expires_at: Date | null;
}

export interface PromotionFacts extends PromotionTerms {
  /** Redemptions counted against max_redemptions (kept only when max_redemptions is set). */
  times_redeemed: number;
}

/**
 * The key of the one-promotion slot a redemption takes: its subscription's, by the caller's id, or the
 * customer's own when it names none. Stored on redemptions, promotion_slots and
 * promotion_slot_promotions.
 */
export function slotKey(subscriptionRef: string | null, customerId: string): string {
  return subscriptionRef === null ? `cus:${customerId}` : `sub:${subscriptionRef}`;
}

/** The refusal of a slot that already holds a promotion one of the two does not share. */
export function slotTakenMessage(kind: SlotFacts['kind']): string {
  return kind === 'subscription'
    ? 'this subscription already has a promotion; only stackable promotions combine'
    : 'this customer already has a promotion waiting for its next invoice; only stackable promotions combine';
}

/** Whose slot a key (from `slotKey`) names. */
export function slotKind(key: string): SlotFacts['kind'] {
  return key.startsWith('cus:') ? 'customer' : 'subscription';
}

/** What a subscription already carries, through its promotion slot. */
export interface SlotFacts {
  /** A subscription's slot, or the customer's for redemptions that name no subscription. */
  kind: 'subscription' | 'customer';
  /** Active redemptions on the subscription. */
  active: number;
  /** Active redemptions that are not stackable. */
  exclusive: number;
  /** Active redemptions of this very promotion (stackable or not): a slot holds a promotion once. */
  promotion_active: number;
}

/**
 * The refusal of a promotion the slot already holds. Stackable promotions combine with other
 * promotions; max_per_customer above 1 is for the customer's other (or later) subscriptions.
 */
export function promotionHeldMessage(kind: SlotFacts['kind']): string {
  return kind === 'subscription'
    ? 'this subscription already has this promotion; stackable promotions combine with other promotions, not with themselves'
    : 'this customer already has this promotion waiting for its next invoice; stackable promotions combine with other promotions, not with themselves';
}

export interface RedemptionFacts {
  now: Date;
  customer_id: string;
  /** Active redemptions of this promotion by this customer. */
  customer_uses: number;
  /** The customer has a succeeded payment. */
  has_paid: boolean;
  slot: SlotFacts;
  /** The plan named in the request, else the subscription's, else null. */
  plan: string | null;
  /** The amount to check the minimum against and to preview: the request's, else the subscription's. */
  amount: number | null;
  currency: string | null;
  /** The end of the last paid period of the subscription, when it is known. */
  paid_through: Date | null;
}

export interface Accepted {
  ok: true;
  /** Invoices it will discount; null for every invoice. */
  periods_total: number | null;
  /**
   * Set when the subscription has already paid its current period: the discount starts with the
   * first invoice for a period starting at or after this instant ("credited to the next debit").
   */
  applies_from: Date | null;
  /** The discount on `amount`, when an amount is known and in the promotion's currency. */
  preview: { amount: number; currency: string; amount_off: number; amount_due: number } | null;
}

export interface Rejected {
  ok: false;
  reason: Rejection;
  message: string;
  details?: Record<string, unknown>;
}

/** The instant a code stops being valid: the earlier of its own and its promotion's expiry. */
export function effectiveExpiry(promotion: PromotionTerms, code: CodeFacts): Date | null {
  const a = promotion.expires_at;
  const b = code.expires_at;
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

/** `1 redemption`, `100 redemptions`: a limit as a message states it. */
export function redemptions(n: number): string {
  return `${n} redemption${n === 1 ? '' : 's'}`;
}

/**
 * Decides a redemption of `code` (undefined when no such code exists or the text was malformed). The
 * checks run in a fixed order, and the first that fails is the answer.
 */
export function decideRedemption(
  promotion: PromotionFacts | undefined,
  code: CodeFacts | undefined,
  f: RedemptionFacts,
): Accepted | Rejected {
  const reject = (reason: Rejection, message: string, details?: Record<string, unknown>): Rejected =>
    details ? { ok: false, reason, message, details } : { ok: false, reason, message };
  if (!promotion || !code) return reject('code_invalid', CODE_INVALID_MESSAGE);
  if (code.customer_id !== null && code.customer_id !== f.customer_id) {
    return reject('code_bound_to_other_customer', 'this code is reserved for another customer');
  }
  const expiresAt = effectiveExpiry(promotion, code);
  if (promotion.starts_at !== null && f.now.getTime() < promotion.starts_at.getTime()) {
    return reject('code_not_yet_active', `this code is valid from ${promotion.starts_at.toISOString()}`, {
      starts_at: promotion.starts_at.toISOString(),
    });
  }
  if (!isWithin(f.now, null, expiresAt)) {
    return reject('code_expired', `this code expired at ${expiresAt?.toISOString()}`, {
      expires_at: expiresAt?.toISOString(),
    });
  }
  if (code.max_redemptions !== null && code.times_redeemed >= code.max_redemptions) {
    return reject(
      'code_exhausted',
      `this code has reached its limit of ${redemptions(code.max_redemptions)}`,
      {
        max_redemptions: code.max_redemptions,
      },
    );
  }
  if (promotion.max_redemptions !== null && promotion.times_redeemed >= promotion.max_redemptions) {
    return reject(
      'code_exhausted',
      `this promotion has reached its limit of ${redemptions(promotion.max_redemptions)}`,
      { max_redemptions: promotion.max_redemptions },
    );
  }
  if (f.customer_uses >= promotion.max_per_customer) {
    return reject(
      'code_already_used_by_customer',
      promotion.max_per_customer === 1
        ? 'this customer has already used this promotion'
        : `this customer has already used this promotion ${promotion.max_per_customer} times, its limit`,
      { max_per_customer: promotion.max_per_customer },
    );
  }
  if (f.slot.promotion_active > 0) {
    return reject('subscription_already_has_promotion', promotionHeldMessage(f.slot.kind));
  }
  if (f.slot.exclusive > 0 || (!promotion.stackable && f.slot.active > 0)) {
    return reject('subscription_already_has_promotion', slotTakenMessage(f.slot.kind));
  }
  if (promotion.first_time_only && f.has_paid) {
    return reject('not_first_time', 'this promotion is for customers who have never paid');
  }
  if (promotion.applies_to !== null) {
    if (f.plan === null) {
      return reject(
        'plan_not_eligible',
        `this promotion applies only to plans ${promotion.applies_to.join(', ')}; send plan or a subscription with a known plan`,
        { applies_to: promotion.applies_to },
      );
    }
    if (!promotion.applies_to.includes(f.plan)) {
      return reject(
        'plan_not_eligible',
        `plan '${f.plan}' is not eligible; this promotion applies only to plans ${promotion.applies_to.join(', ')}`,
        { applies_to: promotion.applies_to },
      );
    }
  }
  if (promotion.currency !== null && f.currency !== null && f.currency !== promotion.currency) {
    return reject(
      'promotion_currency_mismatch',
      `this promotion is in ${promotion.currency}; the amount is in ${f.currency}`,
      { currency: promotion.currency },
    );
  }
  if (promotion.minimum_amount !== null) {
    if (f.amount === null) {
      return reject(
        'minimum_not_met',
        `this promotion needs an amount of at least ${formatMoney(promotion.minimum_amount, promotion.currency!)}; send amount or a subscription with a known amount`,
        { minimum_amount: promotion.minimum_amount },
      );
    }
    if (f.amount < promotion.minimum_amount) {
      return reject(
        'minimum_not_met',
        `the amount ${formatMoney(f.amount, promotion.currency!)} is below this promotion's minimum of ${formatMoney(promotion.minimum_amount, promotion.currency!)}`,
        { minimum_amount: promotion.minimum_amount },
      );
    }
  }
  const currency = f.currency ?? promotion.currency;
  let preview: Accepted['preview'] = null;
  if (f.amount !== null && currency !== null) {
    const off = discountOn(promotion, f.amount, currency);
    if (off !== undefined) {
      preview = { amount: f.amount, currency, amount_off: off, amount_due: f.amount - off };
    }
  }
  const paidAhead = f.paid_through !== null && f.paid_through.getTime() > f.now.getTime();
  return {
    ok: true,
    periods_total: periodsFor(promotion.duration, promotion.duration_periods),
    applies_from: paidAhead ? f.paid_through : null,
    preview,
  };
}
