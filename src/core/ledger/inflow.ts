/**
 * Money or units coming into a customer's account (a grant, credit given back by a voided invoice,
 * a rejected payout). A customer in debt (a reversed grant under `allow_negative`) pays the debt back
 * first; only the rest stays spendable in the new lot.
 */
export type NegativePolicy = 'allow_negative' | 'forgive';

export interface Inflow {
  /** The part of the amount that pays down the debt. */
  repaid: number;
  /** What the new lot keeps as its remaining. */
  remaining: number;
}

export function planInflow(amount: number, debt: number): Inflow {
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw new RangeError(`inflow must be positive, got ${amount}`);
  if (!Number.isSafeInteger(debt) || debt < 0) throw new RangeError(`debt must be non-negative, got ${debt}`);
  const repaid = Math.min(amount, debt);
  return { repaid, remaining: amount - repaid };
}

export interface Restore extends Inflow {
  /** Given back by a voided invoice or a rejected payout, but clawed back at once (see below). */
  clawed_back: number;
}

/**
 * Giving a spent piece of a lot back. The piece returns as a new lot of the same grant; when that
 * grant was reversed under `forgive`, the reversal forgave this piece as spent, and now that it is
 * unspent again it is reversed at once, so a reversed grant never comes back to life. Under
 * `allow_negative` the customer already paid the spent part back, so the piece is theirs again and
 * pays down any debt first, like any inflow.
 */
export function planRestore(
  amount: number,
  debt: number,
  grantReversed: boolean,
  policy: NegativePolicy,
): Restore {
  const inflow = planInflow(amount, debt);
  if (grantReversed && policy === 'forgive') {
    return { repaid: inflow.repaid, remaining: 0, clawed_back: inflow.remaining };
  }
  return { ...inflow, clawed_back: 0 };
}
