import { openTotal, planBurnDown, type Lot, type Take } from './lots.js';
import type { NegativePolicy } from './inflow.js';

/** A lot of the grant being reversed: the grant's own lot and any lots given back from it later. */
export interface GrantLot extends Lot {
  expired_amount: number;
}

export interface ReversalPlan {
  /** The grant's unspent remainder, reversed at once, one take per lot. */
  unspent: Take[];
  unspent_amount: number;
  /** granted - unspent - expired: what the customer used (consumed, applied, held, paid out). */
  spent_amount: number;
  /** allow_negative: the spent part taken back from the customer's other lots, in burn-down order. */
  from_other_lots: Take[];
  /** allow_negative: what the other lots could not cover; the balance goes below zero by this much. */
  debt_added: number;
  /** forgive: the spent part the customer keeps. */
  forgiven: number;
}

/**
 * Splits a grant's reversal into its unspent part (reversed now) and its spent part, which follows
 * the asset's policy: `allow_negative` takes it back from the other lots and leaves the rest as debt
 * that future inflows repay first; `forgive` lets the customer keep it.
 */
export function planReversal(input: {
  granted: number;
  grant_lots: readonly GrantLot[];
  other_lots: readonly Lot[];
  policy: NegativePolicy;
  now_ms: number;
}): ReversalPlan {
  const unspent = input.grant_lots
    .filter((l) => l.remaining > 0)
    .map((l) => ({ lot_id: l.id, amount: l.remaining }));
  const unspent_amount = unspent.reduce((s, t) => s + t.amount, 0);
  const expired = input.grant_lots.reduce((s, l) => s + l.expired_amount, 0);
  const spent_amount = input.granted - unspent_amount - expired;
  if (spent_amount < 0) {
    throw new RangeError(
      `grant accounting is broken: granted ${input.granted}, unspent ${unspent_amount}, expired ${expired}`,
    );
  }
  if (openTotal(input.grant_lots, input.now_ms) !== unspent_amount) {
    throw new RangeError('expire the grant lots before planning a reversal');
  }
  if (input.policy === 'forgive') {
    return {
      unspent,
      unspent_amount,
      spent_amount,
      from_other_lots: [],
      debt_added: 0,
      forgiven: spent_amount,
    };
  }
  const plan = planBurnDown(input.other_lots, spent_amount, input.now_ms);
  return {
    unspent,
    unspent_amount,
    spent_amount,
    from_other_lots: plan.takes,
    debt_added: plan.shortfall,
    forgiven: 0,
  };
}
