/**
 * Lots and the burn-down order. Every grant to a customer is a lot; consumption takes from open lots
 * in one total order, written down here and nowhere else:
 *
 *   1. earliest `expires_at` first, lots that never expire last;
 *   2. then the oldest grant (`granted_at`);
 *   3. then the lot id, which is unique, so no two lots ever tie.
 */

/** What the burn-down order and the planners need to know about a lot. Times are epoch milliseconds. */
export interface Lot {
  id: string;
  remaining: number;
  expires_at_ms: number | null;
  granted_at_ms: number;
}

/** An amount taken from one lot. */
export interface Take {
  lot_id: string;
  amount: number;
}

/** Plain code-unit comparison, so the order does not depend on a locale or a database collation. */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** The burn-down order as a comparator: negative when `a` is consumed before `b`. */
export function compareBurnDown(a: Lot, b: Lot): number {
  if (a.expires_at_ms !== b.expires_at_ms) {
    if (a.expires_at_ms === null) return 1;
    if (b.expires_at_ms === null) return -1;
    return a.expires_at_ms - b.expires_at_ms;
  }
  if (a.granted_at_ms !== b.granted_at_ms) return a.granted_at_ms - b.granted_at_ms;
  return compareIds(a.id, b.id);
}

/** A lot is expired from its `expires_at` instant on: validity is the half-open [granted_at, expires_at). */
export function isExpired(lot: Pick<Lot, 'expires_at_ms'>, now_ms: number): boolean {
  return lot.expires_at_ms !== null && lot.expires_at_ms <= now_ms;
}

/** Open lots (remaining > 0, not expired at `now_ms`) in burn-down order. */
export function burnDownOrder<T extends Lot>(lots: readonly T[], now_ms: number): T[] {
  return lots.filter((l) => l.remaining > 0 && !isExpired(l, now_ms)).sort(compareBurnDown);
}

export interface BurnDown {
  /** One take per lot touched, in the order they were taken. */
  takes: Take[];
  taken: number;
  /** What the lots could not cover: `amount - taken`. */
  shortfall: number;
}

/**
 * Plans taking `amount` from `lots` in burn-down order, as much as they hold. Whether a shortfall
 * is an error (insufficient balance) or accepted (a partial consumption) is the caller's decision.
 * Expired lots are skipped: their remainder belongs to breakage, never to a consumer.
 */
export function planBurnDown(lots: readonly Lot[], amount: number, now_ms: number): BurnDown {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`amount to burn must be a non-negative safe integer, got ${amount}`);
  }
  const takes: Take[] = [];
  let left = amount;
  for (const lot of burnDownOrder(lots, now_ms)) {
    if (left === 0) break;
    const take = Math.min(lot.remaining, left);
    takes.push({ lot_id: lot.id, amount: take });
    left -= take;
  }
  return { takes, taken: amount - left, shortfall: left };
}

/** The sum of what open lots hold at `now_ms`. */
export function openTotal(lots: readonly Lot[], now_ms: number): number {
  let total = 0;
  for (const l of lots) if (l.remaining > 0 && !isExpired(l, now_ms)) total += l.remaining;
  return total;
}
