import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { burnDownOrder, compareBurnDown, isExpired, type Lot, openTotal, planBurnDown } from './lots.js';

const lot = (id: string, remaining: number, expires_at_ms: number | null, granted_at_ms = 0): Lot => ({
  id,
  remaining,
  expires_at_ms,
  granted_at_ms,
});

describe('burn-down order', () => {
  const cases: [string, Lot[], string[]][] = [
    ['earliest expiry first', [lot('b', 1, 200), lot('a', 1, 100)], ['a', 'b']],
    ['a lot that never expires goes last', [lot('a', 1, null), lot('b', 1, 999)], ['b', 'a']],
    ['same expiry: the oldest grant first', [lot('a', 1, 100, 50), lot('b', 1, 100, 10)], ['b', 'a']],
    ['never expiring: the oldest grant first', [lot('a', 1, null, 50), lot('b', 1, null, 10)], ['b', 'a']],
    [
      'same expiry and grant time: by id',
      [lot('lot_2', 1, 100, 10), lot('lot_1', 1, 100, 10)],
      ['lot_1', 'lot_2'],
    ],
    ['ids compare by code unit, not locale (Z before a)', [lot('a', 1, null), lot('Z', 1, null)], ['Z', 'a']],
    ['expiry beats age', [lot('old', 1, 300, 0), lot('young', 1, 100, 99)], ['young', 'old']],
    ['empty and expired lots are left out', [lot('e', 0, null), lot('x', 5, 10), lot('k', 1, null)], ['k']],
  ];
  for (const [label, lots, want] of cases) {
    it(label, () =>
      assert.deepEqual(
        burnDownOrder(lots, 50).map((l) => l.id),
        want,
      ),
    );
  }
  it('is a total order: no two distinct lots compare equal', () => {
    assert.notEqual(compareBurnDown(lot('a', 1, 5, 5), lot('b', 1, 5, 5)), 0);
  });
});

describe('isExpired', () => {
  const cases: [string, number | null, number, boolean][] = [
    ['before expires_at it is valid', 100, 99, false],
    ['at expires_at it is expired (half-open interval)', 100, 100, true],
    ['after expires_at it is expired', 100, 101, true],
    ['never expires', null, Number.MAX_SAFE_INTEGER, false],
  ];
  for (const [label, at, now, want] of cases)
    it(label, () => assert.equal(isExpired({ expires_at_ms: at }, now), want));
});

describe('planBurnDown', () => {
  const lots = [lot('never', 50, null, 0), lot('soon', 10, 100, 5), lot('later', 20, 200, 1)];
  const cases: [string, number, number, { lot_id: string; amount: number }[], number][] = [
    [
      'takes from the earliest expiry only when it covers the amount',
      5,
      0,
      [{ lot_id: 'soon', amount: 5 }],
      0,
    ],
    [
      'spills into the next lot, one take per lot touched',
      25,
      0,
      [
        { lot_id: 'soon', amount: 10 },
        { lot_id: 'later', amount: 15 },
      ],
      0,
    ],
    [
      'takes everything and reports the shortfall',
      100,
      0,
      [
        { lot_id: 'soon', amount: 10 },
        { lot_id: 'later', amount: 20 },
        { lot_id: 'never', amount: 50 },
      ],
      20,
    ],
    ['skips a lot that has expired by now', 15, 100, [{ lot_id: 'later', amount: 15 }], 0],
    ['zero takes nothing', 0, 0, [], 0],
  ];
  for (const [label, amount, now, takes, shortfall] of cases) {
    it(label, () => {
      const plan = planBurnDown(lots, amount, now);
      assert.deepEqual(plan.takes, takes);
      assert.equal(plan.shortfall, shortfall);
      assert.equal(plan.taken, amount - shortfall);
    });
  }
  it('refuses a negative or fractional amount', () => {
    assert.throws(() => planBurnDown(lots, -1, 0), RangeError);
    assert.throws(() => planBurnDown(lots, 1.5, 0), RangeError);
  });
  it('openTotal counts open, unexpired lots only', () => {
    assert.equal(openTotal(lots, 0), 80);
    assert.equal(openTotal(lots, 150), 70);
    assert.equal(openTotal(lots, 250), 50);
  });
});
