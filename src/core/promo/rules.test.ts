import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkGenerateCount,
  checkTerms,
  type CodeFacts,
  decideRedemption,
  type PromotionFacts,
  type PromotionTerms,
  type RedemptionFacts,
} from './rules.js';

const base: PromotionTerms = {
  percent_off_bps: 2000,
  amount_off: null,
  currency: null,
  max_discount_amount: null,
  duration: 'once',
  duration_periods: null,
  applies_to: null,
  first_time_only: false,
  minimum_amount: null,
  starts_at: null,
  expires_at: null,
  max_redemptions: null,
  max_per_customer: 1,
  stackable: false,
};

describe('checkTerms', () => {
  const refused: [string, Partial<PromotionTerms>, string, string][] = [
    ['neither percent nor amount', { percent_off_bps: null }, 'parameter_missing', 'percent_off_bps'],
    ['both percent and amount', { amount_off: 500, currency: 'usd' }, 'parameter_invalid', 'amount_off'],
    ['percent over 100%', { percent_off_bps: 10_001 }, 'parameter_invalid', 'percent_off_bps'],
    ['percent of zero', { percent_off_bps: 0 }, 'parameter_invalid', 'percent_off_bps'],
    [
      'negative amount',
      { percent_off_bps: null, amount_off: -1, currency: 'usd' },
      'parameter_invalid',
      'amount_off',
    ],
    [
      'amount off without a currency',
      { percent_off_bps: null, amount_off: 500 },
      'parameter_missing',
      'currency',
    ],
    [
      'a cap on an amount off',
      { percent_off_bps: null, amount_off: 500, currency: 'usd', max_discount_amount: 100 },
      'parameter_invalid',
      'max_discount_amount',
    ],
    ['a cap without a currency', { max_discount_amount: 100 }, 'parameter_missing', 'currency'],
    ['a minimum without a currency', { minimum_amount: 1000 }, 'parameter_missing', 'currency'],
    ['repeating without periods', { duration: 'repeating' }, 'parameter_missing', 'duration_periods'],
    [
      'repeating with 0 periods',
      { duration: 'repeating', duration_periods: 0 },
      'parameter_invalid',
      'duration_periods',
    ],
    ['periods on a once promotion', { duration_periods: 3 }, 'parameter_invalid', 'duration_periods'],
    ['an empty plan list', { applies_to: [] }, 'parameter_invalid', 'applies_to'],
    ['a plan listed twice', { applies_to: ['pro', 'pro'] }, 'parameter_invalid', 'applies_to'],
    [
      'expires_at before starts_at',
      { starts_at: new Date('2026-02-01T00:00:00Z'), expires_at: new Date('2026-01-01T00:00:00Z') },
      'parameter_invalid',
      'expires_at',
    ],
    [
      'an empty window (expires_at equal to starts_at)',
      { starts_at: new Date('2026-02-01T00:00:00Z'), expires_at: new Date('2026-02-01T00:00:00Z') },
      'parameter_invalid',
      'expires_at',
    ],
    ['max_per_customer of 0', { max_per_customer: 0 }, 'parameter_invalid', 'max_per_customer'],
    ['max_redemptions of 0', { max_redemptions: 0 }, 'parameter_invalid', 'max_redemptions'],
  ];
  for (const [label, over, code, param] of refused) {
    it(`refuses ${label}`, () => {
      const issue = checkTerms({ ...base, ...over });
      assert.equal(issue?.code, code, JSON.stringify(issue));
      assert.equal(issue?.param, param);
    });
  }
  it('accepts sensible terms', () => {
    assert.equal(checkTerms(base), undefined);
    assert.equal(
      checkTerms({
        ...base,
        duration: 'repeating',
        duration_periods: 3,
        max_discount_amount: 1000,
        currency: 'usd',
      }),
      undefined,
    );
    assert.equal(checkTerms({ ...base, percent_off_bps: null, amount_off: 500, currency: 'usd' }), undefined);
  });
  it('limits a generate count to 1..100000', () => {
    assert.equal(checkGenerateCount(100_000), undefined);
    assert.equal(checkGenerateCount(100_001)?.param, 'count');
    assert.equal(checkGenerateCount(0)?.param, 'count');
  });
});

const now = new Date('2026-06-15T12:00:00Z');
const promotion = (over: Partial<PromotionFacts> = {}): PromotionFacts => ({
  ...base,
  times_redeemed: 0,
  ...over,
});
const code = (over: Partial<CodeFacts> = {}): CodeFacts => ({
  code: 'SUMMER24',
  customer_id: null,
  max_redemptions: null,
  times_redeemed: 0,
  expires_at: null,
  ...over,
});
const facts = (over: Partial<RedemptionFacts> = {}): RedemptionFacts => ({
  now,
  customer_id: 'cus_a',
  customer_uses: 0,
  has_paid: false,
  slot: { kind: 'subscription', active: 0, exclusive: 0, promotion_active: 0 },
  plan: null,
  amount: null,
  currency: null,
  paid_through: null,
  ...over,
});

describe('decideRedemption', () => {
  const rejected: [string, PromotionFacts | undefined, CodeFacts | undefined, RedemptionFacts, string][] = [
    ['an unknown code', undefined, undefined, facts(), 'code_invalid'],
    [
      'a code bound to another customer',
      promotion(),
      code({ customer_id: 'cus_b' }),
      facts(),
      'code_bound_to_other_customer',
    ],
    [
      'before starts_at',
      promotion({ starts_at: new Date('2026-07-01T00:00:00Z') }),
      code(),
      facts(),
      'code_not_yet_active',
    ],
    [
      'at expires_at (the window is half-open)',
      promotion({ expires_at: now }),
      code(),
      facts(),
      'code_expired',
    ],
    [
      "past the code's own expiry",
      promotion(),
      code({ expires_at: new Date('2026-06-01T00:00:00Z') }),
      facts(),
      'code_expired',
    ],
    [
      'a code at its limit',
      promotion(),
      code({ max_redemptions: 5, times_redeemed: 5 }),
      facts(),
      'code_exhausted',
    ],
    [
      'a promotion at its limit',
      promotion({ max_redemptions: 5, times_redeemed: 5 }),
      code(),
      facts(),
      'code_exhausted',
    ],
    [
      'a customer who used it',
      promotion(),
      code(),
      facts({ customer_uses: 1 }),
      'code_already_used_by_customer',
    ],
    [
      'a subscription with a promotion',
      promotion(),
      code(),
      facts({ slot: { kind: 'subscription', active: 1, exclusive: 1, promotion_active: 0 } }),
      'subscription_already_has_promotion',
    ],
    [
      'a stackable one on a subscription with an exclusive one',
      promotion({ stackable: true }),
      code(),
      facts({ slot: { kind: 'subscription', active: 1, exclusive: 1, promotion_active: 0 } }),
      'subscription_already_has_promotion',
    ],
    [
      'an exclusive one on a subscription with a stackable one',
      promotion(),
      code(),
      facts({ slot: { kind: 'subscription', active: 1, exclusive: 0, promotion_active: 0 } }),
      'subscription_already_has_promotion',
    ],
    [
      'a stackable one on a subscription that holds it already (stackable combines with others only)',
      promotion({ stackable: true, max_per_customer: 5 }),
      code(),
      facts({
        customer_uses: 1,
        slot: { kind: 'subscription', active: 1, exclusive: 0, promotion_active: 1 },
      }),
      'subscription_already_has_promotion',
    ],
    [
      'a stackable one the customer holds already without a subscription',
      promotion({ stackable: true, max_per_customer: 5 }),
      code(),
      facts({ customer_uses: 1, slot: { kind: 'customer', active: 1, exclusive: 0, promotion_active: 1 } }),
      'subscription_already_has_promotion',
    ],
    [
      'a customer who has paid, for first-time only',
      promotion({ first_time_only: true }),
      code(),
      facts({ has_paid: true }),
      'not_first_time',
    ],
    [
      'a plan not listed',
      promotion({ applies_to: ['pro'] }),
      code(),
      facts({ plan: 'basic' }),
      'plan_not_eligible',
    ],
    [
      'no plan known, for a plan-limited promotion',
      promotion({ applies_to: ['pro'] }),
      code(),
      facts(),
      'plan_not_eligible',
    ],
    [
      'an amount in another currency',
      promotion({ percent_off_bps: null, amount_off: 500, currency: 'usd' }),
      code(),
      facts({ amount: 1000, currency: 'eur' }),
      'promotion_currency_mismatch',
    ],
    [
      'an amount below the minimum',
      promotion({ minimum_amount: 5000, currency: 'usd' }),
      code(),
      facts({ amount: 4999, currency: 'usd' }),
      'minimum_not_met',
    ],
    [
      'no amount known, for a minimum',
      promotion({ minimum_amount: 5000, currency: 'usd' }),
      code(),
      facts(),
      'minimum_not_met',
    ],
  ];
  it('states a minimum in the currency, not in minor units', () => {
    const d = decideRedemption(
      promotion({ minimum_amount: 5000, currency: 'usd' }),
      code(),
      facts({ amount: 4999, currency: 'usd' }),
    );
    assert.equal(d.ok, false);
    if (!d.ok) assert.equal(d.message, "the amount 49.99 USD is below this promotion's minimum of 50.00 USD");
  });

  for (const [label, p, c, f, reason] of rejected) {
    it(`rejects ${label} with ${reason}`, () => {
      const d = decideRedemption(p, c, f);
      assert.equal(d.ok, false);
      if (!d.ok) assert.equal(d.reason, reason);
    });
  }

  it('accepts at the last instant before expiry and at starts_at', () => {
    assert.equal(
      decideRedemption(promotion({ expires_at: new Date(now.getTime() + 1) }), code(), facts()).ok,
      true,
    );
    assert.equal(decideRedemption(promotion({ starts_at: now }), code(), facts()).ok, true);
  });

  it('names the promotion a slot already holds as this one, for a subscription and for a customer', () => {
    for (const [kind, text] of [
      ['subscription', /^this subscription already has this promotion; stackable promotions combine/],
      ['customer', /^this customer already has this promotion waiting for its next invoice/],
    ] as const) {
      const d = decideRedemption(
        promotion({ stackable: true, max_per_customer: 5 }),
        code(),
        facts({ customer_uses: 1, slot: { kind, active: 1, exclusive: 0, promotion_active: 1 } }),
      );
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.message, text, kind);
    }
  });

  it('accepts stackable promotions together', () => {
    const d = decideRedemption(
      promotion({ stackable: true }),
      code(),
      facts({ slot: { kind: 'subscription', active: 2, exclusive: 0, promotion_active: 0 } }),
    );
    assert.equal(d.ok, true);
  });

  it('accepts the bound customer, a listed plan and an amount at the minimum, and previews the discount', () => {
    const d = decideRedemption(
      promotion({ applies_to: ['pro'], minimum_amount: 2900, currency: 'usd', max_discount_amount: 400 }),
      code({ customer_id: 'cus_a' }),
      facts({ plan: 'pro', amount: 2900, currency: 'usd' }),
    );
    assert.deepEqual(d, {
      ok: true,
      periods_total: 1,
      applies_from: null,
      preview: { amount: 2900, currency: 'usd', amount_off: 400, amount_due: 2500 },
    });
  });

  it('starts the discount with the next period when the current one is paid', () => {
    const paidThrough = new Date('2026-07-01T00:00:00Z');
    const d = decideRedemption(
      promotion({ duration: 'repeating', duration_periods: 3 }),
      code(),
      facts({ paid_through: paidThrough }),
    );
    assert.ok(d.ok);
    if (d.ok) {
      assert.equal(d.applies_from, paidThrough);
      assert.equal(d.periods_total, 3);
    }
    const stale = decideRedemption(
      promotion(),
      code(),
      facts({ paid_through: new Date('2026-06-01T00:00:00Z') }),
    );
    assert.ok(
      stale.ok && stale.applies_from === null,
      'a paid period that has ended does not delay anything',
    );
  });

  it('checks in a fixed order: expiry is reported before exhaustion and before the customer limit', () => {
    const d = decideRedemption(
      promotion({ expires_at: new Date('2026-01-01T00:00:00Z') }),
      code({ max_redemptions: 1, times_redeemed: 1 }),
      facts({ customer_uses: 1 }),
    );
    assert.ok(!d.ok && d.reason === 'code_expired');
  });
});
