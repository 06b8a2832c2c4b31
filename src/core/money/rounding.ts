/**
 * Exact integer division with a named rounding mode, and basis points (1 bp = 0.01%). The arithmetic
 * is done in bigint so a product never loses precision before it is divided.
 */
export type RoundingMode = 'half_even' | 'half_up' | 'down' | 'up';

/** numerator / denominator rounded by `mode`; `down` and `up` round toward and away from zero. */
export function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let q = n / denominator;
  const r = n % denominator;
  if (r !== 0n) {
    const twice = 2n * r;
    switch (mode) {
      case 'down':
        break;
      case 'up':
        q += 1n;
        break;
      case 'half_up':
        if (twice >= denominator) q += 1n;
        break;
      case 'half_even':
        if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
        break;
    }
  }
  return negative ? -q : q;
}

export const BASIS_POINTS_PER_WHOLE = 10_000;

/**
 * `bps` basis points of `amount` minor units, rounded by `mode` (half-even unless the caller names
 * another). 25% of 90 minutes is 22 under half-even (22.5 goes to the even neighbour).
 */
export function applyBasisPoints(amount: number, bps: number, mode: RoundingMode = 'half_even'): number {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount must be a safe integer, got ${amount}`);
  if (!Number.isSafeInteger(bps)) throw new RangeError(`basis points must be an integer, got ${bps}`);
  const result = divideRounded(BigInt(amount) * BigInt(bps), BigInt(BASIS_POINTS_PER_WHOLE), mode);
  const n = Number(result);
  if (!Number.isSafeInteger(n)) throw new RangeError(`result ${result} is outside the exact range`);
  return n;
}
