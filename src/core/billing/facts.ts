/**
 * Billing facts arrive late and out of order. These rules decide, without I/O, whether a fact may
 * change the state already recorded.
 */

/** A fact older than the state it would overwrite is kept for history but does not roll it back. */
export function isStale(stateAsOf: Date | null, occurredAt: Date): boolean {
  return stateAsOf !== null && occurredAt.getTime() < stateAsOf.getTime();
}

export type PaymentStatus = 'succeeded' | 'refunded' | 'disputed';

const RANK: Record<PaymentStatus, number> = { succeeded: 0, refunded: 1, disputed: 2 };

/**
 * A payment only moves forward: succeeded -> refunded -> disputed. A late `succeeded` after a refund
 * keeps the refund.
 */
export function nextPaymentStatus(current: PaymentStatus | null, incoming: PaymentStatus): PaymentStatus {
  if (current === null) return incoming;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** The earliest of two instants, for "which card was attached first" when facts arrive late. */
export function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
