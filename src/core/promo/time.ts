/**
 * Promotion windows are half-open intervals of instants, `[starts_at, expires_at)`. People often give
 * a date instead of an instant ("valid until 31 March"); such a date is read in a stated IANA time zone:
 * a start date means the first instant of that day there, an end date the first instant of the next
 * day (so the whole named day is included). The conversion uses the runtime's ICU time-zone data
 * through Intl, and handles days whose local midnight is skipped or repeated by a DST change.
 */

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The IANA name as the runtime spells it, or undefined for a name it does not know. */
export function canonicalTimeZone(name: string): string | undefined {
  if (name.length === 0 || name.length > 64) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** The wall-clock reading in `zone` at instant `t` (ms), as if it were UTC, in ms. */
function wallClockMs(t: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** The local calendar date at instant `t` in `zone`. */
export function localDate(t: Date, zone: string): CalendarDate {
  const wall = new Date(wallClockMs(t.getTime(), zone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** Parses `YYYY-MM-DD`, refusing dates that do not exist (2026-02-30). */
export function parseDateOnly(text: string): CalendarDate | undefined {
  const m = DATE_ONLY.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    return undefined;
  }
  return { year, month, day };
}

/**
 * The first instant of `date` in `zone`. Usually local midnight; when midnight is skipped by a DST
 * change it is the instant of the change, and when midnight happens twice it is the first one. Returns
 * undefined for a date that does not exist in the zone at all (Samoa skipped 30 December 2011).
 */
export function startOfDay(date: CalendarDate, zone: string): Date | undefined {
  const midnightAsUtc = Date.UTC(date.year, date.month - 1, date.day);
  // The zone's offset a day and a half either side covers every offset in force around that midnight.
  const offsets = new Set<number>();
  for (const probe of [midnightAsUtc - 1.5 * DAY_MS, midnightAsUtc, midnightAsUtc + 1.5 * DAY_MS]) {
    offsets.add(wallClockMs(probe, zone) - probe);
  }
  let best: number | undefined;
  for (const offset of offsets) {
    const candidate = midnightAsUtc - offset;
    const wall = wallClockMs(candidate, zone);
    // The candidate belongs to the day if its local reading falls on that day; the earliest such
    // candidate is the day's first instant (at a skipped midnight it is the instant clocks jump).
    if (wall >= midnightAsUtc && wall < midnightAsUtc + DAY_MS && (best === undefined || candidate < best)) {
      best = candidate;
    }
  }
  return best === undefined ? undefined : new Date(best);
}

/** The calendar date after `date`. */
export function nextDate(date: CalendarDate): CalendarDate {
  const t = new Date(Date.UTC(date.year, date.month - 1, date.day) + DAY_MS);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/**
 * The exclusive end of `date` in `zone`: the first instant of the next day, so every instant of the
 * named day, up to 23:59:59.999 local, is before it. Undefined for a date that does not exist in the
 * zone, as for its start: a skipped day has no end either.
 */
export function endOfDay(date: CalendarDate, zone: string): Date | undefined {
  if (!startOfDay(date, zone)) return undefined;
  // If the next day does not exist in the zone, the day after it starts where the named day ends.
  return startOfDay(nextDate(date), zone) ?? startOfDay(nextDate(nextDate(date)), zone);
}

export type BoundaryInput = { kind: 'instant'; at: Date } | { kind: 'date'; date: CalendarDate };

/** An instant for a window boundary: instants stand as given; dates go through startOfDay/endOfDay. */
export function resolveBoundary(input: BoundaryInput, edge: 'start' | 'end', zone: string): Date | undefined {
  if (input.kind === 'instant') return input.at;
  return edge === 'start' ? startOfDay(input.date, zone) : endOfDay(input.date, zone);
}

/** True when `now` is inside `[startsAt, expiresAt)`; a missing bound is open. */
export function isWithin(now: Date, startsAt: Date | null, expiresAt: Date | null): boolean {
  const t = now.getTime();
  return (startsAt === null || t >= startsAt.getTime()) && (expiresAt === null || t < expiresAt.getTime());
}
