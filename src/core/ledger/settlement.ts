import { planBurnDown, type Lot, type Take } from './lots.js';

/**
 * Settling an invoice: discount lines come first (the promo-code side computes them), their total
 * reduces what credits may cover, then the customer's money credit in the invoice currency is
 * applied in burn-down order up to the amount still due.
 */
export interface DiscountLine {
  type: 'discount';
  description: string;
  amount_cents: number;
  /** What produced the discount, e.g. a promotion code id. */
  reference: string | null;
}

export interface CreditLot extends Lot {
  asset_id: string;
}

export interface CreditLine {
  type: 'credit';
  asset_id: string;
  amount_cents: number;
}

export interface SettlementPlan {
  discount_cents: number;
  /** What credits were allowed to cover: subtotal - discounts. */
  creditable_cents: number;
  takes: (Take & { asset_id: string })[];
  /** One line per credit asset used, in the order the asset was first drawn on. */
  credit_lines: CreditLine[];
  credit_cents: number;
  amount_due_cents: number;
}

export function planSettlement(input: {
  subtotal_cents: number;
  discounts: readonly DiscountLine[];
  lots: readonly CreditLot[];
  now_ms: number;
}): SettlementPlan {
  const discount_cents = input.discounts.reduce((s, d) => s + d.amount_cents, 0);
  for (const d of input.discounts) {
    if (!Number.isSafeInteger(d.amount_cents) || d.amount_cents <= 0) {
      throw new RangeError(`a discount line must be a positive integer, got ${d.amount_cents}`);
    }
  }
  if (discount_cents > input.subtotal_cents) {
    throw new RangeError(`discounts (${discount_cents}) exceed the subtotal (${input.subtotal_cents})`);
  }
  const creditable_cents = input.subtotal_cents - discount_cents;
  const assetOf = new Map(input.lots.map((l) => [l.id, l.asset_id]));
  const plan = planBurnDown(input.lots, creditable_cents, input.now_ms);
  const takes = plan.takes.map((t) => ({ ...t, asset_id: assetOf.get(t.lot_id)! }));
  const lines = new Map<string, CreditLine>();
  for (const t of takes) {
    const line = lines.get(t.asset_id) ?? { type: 'credit' as const, asset_id: t.asset_id, amount_cents: 0 };
    line.amount_cents += t.amount;
    lines.set(t.asset_id, line);
  }
  return {
    discount_cents,
    creditable_cents,
    takes,
    credit_lines: [...lines.values()],
    credit_cents: plan.taken,
    amount_due_cents: creditable_cents - plan.taken,
  };
}
