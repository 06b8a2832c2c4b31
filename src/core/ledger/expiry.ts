import { PerksError } from '../errors.js';
import { isExpired, type Lot } from './lots.js';

/**
 * When a grant expires. `after` takes an ISO 8601 duration; `end_of_billing_period` is resolved by
 * the caller to the end of the customer's current subscription period (or null when there is none).
 */
export type ExpiryPolicy =
  | { type: 'never' }
  | { type: 'at'; at_ms: number }
  | { type: 'after'; duration: string }
  | { type: 'end_of_billing_period'; period_end_ms: number | null };

export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** The longest expiry Perks accepts: 100 years keeps every date inside what PostgreSQL stores. */
export const MAX_EXPIRY_YEARS = 100;
const MS_PER_YEAR_BOUND = 366 * 24 * 3600 * 1000;

const DURATION =
  /^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,7})M)?(?:(\d{1,9})S)?)?$/;

/** Parses `P1Y2M3W4DT5H6M7S` (integers only). Returns undefined for anything else, or for `P`/`PT`. */
export function parseIsoDuration(text: string): Duration | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

/**
 * Adds a duration in UTC. Years and months move the calendar month and keep the day of the month,
 * clamped to the month's last day (31 January + P1M = 28 or 29 February); weeks, days and time are
 * then added as exact elapsed time.
 */
export function addDuration(from_ms: number, d: Duration): number {
  const t = new Date(from_ms);
  const monthIndex = t.getUTCFullYear() * 12 + t.getUTCMonth() + d.years * 12 + d.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(t.getUTCDate(), lastDay);
  const shifted = Date.UTC(
    year,
    month,
    day,
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
    t.getUTCMilliseconds(),
  );
  return shifted + ((((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000;
}

/**
 * The instant a grant made at `now_ms` expires under `policy`, or null for never. An expiry that is
 * not strictly in the future, or further than MAX_EXPIRY_YEARS, is refused: a grant that would be
 * born expired is a mistake, not a gift.
 */
export function resolveExpiry(policy: ExpiryPolicy, now_ms: number): number | null {
  let at: number;
  let param: string;
  switch (policy.type) {
    case 'never':
      return null;
    case 'at':
      at = policy.at_ms;
      param = 'expires.at';
      break;
    case 'after': {
      const d = parseIsoDuration(policy.duration);
      if (!d) {
        throw new PerksError(
          'expiry_invalid',
          `'${policy.duration}' is not an ISO 8601 duration with integer parts such as P30D, P1M or PT12H`,
          'expires.duration',
        );
      }
      at = addDuration(now_ms, d);
      param = 'expires.duration';
      break;
    }
    case 'end_of_billing_period':
      if (policy.period_end_ms === null) {
        throw new PerksError(
          'expiry_invalid',
          'the customer has no current subscription period to end the grant at',
          'expires.type',
        );
      }
      at = policy.period_end_ms;
      param = 'expires.type';
      break;
  }
  if (at <= now_ms) {
    throw new PerksError('expiry_invalid', 'the expiry must be in the future', param, {
      expires_at: new Date(at).toISOString(),
    });
  }
  if (at - now_ms > MAX_EXPIRY_YEARS * MS_PER_YEAR_BOUND) {
    throw new PerksError(
      'expiry_invalid',
      `the expiry must be at most ${MAX_EXPIRY_YEARS} years away`,
      param,
    );
  }
  return at;
}

export interface Expiry {
  lot_id: string;
  /** The remainder that moves to breakage. */
  amount: number;
  /** When the transfer takes effect: the lot's own expires_at, not the moment it is written. */
  effective_at_ms: number;
}

/** The expiry transfers due at `now_ms`: every lot past its expires_at that still holds something. */
export function dueForExpiry(lots: readonly Lot[], now_ms: number): Expiry[] {
  return lots
    .filter((l) => l.remaining > 0 && isExpired(l, now_ms))
    .sort((a, b) => (a.expires_at_ms ?? 0) - (b.expires_at_ms ?? 0) || (a.id < b.id ? -1 : 1))
    .map((l) => ({ lot_id: l.id, amount: l.remaining, effective_at_ms: l.expires_at_ms ?? now_ms }));
}

/** The next `count` expiry instants among open lots, with the amount that expires at each. */
export function upcomingExpiries(
  lots: readonly Lot[],
  now_ms: number,
  count = 3,
): { expires_at_ms: number; amount: number }[] {
  const byInstant = new Map<number, number>();
  for (const l of lots) {
    if (l.remaining <= 0 || l.expires_at_ms === null || isExpired(l, now_ms)) continue;
    byInstant.set(l.expires_at_ms, (byInstant.get(l.expires_at_ms) ?? 0) + l.remaining);
  }
  return [...byInstant.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(0, count)
    .map(([expires_at_ms, amount]) => ({ expires_at_ms, amount }));
}
