import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NegativePolicy } from './inflow.js';
import type { Lot } from './lots.js';
import { type GrantLot, planReversal, type ReversalPlan } from './reversal.js';

const g = (id: string, remaining: number, expired_amount = 0): GrantLot => ({
  id,
  remaining,
  expired_amount,
  expires_at_ms: null,
  granted_at_ms: 0,
});
const other = (id: string, remaining: number, expires_at_ms: number | null = null): Lot => ({
  id,
  remaining,
  expires_at_ms,
  granted_at_ms: 1,
});

describe('planReversal', () => {
  const cases: [string, number, GrantLot[], Lot[], NegativePolicy, Partial<ReversalPlan>][] = [
    [
      'unspent grant: all of it is reversed at once, nothing spent',
      100,
      [g('L', 100)],
      [],
      'forgive',
      { unspent_amount: 100, spent_amount: 0, forgiven: 0, debt_added: 0 },
    ],
    [
      'forgive: the spent part is forgiven',
      100,
      [g('L', 40)],
      [other('M', 500)],
      'forgive',
      {
        unspent: [{ lot_id: 'L', amount: 40 }],
        unspent_amount: 40,
        spent_amount: 60,
        forgiven: 60,
        from_other_lots: [],
      },
    ],
    [
      'allow_negative: the spent part comes from other lots in burn-down order',
      100,
      [g('L', 40)],
      [other('never', 500), other('soon', 20, 1000)],
      'allow_negative',
      {
        spent_amount: 60,
        from_other_lots: [
          { lot_id: 'soon', amount: 20 },
          { lot_id: 'never', amount: 40 },
        ],
        debt_added: 0,
      },
    ],
    [
      'allow_negative: what other lots cannot cover becomes debt',
      100,
      [g('L', 0)],
      [other('M', 30)],
      'allow_negative',
      { spent_amount: 100, from_other_lots: [{ lot_id: 'M', amount: 30 }], debt_added: 70 },
    ],
    [
      'expired part is neither unspent nor spent',
      100,
      [g('L', 0, 70)],
      [],
      'allow_negative',
      { unspent_amount: 0, spent_amount: 30, debt_added: 30 },
    ],
    [
      'credit given back from the grant counts as unspent',
      100,
      [g('L', 40), g('L2', 60)],
      [],
      'allow_negative',
      { unspent_amount: 100, spent_amount: 0, debt_added: 0 },
    ],
  ];
  for (const [label, granted, grantLots, others, policy, want] of cases) {
    it(label, () => {
      const plan = planReversal({ granted, grant_lots: grantLots, other_lots: others, policy, now_ms: 0 });
      for (const [k, v] of Object.entries(want)) assert.deepEqual(plan[k as keyof ReversalPlan], v, k);
    });
  }
  it('refuses accounting where more is left than was granted', () =>
    assert.throws(
      () =>
        planReversal({ granted: 10, grant_lots: [g('L', 20)], other_lots: [], policy: 'forgive', now_ms: 0 }),
      RangeError,
    ));
});
