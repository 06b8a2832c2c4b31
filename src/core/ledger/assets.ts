import { PerksError } from '../errors.js';
import { isKnownCurrency, MAX_AMOUNT_MINOR } from '../money/currency.js';
import type { NegativePolicy } from './inflow.js';

/**
 * An asset is one kind of value a customer can hold: money (a currency, in minor units), units (a
 * named unit such as minutes) or days. Its purpose says how it leaves the account: `credit` is spent
 * (against invoices for money, by consumption for units and days), `commission` is money owed to the
 * customer and leaves by payout. Assets never mix in one balance.
 */
export type AssetKind = 'money' | 'units' | 'days';
export type AssetPurpose = 'credit' | 'commission';

export interface AssetDefinition {
  key: string;
  kind: AssetKind;
  currency: string | null;
  unit: string | null;
  purpose: AssetPurpose;
  negative_policy: NegativePolicy;
  payout_minimum: number | null;
}

export interface AssetInput {
  key: string;
  kind: AssetKind;
  currency?: string | null | undefined;
  unit?: string | null | undefined;
  purpose: AssetPurpose;
  negative_policy?: NegativePolicy | undefined;
  payout_minimum?: number | null | undefined;
}

/** Checks the combination of fields and returns the normalised definition. */
export function defineAsset(input: AssetInput): AssetDefinition {
  const currency = input.currency ?? null;
  const unit = input.unit ?? null;
  if (input.kind === 'money') {
    if (currency === null)
      throw new PerksError('parameter_missing', "'currency' is required for a money asset", 'currency');
    if (!isKnownCurrency(currency)) {
      throw new PerksError('parameter_invalid', `'${currency}' is not a known ISO 4217 currency`, 'currency');
    }
  } else if (currency !== null) {
    throw new PerksError(
      'parameter_invalid',
      `'currency' applies to money assets only, not ${input.kind}`,
      'currency',
    );
  }
  if (input.kind === 'units') {
    if (unit === null)
      throw new PerksError('parameter_missing', "'unit' is required for a units asset, e.g. minutes", 'unit');
  } else if (unit !== null) {
    throw new PerksError(
      'parameter_invalid',
      `'unit' applies to units assets only, not ${input.kind}`,
      'unit',
    );
  }
  if (input.purpose === 'commission' && input.kind !== 'money') {
    throw new PerksError(
      'parameter_invalid',
      'a commission asset is money owed to the customer: its kind must be money',
      'purpose',
    );
  }
  let payout_minimum: number | null = null;
  if (input.purpose === 'commission') {
    payout_minimum = input.payout_minimum ?? 0;
    if (!Number.isSafeInteger(payout_minimum) || payout_minimum < 0 || payout_minimum > MAX_AMOUNT_MINOR) {
      throw new PerksError(
        'parameter_invalid',
        `'payout_minimum' must be an integer from 0 to ${MAX_AMOUNT_MINOR}`,
        'payout_minimum',
      );
    }
  } else if (input.payout_minimum !== undefined && input.payout_minimum !== null) {
    throw new PerksError(
      'parameter_invalid',
      "'payout_minimum' applies to commission assets only",
      'payout_minimum',
    );
  }
  return {
    key: input.key,
    kind: input.kind,
    currency,
    unit,
    purpose: input.purpose,
    negative_policy: input.negative_policy ?? 'forgive',
    payout_minimum,
  };
}

export function sameDefinition(a: AssetDefinition, b: AssetDefinition): boolean {
  return (
    a.key === b.key &&
    a.kind === b.kind &&
    a.currency === b.currency &&
    a.unit === b.unit &&
    a.purpose === b.purpose &&
    a.negative_policy === b.negative_policy &&
    a.payout_minimum === b.payout_minimum
  );
}

/** Which operation may move value out of an asset, by kind and purpose. */
export type Outflow = 'consume' | 'settle' | 'payout';

export function allowedOutflow(asset: Pick<AssetDefinition, 'kind' | 'purpose'>): Outflow {
  if (asset.purpose === 'commission') return 'payout';
  return asset.kind === 'money' ? 'settle' : 'consume';
}

export function requireOutflow(asset: AssetDefinition, wanted: Outflow, param = 'asset'): void {
  const allowed = allowedOutflow(asset);
  if (allowed === wanted) return;
  const how: Record<Outflow, string> = {
    consume: 'consumed (units and days credit)',
    settle: 'applied to invoices (money credit)',
    payout: 'paid out (commission)',
  };
  throw new PerksError(
    'asset_not_applicable',
    `asset '${asset.key}' is ${asset.kind} ${asset.purpose}: it can only be ${how[allowed]}, not ${how[wanted].split(' (')[0]}`,
    param,
  );
}
