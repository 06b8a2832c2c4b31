import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyBasisPoints, divideRounded, type RoundingMode } from './rounding.js';

describe('divideRounded', () => {
  const cases: [string, bigint, bigint, RoundingMode, bigint][] = [
    ['exact division is unchanged', 10n, 5n, 'half_even', 2n],
    ['half-even: 2.5 goes down to 2', 5n, 2n, 'half_even', 2n],
    ['half-even: 3.5 goes up to 4', 7n, 2n, 'half_even', 4n],
    ['half-even: 2.6 goes up to 3', 13n, 5n, 'half_even', 3n],
    ['half-even: -2.5 goes to -2', -5n, 2n, 'half_even', -2n],
    ['half-up: 2.5 goes to 3', 5n, 2n, 'half_up', 3n],
    ['half-up: -2.5 goes to -3 (away from zero)', -5n, 2n, 'half_up', -3n],
    ['half-up: 2.4 goes to 2', 12n, 5n, 'half_up', 2n],
    ['down: 2.9 goes to 2', 29n, 10n, 'down', 2n],
    ['down: -2.9 goes to -2 (toward zero)', -29n, 10n, 'down', -2n],
    ['up: 2.1 goes to 3', 21n, 10n, 'up', 3n],
    ['up: -2.1 goes to -3 (away from zero)', -21n, 10n, 'up', -3n],
    ['a negative denominator flips the sign', 5n, -2n, 'half_even', -2n],
  ];
  for (const [label, n, d, mode, want] of cases) {
    it(label, () => assert.equal(divideRounded(n, d, mode), want));
  }
  it('refuses division by zero', () => assert.throws(() => divideRounded(1n, 0n, 'down'), RangeError));
});

describe('applyBasisPoints', () => {
  const cases: [string, number, number, RoundingMode | undefined, number][] = [
    ['25% of 90 minutes is 22 (half-even)', 90, 2500, undefined, 22],
    ['25% of 90 minutes is 23 under half-up', 90, 2500, 'half_up', 23],
    ['10% commission of 19,900 cents is 1,990', 19_900, 1000, undefined, 1990],
    ['0.4 cents stays 0', 4, 1000, undefined, 0],
    ['0.5 cents rounds to the even 0', 5, 1000, undefined, 0],
    ['1.5 cents rounds to the even 2', 15, 1000, undefined, 2],
    ['100% is the amount itself', 1_000_000_000_000, 10_000, undefined, 1_000_000_000_000],
  ];
  for (const [label, amount, bps, mode, want] of cases) {
    it(label, () => assert.equal(applyBasisPoints(amount, bps, mode), want));
  }
  it('refuses a fractional amount or basis point', () => {
    assert.throws(() => applyBasisPoints(1.5, 100), RangeError);
    assert.throws(() => applyBasisPoints(100, 0.5), RangeError);
  });
});
