import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type DiscountTerms,
  describeTerms,
  discountOn,
  formatPercent,
  periodsFor,
  planInvoiceDiscounts,
  type ScheduledRedemption,
} from './discount.js';

const percent = (bps: number, cap: number | null = null, currency: string | null = null): DiscountTerms => ({
  percent_off_bps: bps,
  amount_off: null,
  currency: cap === null ? currency : (currency ?? 'usd'),
  max_discount_amount: cap,
});
const fixed = (amount: number, currency = 'usd'): DiscountTerms => ({
  percent_off_bps: null,
  amount_off: amount,
  currency,
  max_discount_amount: null,
});

describe('discountOn', () => {
  const cases: [string, DiscountTerms, number, string, number | undefined][] = [
    ['20% of 2900', percent(2000), 2900, 'usd', 580],
    ['25% of 90 rounds half-even to 22 (22.5 -> even)', percent(2500), 90, 'usd', 22],
    ['25% of 94 rounds half-even to 24 (23.5 -> even)', percent(2500), 94, 'usd', 24],
    ['33.33% of 100 is 33', percent(3333), 100, 'usd', 33],
    ['100% takes everything', percent(10_000), 4999, 'usd', 4999],
    ['1 bp of 1 cent rounds to 0', percent(1), 1, 'usd', 0],
    ['a cap holds a percentage', percent(5000, 1000), 10_000, 'usd', 1000],
    ['under the cap the percentage stands', percent(5000, 1000), 1000, 'usd', 500],
    [
      'a capped percentage in another currency does not apply',
      percent(5000, 1000, 'usd'),
      1000,
      'eur',
      undefined,
    ],
    ['a percentage without a currency applies to any', percent(1000), 1000, 'jpy', 100],
    ['a fixed amount', fixed(500), 2900, 'usd', 500],
    ['a fixed amount never exceeds what is due (never below zero)', fixed(5000), 2900, 'usd', 2900],
    ['a fixed amount in another currency does not apply', fixed(500, 'eur'), 2900, 'usd', undefined],
    ['nothing due, nothing off', fixed(500), 0, 'usd', 0],
  ];
  for (const [label, terms, due, currency, expected] of cases) {
    it(label, () => assert.equal(discountOn(terms, due, currency), expected));
  }
});

describe('periodsFor and formatPercent', () => {
  it('once is one invoice, repeating is N, forever is unbounded', () => {
    assert.equal(periodsFor('once', null), 1);
    assert.equal(periodsFor('repeating', 3), 3);
    assert.equal(periodsFor('forever', null), null);
  });
  it('formats basis points', () => {
    assert.equal(formatPercent(2000), '20%');
    assert.equal(formatPercent(1250), '12.5%');
    assert.equal(formatPercent(1), '0.01%');
    assert.equal(formatPercent(10_000), '100%');
  });
});

const redemption = (
  over: Partial<ScheduledRedemption> & { id: string; terms: DiscountTerms },
): ScheduledRedemption => ({
  promotion_id: `promo_${over.id}`,
  code: over.id.toUpperCase(),
  periods_total: 1,
  periods_applied: 0,
  applies_from: null,
  ...over,
});
const invoice = (subtotal: number, at = '2026-02-01T00:00:00Z', currency = 'usd') => ({
  subtotal_cents: subtotal,
  currency,
  effective_at: new Date(at),
});

describe('planInvoiceDiscounts', () => {
  it('stacks on what is still due, oldest first, and never goes below zero', () => {
    const planned = planInvoiceDiscounts(
      [
        redemption({ id: 'a', terms: fixed(2000) }),
        redemption({ id: 'b', terms: percent(5000) }),
        redemption({ id: 'c', terms: fixed(1000) }),
      ],
      invoice(2900),
    );
    assert.deepEqual(
      planned.map((p) => [p.redemption_id, p.amount_cents]),
      [
        ['a', 2000],
        ['b', 450],
        ['c', 450],
      ],
    );
    assert.equal(
      planned.reduce((s, p) => s + p.amount_cents, 0),
      2900,
    );
  });

  it('stops once nothing is due: a later redemption keeps its period', () => {
    const planned = planInvoiceDiscounts(
      [redemption({ id: 'a', terms: percent(10_000) }), redemption({ id: 'b', terms: fixed(100) })],
      invoice(2900),
    );
    assert.deepEqual(
      planned.map((p) => p.redemption_id),
      ['a'],
    );
  });

  it('counts a repeating schedule and marks the last period', () => {
    const r = (applied: number) =>
      planInvoiceDiscounts(
        [redemption({ id: 'r', terms: percent(1000), periods_total: 3, periods_applied: applied })],
        invoice(1000),
      );
    assert.deepEqual(
      r(0).map((p) => [p.period_number, p.completes]),
      [[1, false]],
    );
    assert.deepEqual(
      r(2).map((p) => [p.period_number, p.completes]),
      [[3, true]],
    );
    assert.deepEqual(r(3), [], 'a used-up schedule gives nothing');
    assert.match(r(1)[0]!.description, /R: 10% off \(invoice 2 of 3\)/);
  });

  it('describes amounts as people read them, not in minor units', () => {
    assert.equal(describeTerms(fixed(300)), '3.00 USD off');
    assert.equal(describeTerms(fixed(500, 'jpy')), '500 JPY off');
    assert.equal(describeTerms(percent(2000, 5000)), '20% off (at most 50.00 USD)');
    assert.equal(describeTerms(percent(1250)), '12.5% off');
  });

  it('forever never completes', () => {
    const [p] = planInvoiceDiscounts(
      [redemption({ id: 'f', terms: fixed(100), periods_total: null, periods_applied: 500 })],
      invoice(1000),
    );
    assert.equal(p?.completes, false);
    assert.equal(p?.period_number, 501);
  });

  it('skips an invoice for a period before applies_from (the current period was already paid)', () => {
    const r = redemption({ id: 'n', terms: fixed(500), applies_from: new Date('2026-02-01T00:00:00Z') });
    assert.deepEqual(planInvoiceDiscounts([r], invoice(2900, '2026-01-15T00:00:00Z')), []);
    assert.equal(planInvoiceDiscounts([r], invoice(2900, '2026-02-01T00:00:00Z'))[0]?.amount_cents, 500);
  });

  it('skips a redemption in another currency and lets the next apply', () => {
    const planned = planInvoiceDiscounts(
      [redemption({ id: 'eur', terms: fixed(500, 'eur') }), redemption({ id: 'usd', terms: fixed(300) })],
      invoice(2900),
    );
    assert.deepEqual(
      planned.map((p) => p.redemption_id),
      ['usd'],
    );
  });

  it('gives nothing on a zero invoice, so no period is used', () => {
    assert.deepEqual(planInvoiceDiscounts([redemption({ id: 'z', terms: fixed(500) })], invoice(0)), []);
  });

  it('skips a discount that rounds to nothing, keeping its period, and lets the next apply', () => {
    // 10% of 4 cents is 0.4, rounded to 0; after 995 off 1000, 5% of the 5 left is 0.25, also 0.
    assert.deepEqual(planInvoiceDiscounts([redemption({ id: 'p', terms: percent(1000) })], invoice(4)), []);
    const planned = planInvoiceDiscounts(
      [
        redemption({ id: 'a', terms: fixed(995) }),
        redemption({ id: 'b', terms: percent(500) }),
        redemption({ id: 'c', terms: fixed(3) }),
      ],
      invoice(1000),
    );
    assert.deepEqual(
      planned.map((p) => [p.redemption_id, p.amount_cents]),
      [
        ['a', 995],
        ['c', 3],
      ],
    );
  });

  it('plans only positive whole lines that never exceed the subtotal (property)', () => {
    const terms = fc.oneof(
      fc
        .record({
          bps: fc.integer({ min: 1, max: 10_000 }),
          cap: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: null }),
        })
        .map(({ bps, cap }) => percent(bps, cap)),
      fc.integer({ min: 0, max: 5_000 }).map((amount) => fixed(amount)),
    );
    fc.assert(
      fc.property(fc.array(terms, { maxLength: 6 }), fc.integer({ min: 0, max: 10_000 }), (all, subtotal) => {
        const planned = planInvoiceDiscounts(
          all.map((t, i) => redemption({ id: `r${i}`, terms: t, periods_total: null })),
          invoice(subtotal),
        );
        for (const p of planned)
          assert.ok(Number.isInteger(p.amount_cents) && p.amount_cents > 0, String(p.amount_cents));
        assert.ok(planned.reduce((s, p) => s + p.amount_cents, 0) <= subtotal);
      }),
    );
  });
});
