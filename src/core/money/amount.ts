import { MAX_AMOUNT_MINOR } from './currency.js';

/**
 * Amounts are integers in minor units (cents, minutes, days). They travel as JavaScript numbers,
 * which is exact while every value stays a safe integer; these helpers refuse anything else instead
 * of losing precision.
 */

/**
 * The most one customer account may hold for one asset. A thousand single maximum amounts keeps
 * every sum over an account far inside the exact range of a double (2^53).
 */
export const MAX_BALANCE_MINOR = 1_000 * MAX_AMOUNT_MINOR;

/** True for an integer amount from 1 to MAX_AMOUNT_MINOR: the only amounts an operation may move. */
export function isPositiveAmount(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && n <= MAX_AMOUNT_MINOR;
}

/** Throws on a value that is not a safe integer; used where a bad value would be a bug. */
export function assertSafeInteger(n: number, what: string): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a safe integer, got ${n}`);
  return n;
}

/** Exact sum; fails loudly if the total leaves the exact range. */
export function sumAmounts(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += assertSafeInteger(v, 'amount');
  return assertSafeInteger(total, 'sum');
}
