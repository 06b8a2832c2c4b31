import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPerksError } from '../errors.js';
import { allowedOutflow, type AssetInput, defineAsset, requireOutflow } from './assets.js';

describe('defineAsset', () => {
  it('money credit: defaults to forgive and no payout minimum', () => {
    const a = defineAsset({ key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit' });
    assert.equal(a.negative_policy, 'forgive');
    assert.equal(a.payout_minimum, null);
    assert.equal(a.unit, null);
  });
  it('commission: the payout minimum defaults to 0', () =>
    assert.equal(
      defineAsset({ key: 'c', kind: 'money', currency: 'usd', purpose: 'commission' }).payout_minimum,
      0,
    ));
  it('units keep their unit', () =>
    assert.equal(
      defineAsset({ key: 'm', kind: 'units', unit: 'minutes', purpose: 'credit' }).unit,
      'minutes',
    ));

  const refused: [string, AssetInput, string, string][] = [
    [
      'money without a currency',
      { key: 'k', kind: 'money', purpose: 'credit' },
      'parameter_missing',
      'currency',
    ],
    [
      'money with an unknown currency',
      { key: 'k', kind: 'money', currency: 'zzz', purpose: 'credit' },
      'parameter_invalid',
      'currency',
    ],
    ['units without a unit', { key: 'k', kind: 'units', purpose: 'credit' }, 'parameter_missing', 'unit'],
    [
      'days with a currency',
      { key: 'k', kind: 'days', currency: 'usd', purpose: 'credit' },
      'parameter_invalid',
      'currency',
    ],
    [
      'money with a unit',
      { key: 'k', kind: 'money', currency: 'usd', unit: 'x', purpose: 'credit' },
      'parameter_invalid',
      'unit',
    ],
    [
      'commission in minutes',
      { key: 'k', kind: 'units', unit: 'minutes', purpose: 'commission' },
      'parameter_invalid',
      'purpose',
    ],
    [
      'a payout minimum on credit',
      { key: 'k', kind: 'money', currency: 'usd', purpose: 'credit', payout_minimum: 5 },
      'parameter_invalid',
      'payout_minimum',
    ],
  ];
  for (const [label, input, code, param] of refused) {
    it(`refuses ${label}`, () =>
      assert.throws(
        () => defineAsset(input),
        (err) => isPerksError(err) && err.code === code && err.param === param,
      ));
  }
});

describe('allowedOutflow', () => {
  const cases: [string, AssetInput, string][] = [
    [
      'money credit is settled against invoices',
      { key: 'k', kind: 'money', currency: 'usd', purpose: 'credit' },
      'settle',
    ],
    ['units credit is consumed', { key: 'k', kind: 'units', unit: 'minutes', purpose: 'credit' }, 'consume'],
    ['days credit is consumed', { key: 'k', kind: 'days', purpose: 'credit' }, 'consume'],
    ['commission is paid out', { key: 'k', kind: 'money', currency: 'usd', purpose: 'commission' }, 'payout'],
  ];
  for (const [label, input, want] of cases)
    it(label, () => assert.equal(allowedOutflow(defineAsset(input)), want));
  it('refuses consuming money credit with asset_not_applicable', () =>
    assert.throws(
      () =>
        requireOutflow(
          defineAsset({ key: 'usd', kind: 'money', currency: 'usd', purpose: 'credit' }),
          'consume',
        ),
      (err) => isPerksError(err) && err.code === 'asset_not_applicable',
    ));
});
