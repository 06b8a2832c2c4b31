/**
 * Time ranges for the overview figures: a half-open interval [from, to) cut into UTC buckets of a
 * day, an ISO week (from Monday) or a calendar month. Every range is bounded per interval, so a
 * request can never ask the store to aggregate an unbounded history.
 */

export const STAT_INTERVALS = ['day', 'week', 'month'] as const;
export type StatInterval = (typeof STAT_INTERVALS)[number];

/** The longest range each interval accepts, in days, and the default span when `from` is left out. */
export const MAX_RANGE_DAYS: Record<StatInterval, number> = { day: 366, week: 732, month: 1830 };
export const DEFAULT_RANGE_DAYS: Record<StatInterval, number> = { day: 30, week: 182, month: 365 };

const DAY_MS = 86_400_000;

/** The start of the bucket holding `at`. */
export function bucketStart(at: Date, interval: StatInterval): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  if (interval === 'month') return new Date(Date.UTC(y, m, 1));
  const day = new Date(Date.UTC(y, m, d));
  if (interval === 'day') return day;
  // ISO weeks start on Monday: getUTCDay() is 0 on Sunday.
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * DAY_MS);
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(start: Date, interval: StatInterval): Date {
  if (interval === 'month') return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return new Date(start.getTime() + (interval === 'day' ? 1 : 7) * DAY_MS);
}

export interface StatRange {
  /** The start of the first bucket (the requested `from`, moved back to its bucket's start). */
  from: Date;
  /** The end of the range, exclusive. */
  to: Date;
  interval: StatInterval;
  /** The start of every bucket, oldest first; the last one may end after `to`. */
  buckets: Date[];
}

export type RangeResult =
  { ok: true; range: StatRange } | { ok: false; param: 'from' | 'to'; message: string; limit_days?: number };

/**
 * Checks and completes a requested range. `to` defaults to `now`, `from` to a span that suits the
 * interval before `to`. The range must be non-empty and at most MAX_RANGE_DAYS[interval] long.
 */
export function resolveRange(
  input: { from?: Date | undefined; to?: Date | undefined; interval: StatInterval },
  now: Date,
): RangeResult {
  const { interval } = input;
  const to = input.to ?? now;
  const requestedFrom = input.from ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS[interval] * DAY_MS);
  if (requestedFrom.getTime() >= to.getTime()) {
    return { ok: false, param: 'from', message: "'from' must be before 'to'" };
  }
  const limit = MAX_RANGE_DAYS[interval];
  const spanDays = (to.getTime() - requestedFrom.getTime()) / DAY_MS;
  if (spanDays > limit) {
    return {
      ok: false,
      param: 'from',
      message:
        `the range spans ${Math.ceil(spanDays)} days; interval=${interval} allows at most ${limit} days ` +
        '(use a longer interval or a shorter range)',
      limit_days: limit,
    };
  }
  const from = bucketStart(requestedFrom, interval);
  const buckets: Date[] = [];
  for (let b = from; b.getTime() < to.getTime(); b = nextBucket(b, interval)) buckets.push(b);
  return { ok: true, range: { from, to, interval, buckets } };
}

/** The index of the bucket holding `at` in `range.buckets` (-1 outside the range). */
export function bucketIndex(range: StatRange, at: Date): number {
  const start = bucketStart(at, range.interval).getTime();
  // Buckets are few (at most a few hundred) and sorted: a binary search keeps this exact and cheap.
  let lo = 0;
  let hi = range.buckets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = range.buckets[mid]!.getTime();
    if (t === start) return mid;
    if (t < start) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
