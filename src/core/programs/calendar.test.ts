import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCalendarMonths, daysInCalendarMonths, wholeDaysBetween } from './calendar.js';

const t = (s: string) => new Date(s);

describe('addCalendarMonths', () => {
  const cases: [string, string, number, string][] = [
    ['15 January + 1 month is 15 February', '2026-01-15T10:00:00Z', 1, '2026-02-15T10:00:00.000Z'],
    ['31 January + 1 month clamps to 28 February', '2026-01-31T00:00:00Z', 1, '2026-02-28T00:00:00.000Z'],
    [
      '31 January 2028 + 1 month is 29 February (leap year)',
      '2028-01-31T00:00:00Z',
      1,
      '2028-02-29T00:00:00.000Z',
    ],
    ['30 November + 3 months crosses the year', '2026-11-30T00:00:00Z', 3, '2027-02-28T00:00:00.000Z'],
    ['12 months is a year', '2026-03-01T00:00:00Z', 12, '2027-03-01T00:00:00.000Z'],
    ['minus one month', '2026-03-31T00:00:00Z', -1, '2026-02-28T00:00:00.000Z'],
  ];
  for (const [label, from, months, expected] of cases) {
    it(label, () => assert.equal(addCalendarMonths(t(from), months).toISOString(), expected));
  }
});

describe('daysInCalendarMonths', () => {
  const cases: [string, string, number][] = [
    ['a month from 15 January is 31 days', '2026-01-15T00:00:00Z', 31],
    ['a month from 1 February 2026 is 28 days', '2026-02-01T00:00:00Z', 28],
    ['a month from 1 February 2028 is 29 days', '2028-02-01T00:00:00Z', 29],
    ['a month from 10 April is 30 days', '2026-04-10T00:00:00Z', 30],
  ];
  for (const [label, from, expected] of cases) {
    it(label, () => assert.equal(daysInCalendarMonths(t(from), 1), expected));
  }
});

describe('wholeDaysBetween', () => {
  it('a partial day does not count', () =>
    assert.equal(wholeDaysBetween(t('2026-01-01T00:00:00Z'), t('2026-01-02T23:59:59Z')), 1));
});
