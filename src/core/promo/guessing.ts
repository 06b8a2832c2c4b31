import ipaddr from 'ipaddr.js';

/**
 * Guessing codes is the attack on a promotion engine: try codes until one works. Failed validate and
 * redeem attempts are counted per customer and per client IP in fixed windows; past the limit, further
 * attempts are refused until the window ends. A successful redemption clears the customer's count (the
 * limit is on consecutive failures); the IP count is never cleared early, so a valid code interleaved
 * with guesses does not reset it.
 */

export interface FailureLimit {
  failures: number;
  window_ms: number;
}

export const FAILURE_LIMITS = {
  customer: { failures: 100, window_ms: 3_600_000 },
  ip: { failures: 1_000, window_ms: 3_600_000 },
} as const satisfies Record<string, FailureLimit>;

export type FailureScope = keyof typeof FAILURE_LIMITS;

export interface FailureCount {
  failures: number;
  window_started_at: Date;
}

/**
 * Milliseconds until attempts are allowed again, or undefined when they are allowed now. A window
 * starts at the first failure and lasts window_ms; once it is over the count starts again from zero.
 */
export function blockedFor(count: FailureCount | null, limit: FailureLimit, now: Date): number | undefined {
  if (!count) return undefined;
  const ends = count.window_started_at.getTime() + limit.window_ms;
  if (now.getTime() >= ends) return undefined;
  return count.failures >= limit.failures ? ends - now.getTime() : undefined;
}

/**
 * The network an address's failures count against: an IPv4 address itself (also when written as an
 * IPv4-mapped IPv6 address, `::ffff:10.0.0.1`, as a dual-stack listener reports IPv4 callers), and
 * for IPv6 its /64, the block one subscriber gets and can draw any number of addresses from. Every
 * spelling of one address (case, zeros, `::`) gives the same key. Throws on anything but an address.
 */
export function ipNetwork(ip: string): string {
  const address = ipaddr.process(ip.trim());
  if (!(address instanceof ipaddr.IPv6)) return address.toString();
  return `${address.parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(':')}::/64`;
}
