import { formatAmount } from '../../components/ui';
import type { Promotion } from './types';

export const money = (amount: number, currency: string | null) =>
  currency ? formatAmount(amount, { kind: 'money', currency }) : `${amount} (minor units)`;

/** "20% off (at most $50.00)", "$5.00 off". */
export function discountText(p: Promotion): string {
  if (p.percent_off_bps !== null) {
    const pct = `${(p.percent_off_bps / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })}% off`;
    return p.max_discount_amount !== null
      ? `${pct} (at most ${money(p.max_discount_amount, p.currency)})`
      : pct;
  }
  return `${money(p.amount_off ?? 0, p.currency)} off`;
}

/** "once", "3 billing periods", "forever". */
export function durationText(p: Promotion): string {
  if (p.duration === 'repeating') {
    const n = p.duration_periods ?? 0;
    return `${n} billing period${n === 1 ? '' : 's'}`;
  }
  return p.duration;
}

/** Times redeemed, with the limit when there is one. */
export function usageText(used: number, max: number | null): string {
  return max === null
    ? used.toLocaleString('en-US')
    : `${used.toLocaleString('en-US')} / ${max.toLocaleString('en-US')}`;
}

/**
 * Where `now` stands against the promotion's window [starts_at, expires_at): "expired", "not yet
 * active", or null while codes can be redeemed (as far as the dates go).
 */
export function windowState(
  p: Pick<Promotion, 'starts_at' | 'expires_at'>,
  now: number,
): 'expired' | 'not yet active' | null {
  if (p.expires_at !== null && Date.parse(p.expires_at) <= now) return 'expired';
  if (p.starts_at !== null && Date.parse(p.starts_at) > now) return 'not yet active';
  return null;
}

/** A batch id short enough for a table column: its last characters, where batch ids differ. */
export function shortBatchId(id: string): string {
  const cut = id.lastIndexOf('_') + 1;
  return id.length - cut > 8 ? `${id.slice(0, cut)}…${id.slice(-6)}` : id;
}
