/**
 * What the end customer reads in the referral widget: amounts in the program's words ("$50 in
 * credits", "90 bonus minutes", "12 free days"), what is missing to get a code, and whether a
 * commission balance can be withdrawn. Pure, so the server and its tests say the same thing.
 */
import type { AssetKind, AssetPurpose } from '../ledger/assets.js';
import { minorUnitDigits } from '../money/currency.js';
import type { Eligibility } from './schema.js';

export interface WordedAsset {
  kind: AssetKind;
  purpose: AssetPurpose;
  currency: string | null;
  unit: string | null;
}

/** Whole amounts drop the minor digits ("$50"), others keep them all ("$3.90"). */
function money(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  const scale = 10 ** digits;
  const whole = amount % scale === 0;
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: whole ? 0 : digits,
    maximumFractionDigits: digits,
  }).format(amount / scale);
}

/** "minutes" for many, "minute" for one; a unit without a plural `s` is kept as it is. */
function unitFor(count: number, unit: string): string {
  return count === 1 && unit.length > 1 && unit.endsWith('s') ? unit.slice(0, -1) : unit;
}

const count = (n: number) => n.toLocaleString('en-US');

/** The bare amount: "$3.90", "90 bonus minutes", "12 free days". */
export function amountWords(asset: WordedAsset, amount: number): string {
  switch (asset.kind) {
    case 'money':
      return money(amount, asset.currency ?? 'usd');
    case 'units':
      return `${count(amount)} bonus ${unitFor(amount, asset.unit ?? 'units')}`;
    case 'days':
      return `${count(amount)} free ${amount === 1 ? 'day' : 'days'}`;
  }
}

/** A reward as a sentence fragment: "$50 in credits", "$3.90 in commission", "12 free days". */
export function rewardWords(asset: WordedAsset, amount: number): string {
  const bare = amountWords(asset, amount);
  if (asset.kind !== 'money') return bare;
  return asset.purpose === 'commission' ? `${bare} in commission` : `${bare} in credits`;
}

/**
 * What an ineligible customer has to do, naming what it would get: a program that spreads by link
 * promises the link, a code-only program the code.
 */
export function eligibilityHint(
  unmet: Exclude<Eligibility, 'any'>,
  methods: readonly ('code' | 'link')[],
): string {
  const thing = methods.includes('link') ? 'link' : 'code';
  switch (unmet) {
    case 'card_on_file':
      return `Add a card to get your referral ${thing}.`;
    case 'paid_subscription':
      return `Subscribe to a paid plan to get your referral ${thing}.`;
  }
}

export type Withdrawal =
  | { allowed: true; message: string }
  | { allowed: false; reason: 'nothing_to_withdraw' | 'below_minimum'; message: string };

/**
 * Whether the available commission can be withdrawn now: there must be something, and at least the
 * asset's minimum (the payout request checks the same minimum again, under the account lock).
 */
export function withdrawal(asset: WordedAsset, available: number, minimum: number): Withdrawal {
  const has = amountWords(asset, available);
  if (available <= 0) {
    return {
      allowed: false,
      reason: 'nothing_to_withdraw',
      message:
        minimum > 0
          ? `Nothing to withdraw yet. Withdrawals open at ${amountWords(asset, minimum)}.`
          : 'Nothing to withdraw yet.',
    };
  }
  if (available < minimum) {
    return {
      allowed: false,
      reason: 'below_minimum',
      message: `Withdrawals open at ${amountWords(asset, minimum)}; you have ${has}.`,
    };
  }
  return { allowed: true, message: `You can withdraw ${has}.` };
}
