import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPositiveAmount, MAX_BALANCE_MINOR, sumAmounts } from './amount.js';
import { MAX_AMOUNT_MINOR } from './currency.js';

describe('isPositiveAmount', () => {
  const cases: [string, number, boolean][] = [
    ['one minor unit is accepted', 1, true],
    ['the maximum is accepted', MAX_AMOUNT_MINOR, true],
    ['zero is refused', 0, false],
    ['a negative amount is refused', -5, false],
    ['a fraction is refused', 2.5, false],
    ['one above the maximum is refused', MAX_AMOUNT_MINOR + 1, false],
    ['NaN is refused', Number.NaN, false],
    ['infinity is refused', Number.POSITIVE_INFINITY, false],
  ];
  for (const [label, n, want] of cases) it(label, () => assert.equal(isPositiveAmount(n), want));
});

describe('sumAmounts', () => {
  it('adds exactly', () => assert.equal(sumAmounts([1, 2, 3]), 6));
  it('an empty list sums to zero', () => assert.equal(sumAmounts([]), 0));
  it('fails loudly outside the exact range', () =>
    assert.throws(() => sumAmounts([Number.MAX_SAFE_INTEGER, 1]), RangeError));
  it('the balance limit stays exact', () => assert.ok(Number.isSafeInteger(MAX_BALANCE_MINOR * 8)));
});
