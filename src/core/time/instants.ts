import { z } from 'zod';

/**
 * The instants the API takes, wherever a caller names one (a body field, a query parameter, a
 * promotion's window): from the Unix epoch to the last millisecond of year 9999. It is the range both
 * stores write and read back alike: the embedded store cannot write a year past 9999, nor read one
 * before 1000, correctly. An ISO 8601 text has a four-digit year, yet with its offset it can still name
 * an instant outside that (`0000-01-01T00:00:00+01:00` is in year -1, `9999-12-31T23:00:00-02:00` in
 * year 10000), so the instant is checked, not the text.
 */
export const INSTANT_RANGE = {
  min: new Date('1970-01-01T00:00:00.000Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
} as const;

export function isInInstantRange(at: Date): boolean {
  const t = at.getTime();
  return t >= INSTANT_RANGE.min.getTime() && t <= INSTANT_RANGE.max.getTime();
}

/** What a caller is told about an instant outside INSTANT_RANGE (the field name is added by the caller). */
export function outOfInstantRange(at: Date): string {
  const given = Number.isNaN(at.getTime()) ? 'the instant' : at.toISOString();
  return `${given} is out of range: must be from ${INSTANT_RANGE.min.toISOString()} to ${INSTANT_RANGE.max.toISOString()}`;
}

/**
 * An ISO 8601 date-time with a time zone (`Z` or an offset, fractional seconds allowed) naming an
 * instant inside INSTANT_RANGE; the text stays as given. One error per value: a malformed text is not
 * also told the range. The range is in the JSON Schema too, as `formatMinimum`/`formatMaximum`.
 */
export const isoInstant = (formatMessage: string) =>
  z.iso
    .datetime({ offset: true, message: formatMessage, abort: true })
    .refine((s) => isInInstantRange(new Date(s)), {
      error: (issue) => outOfInstantRange(new Date(String(issue.input))),
    })
    .meta({
      formatMinimum: INSTANT_RANGE.min.toISOString(),
      formatMaximum: INSTANT_RANGE.max.toISOString(),
    });
