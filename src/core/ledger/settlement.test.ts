import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CreditLot, type DiscountLine, planSettlement } from './settlement.js';

const lot = (
  id: string,
  asset_id: string,
  remaining: number,
  expires_at_ms: number | null,
  granted_at_ms = 0,
): CreditLot => ({
  id,
  asset_id,
  remaining,
  expires_at_ms,
  granted_at_ms,
});
const discount = (amount_cents: number): DiscountLine => ({
  type: 'discount',
  description: 'promo',
  amount_cents,
  reference: 'promo_1',
});

describe('planSettlement', () => {
  it('no credit: the whole subtotal is due', () => {
    const p = planSettlement({ subtotal_cents: 5000, discounts: [], lots: [], now_ms: 0 });
    assert.equal(p.amount_due_cents, 5000);
    assert.deepEqual(p.takes, []);
  });
  it('credit smaller than the subtotal: all of it is applied, oldest first', () => {
    const p = planSettlement({
      subtotal_cents: 5000,
      discounts: [],
      lots: [lot('b', 'usd', 1000, null, 2), lot('a', 'usd', 1500, null, 1)],
      now_ms: 0,
    });
    assert.deepEqual(
      p.takes.map((t) => [t.lot_id, t.amount]),
      [
        ['a', 1500],
        ['b', 1000],
      ],
    );
    assert.equal(p.credit_cents, 2500);
    assert.equal(p.amount_due_cents, 2500);
  });
  it('credit larger than the subtotal: only what is due is applied', () => {
    const p = planSettlement({
      subtotal_cents: 1200,
      discounts: [],
      lots: [lot('a', 'usd', 2500, null)],
      now_ms: 0,
    });
    assert.equal(p.credit_cents, 1200);
    assert.equal(p.amount_due_cents, 0);
  });
  it('discounts come first and reduce what credit may cover', () => {
    const p = planSettlement({
      subtotal_cents: 5000,
      discounts: [discount(1000), discount(500)],
      lots: [lot('a', 'usd', 10_000, null)],
      now_ms: 0,
    });
    assert.equal(p.discount_cents, 1500);
    assert.equal(p.creditable_cents, 3500);
    assert.equal(p.credit_cents, 3500);
    assert.equal(p.amount_due_cents, 0);
  });
  it('one credit line per asset, in the order the assets were first drawn on', () => {
    const p = planSettlement({
      subtotal_cents: 5000,
      discounts: [],
      lots: [lot('x', 'promo', 100, 50), lot('y', 'usd', 200, null), lot('z', 'promo', 300, 60)],
      now_ms: 0,
    });
    assert.deepEqual(p.credit_lines, [
      { type: 'credit', asset_id: 'promo', amount_cents: 400 },
      { type: 'credit', asset_id: 'usd', amount_cents: 200 },
    ]);
  });
  it('a zero subtotal applies nothing', () => {
    const p = planSettlement({
      subtotal_cents: 0,
      discounts: [],
      lots: [lot('a', 'usd', 10, null)],
      now_ms: 0,
    });
    assert.deepEqual(p.takes, []);
    assert.equal(p.amount_due_cents, 0);
  });
  it('refuses discounts above the subtotal (a bug on the discount side)', () =>
    assert.throws(
      () => planSettlement({ subtotal_cents: 100, discounts: [discount(101)], lots: [], now_ms: 0 }),
      RangeError,
    ));
  it('refuses a non-positive discount line', () =>
    assert.throws(
      () => planSettlement({ subtotal_cents: 100, discounts: [discount(0)], lots: [], now_ms: 0 }),
      RangeError,
    ));
});
