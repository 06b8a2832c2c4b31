import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NegativePolicy, planInflow, planRestore } from './inflow.js';

describe('planInflow', () => {
  const cases: [string, number, number, number, number][] = [
    ['no debt: the lot keeps everything', 100, 0, 0, 100],
    ['debt smaller than the inflow is repaid first', 100, 30, 30, 70],
    ['debt larger than the inflow takes all of it', 100, 250, 100, 0],
    ['debt equal to the inflow takes all of it', 40, 40, 40, 0],
  ];
  for (const [label, amount, debt, repaid, remaining] of cases) {
    it(label, () => assert.deepEqual(planInflow(amount, debt), { repaid, remaining }));
  }
  it('refuses a zero inflow or negative debt', () => {
    assert.throws(() => planInflow(0, 0), RangeError);
    assert.throws(() => planInflow(5, -1), RangeError);
  });
});

describe('planRestore', () => {
  const cases: [
    string,
    number,
    number,
    boolean,
    NegativePolicy,
    { repaid: number; remaining: number; clawed_back: number },
  ][] = [
    ['a live grant comes back whole', 60, 0, false, 'forgive', { repaid: 0, remaining: 60, clawed_back: 0 }],
    [
      'a reversed grant under forgive is clawed back at once',
      60,
      0,
      true,
      'forgive',
      { repaid: 0, remaining: 0, clawed_back: 60 },
    ],
    [
      'a reversed grant under allow_negative repays the debt first',
      60,
      70,
      true,
      'allow_negative',
      { repaid: 60, remaining: 0, clawed_back: 0 },
    ],
    [
      'under allow_negative the rest after debt is the customer’s',
      100,
      70,
      true,
      'allow_negative',
      { repaid: 70, remaining: 30, clawed_back: 0 },
    ],
  ];
  for (const [label, amount, debt, reversed, policy, want] of cases) {
    it(label, () => assert.deepEqual(planRestore(amount, debt, reversed, policy), want));
  }
});
