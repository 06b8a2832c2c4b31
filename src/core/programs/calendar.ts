/**
 * Calendar arithmetic in UTC, so a "calendar month" has one meaning wherever the server runs.
 */
const DAY_MS = 86_400_000;

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * `at` moved by `months` calendar months, keeping the time of day. A day that does not exist in the
 * target month is clamped to its last day (31 January + 1 month = 28 or 29 February).
 */
export function addCalendarMonths(at: Date, months: number): Date {
  const year = at.getUTCFullYear();
  const target = at.getUTCMonth() + months;
  const targetYear = year + Math.floor(target / 12);
  const targetMonth = ((target % 12) + 12) % 12;
  const day = Math.min(at.getUTCDate(), daysInMonth(targetYear, targetMonth));
  return new Date(
    Date.UTC(
      targetYear,
      targetMonth,
      day,
      at.getUTCHours(),
      at.getUTCMinutes(),
      at.getUTCSeconds(),
      at.getUTCMilliseconds(),
    ),
  );
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** Whole days in [from, to); a partial day does not count. */
export function wholeDaysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / DAY_MS);
}

/** The number of days in the `months` calendar months starting at `from` (January 15 + 1 month = 31). */
export function daysInCalendarMonths(from: Date, months: number): number {
  return wholeDaysBetween(from, addCalendarMonths(from, months));
}
