import { formatMoney } from '../money/currency.js';
import { applyBasisPoints } from '../money/rounding.js';

/**
 * What a promotion takes off one invoice. Percentages are basis points of the amount still due,
 * rounded half-even (the project's default mode), then held to the cap; a fixed amount never takes
 * more than is due. Nothing here goes below zero.
 */

export type Duration = 'once' | 'repeating' | 'forever';

export interface DiscountTerms {
  percent_off_bps: number | null;
  amount_off: number | null;
  /** Required for amount_off; when set on a percentage, the promotion applies to this currency only. */
  currency: string | null;
  /** The most a percentage may take off one invoice, in `currency`. */
  max_discount_amount: number | null;
}

/** True when the promotion can discount an amount in `currency`. */
export function appliesToCurrency(terms: DiscountTerms, currency: string): boolean {
  return terms.currency === null || terms.currency === currency;
}

/**
 * The discount on `due` minor units of `currency`, or undefined when the promotion is in another
 * currency. The result is between 0 and `due`.
 */
export function discountOn(terms: DiscountTerms, due: number, currency: string): number | undefined {
  if (!appliesToCurrency(terms, currency)) return undefined;
  if (due <= 0) return 0;
  if (terms.amount_off !== null) return Math.min(terms.amount_off, due);
  const bps = terms.percent_off_bps ?? 0;
  let off = applyBasisPoints(due, bps, 'half_even');
  if (terms.max_discount_amount !== null) off = Math.min(off, terms.max_discount_amount);
  return Math.min(off, due);
}

/** How many invoices a redemption discounts: 1, N, or null for every invoice. */
export function periodsFor(duration: Duration, durationPeriods: number | null): number | null {
  if (duration === 'once') return 1;
  if (duration === 'repeating') return durationPeriods;
  return null;
}

/** `2000` -> `20%`, `1250` -> `12.5%`. */
export function formatPercent(bps: number): string {
  const whole = Math.trunc(bps / 100);
  const fraction = bps % 100;
  if (fraction === 0) return `${whole}%`;
  return `${whole}.${String(fraction).padStart(2, '0').replace(/0$/, '')}%`;
}

/** `3.00 USD off`, `20% off (at most 50.00 USD)`: the text of an invoice's discount line. */
export function describeTerms(terms: DiscountTerms): string {
  // A fixed amount and a cap always come with their currency (the API refuses them without).
  if (terms.amount_off !== null) return `${formatMoney(terms.amount_off, terms.currency!)} off`;
  const cap =
    terms.max_discount_amount !== null
      ? ` (at most ${formatMoney(terms.max_discount_amount, terms.currency!)})`
      : '';
  return `${formatPercent(terms.percent_off_bps ?? 0)} off${cap}`;
}

/** A redemption that may discount an invoice, with how much of its schedule is used. */
export interface ScheduledRedemption {
  id: string;
  promotion_id: string;
  code: string;
  terms: DiscountTerms;
  /** Invoices it discounts in all; null for every invoice (duration forever). */
  periods_total: number | null;
  /** Invoices it has already discounted (voided invoices excluded). */
  periods_applied: number;
  /**
   * The first instant an invoice period may start for the discount to apply, or null for the next
   * invoice whatever its period. Set when the code was redeemed after the current period was paid.
   */
  applies_from: Date | null;
}

export interface InvoiceFacts {
  subtotal_cents: number;
  currency: string;
  /** The start of the period the invoice bills; the settlement time when the invoice names none. */
  effective_at: Date;
}

export interface PlannedDiscount {
  redemption_id: string;
  promotion_id: string;
  code: string;
  amount_cents: number;
  /** 1 for the first invoice the redemption discounts. */
  period_number: number;
  /** True when this invoice uses the last period of the schedule. */
  completes: boolean;
  description: string;
}

/**
 * The discounts on one invoice, from redemptions given oldest first. Each is computed on what is
 * still due after the ones before it, so together they never exceed the subtotal. A redemption is
 * skipped (and keeps its periods) when its schedule is used up, when the invoice bills a period before
 * its `applies_from`, when it is in another currency, or when it would take nothing (nothing is left
 * due, or its percentage of what is due rounds to zero: 10% of 4 cents).
 */
export function planInvoiceDiscounts(
  redemptions: readonly ScheduledRedemption[],
  invoice: InvoiceFacts,
): PlannedDiscount[] {
  const out: PlannedDiscount[] = [];
  let due = invoice.subtotal_cents;
  for (const r of redemptions) {
    if (due <= 0) break;
    if (r.periods_total !== null && r.periods_applied >= r.periods_total) continue;
    if (r.applies_from !== null && invoice.effective_at.getTime() < r.applies_from.getTime()) continue;
    const amount = discountOn(r.terms, due, invoice.currency);
    if (amount === undefined || amount === 0) continue;
    const period = r.periods_applied + 1;
    const schedule = r.periods_total === null ? '' : ` (invoice ${period} of ${r.periods_total})`;
    out.push({
      redemption_id: r.id,
      promotion_id: r.promotion_id,
      code: r.code,
      amount_cents: amount,
      period_number: period,
      completes: r.periods_total !== null && period >= r.periods_total,
      description: `${r.code}: ${describeTerms(r.terms)}${schedule}`,
    });
    due -= amount;
  }
  return out;
}
