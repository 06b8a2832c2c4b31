import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canonicalTimeZone,
  endOfDay,
  isWithin,
  localDate,
  parseDateOnly,
  resolveBoundary,
  startOfDay,
} from './time.js';

const NY = 'America/New_York';
const d = (text: string) => parseDateOnly(text)!;

describe('date-only boundaries in an IANA time zone', () => {
  const cases: [string, string, string, 'start' | 'end', string][] = [
    // label, date, zone, edge, expected instant
    ['UTC end of day', '2026-03-31', 'UTC', 'end', '2026-04-01T00:00:00.000Z'],
    ['New York, winter (UTC-5)', '2026-01-15', NY, 'end', '2026-01-16T05:00:00.000Z'],
    ['New York, summer (UTC-4)', '2026-07-15', NY, 'end', '2026-07-16T04:00:00.000Z'],
    // Clocks go forward at 02:00 on 8 March 2026: the day starts at -5 and ends at -4.
    ['New York, the day DST starts', '2026-03-08', NY, 'end', '2026-03-09T04:00:00.000Z'],
    ['New York, start of the day DST starts', '2026-03-08', NY, 'start', '2026-03-08T05:00:00.000Z'],
    // Clocks go back at 02:00 on 1 November 2026: the day starts at -4 and ends at -5 (25 hours).
    ['New York, the day DST ends', '2026-11-01', NY, 'end', '2026-11-02T05:00:00.000Z'],
    ['New York, start of the day DST ends', '2026-11-01', NY, 'start', '2026-11-01T04:00:00.000Z'],
    ['the day before DST ends', '2026-10-31', NY, 'end', '2026-11-01T04:00:00.000Z'],
    ['Tokyo (UTC+9, no DST)', '2026-03-31', 'Asia/Tokyo', 'end', '2026-03-31T15:00:00.000Z'],
    ['Kathmandu (UTC+5:45)', '2026-03-31', 'Asia/Kathmandu', 'end', '2026-03-31T18:15:00.000Z'],
    ['Kiritimati (UTC+14)', '2026-01-01', 'Pacific/Kiritimati', 'start', '2025-12-31T10:00:00.000Z'],
    // Santiago skips midnight when DST starts (00:00 -> 01:00 on 6 September 2026): the day's first
    // instant is the jump itself, 04:00Z, which reads 01:00 local.
    [
      'Santiago, a day whose midnight is skipped',
      '2026-09-06',
      'America/Santiago',
      'start',
      '2026-09-06T04:00:00.000Z',
    ],
    [
      'Santiago, the day before it ends there',
      '2026-09-05',
      'America/Santiago',
      'end',
      '2026-09-06T04:00:00.000Z',
    ],
  ];
  for (const [label, date, zone, edge, expected] of cases) {
    it(`${label}: ${edge} of ${date} in ${zone} is ${expected}`, () => {
      const at = edge === 'start' ? startOfDay(d(date), zone) : endOfDay(d(date), zone);
      assert.equal(at?.toISOString(), expected);
    });
  }

  it('a code expiring at the end of a New York date is valid at 23:59:59 local and not at 00:00:00, across both DST changes', () => {
    for (const [date, lastSecond, midnight] of [
      ['2026-03-08', '2026-03-09T03:59:59.000Z', '2026-03-09T04:00:00.000Z'],
      ['2026-11-01', '2026-11-02T04:59:59.000Z', '2026-11-02T05:00:00.000Z'],
    ] as const) {
      const expiresAt = endOfDay(d(date), NY)!;
      const before = new Date(lastSecond);
      const at = new Date(midnight);
      assert.deepEqual(localDate(before, NY), d(date), 'the last second still reads as the named day');
      assert.equal(isWithin(before, null, expiresAt), true, `${date} 23:59:59 local is valid`);
      assert.equal(isWithin(at, null, expiresAt), false, `the next day's 00:00:00 local is not`);
    }
  });

  it('a date that does not exist in the zone has no start nor end, and the day before ends where the next starts', () => {
    // Samoa moved across the date line: 30 December 2011 never happened in Apia.
    assert.equal(startOfDay(d('2011-12-30'), 'Pacific/Apia'), undefined);
    assert.equal(endOfDay(d('2011-12-30'), 'Pacific/Apia'), undefined);
    assert.equal(resolveBoundary({ kind: 'date', date: d('2011-12-30') }, 'end', 'Pacific/Apia'), undefined);
    assert.equal(
      endOfDay(d('2011-12-29'), 'Pacific/Apia')?.toISOString(),
      startOfDay(d('2011-12-31'), 'Pacific/Apia')?.toISOString(),
    );
  });

  it('instants pass through resolveBoundary unchanged, in any zone', () => {
    const at = new Date('2026-05-01T10:11:12.000Z');
    assert.equal(resolveBoundary({ kind: 'instant', at }, 'end', NY), at);
  });

  it('property: the first instant of a day reads as that day, and the millisecond before as an earlier day', () => {
    const zones = [
      'UTC',
      NY,
      'Europe/London',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Asia/Kolkata',
      'America/Havana',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2037, 11, 31) }),
        fc.constantFrom(...zones),
        (t, zone) => {
          const day = localDate(new Date(t), zone);
          const start = startOfDay(day, zone);
          assert.ok(start, `${JSON.stringify(day)} exists in ${zone}`);
          assert.deepEqual(localDate(start, zone), day);
          const before = localDate(new Date(start.getTime() - 1), zone);
          assert.ok(
            Date.UTC(before.year, before.month - 1, before.day) < Date.UTC(day.year, day.month - 1, day.day),
            `1 ms before ${start.toISOString()} is still ${JSON.stringify(before)} in ${zone}`,
          );
          assert.ok(start.getTime() <= t);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('parseDateOnly and canonicalTimeZone', () => {
  it('refuses dates that do not exist and other shapes', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-1-1', '26-01-01', '2026-01-01T00:00:00Z', '']) {
      assert.equal(parseDateOnly(bad), undefined, bad);
    }
    assert.deepEqual(parseDateOnly('2028-02-29'), { year: 2028, month: 2, day: 29 });
  });

  it('knows IANA names and refuses others', () => {
    assert.equal(canonicalTimeZone('America/New_York'), 'America/New_York');
    assert.equal(canonicalTimeZone('UTC'), 'UTC');
    assert.equal(canonicalTimeZone('Mars/Olympus_Mons'), undefined);
    assert.equal(canonicalTimeZone(''), undefined);
  });
});
