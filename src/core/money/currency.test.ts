import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatMoney, minorUnitDigits } from './currency.js';

describe('formatMoney', () => {
  it('writes minor units as the currency reads them', () => {
    assert.equal(formatMoney(300, 'usd'), '3.00 USD');
    assert.equal(formatMoney(5, 'usd'), '0.05 USD');
    assert.equal(formatMoney(0, 'eur'), '0.00 EUR');
    assert.equal(formatMoney(123456789, 'eur'), '1234567.89 EUR');
    assert.equal(formatMoney(500, 'jpy'), '500 JPY');
    assert.equal(formatMoney(1234, 'kwd'), '1.234 KWD');
    assert.equal(formatMoney(-250, 'usd'), '-2.50 USD');
  });

  it('is exact: the text gives back the amount, for every currency', () => {
    const currencies = Intl.supportedValuesOf('currency').map((c) => c.toLowerCase());
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }),
        fc.constantFrom(...currencies),
        (amount, currency) => {
          const [number, code] = formatMoney(amount, currency).split(' ');
          assert.equal(code, currency.toUpperCase());
          const digits = minorUnitDigits(currency);
          assert.equal((number!.split('.')[1] ?? '').length, digits);
          assert.equal(Number(number!.replace('.', '')), amount);
        },
      ),
    );
  });
});
