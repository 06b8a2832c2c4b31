import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketIndex, bucketStart, nextBucket, resolveRange, type StatInterval } from './range.js';

const t = (s: string) => new Date(s);
const iso = (d: Date) => d.toISOString();

describe('bucketStart', () => {
  const cases: [string, string, StatInterval, string][] = [
    ['a day starts at UTC midnight', '2026-03-04T23:59:59Z', 'day', '2026-03-04T00:00:00.000Z'],
    [
      'a Wednesday belongs to the week from Monday',
      '2026-03-04T12:00:00Z',
      'week',
      '2026-03-02T00:00:00.000Z',
    ],
    [
      'a Sunday belongs to the week from the Monday before',
      '2026-03-08T12:00:00Z',
      'week',
      '2026-03-02T00:00:00.000Z',
    ],
    ['a Monday starts its own week', '2026-03-09T00:00:00Z', 'week', '2026-03-09T00:00:00.000Z'],
    ['a week can start in the previous year', '2027-01-01T08:00:00Z', 'week', '2026-12-28T00:00:00.000Z'],
    ['a month starts on the 1st', '2026-02-28T18:00:00Z', 'month', '2026-02-01T00:00:00.000Z'],
  ];
  for (const [label, at, interval, expected] of cases) {
    it(label, () => assert.equal(iso(bucketStart(t(at), interval)), expected));
  }
});

describe('nextBucket', () => {
  it('December is followed by January', () =>
    assert.equal(iso(nextBucket(t('2026-12-01T00:00:00Z'), 'month')), '2027-01-01T00:00:00.000Z'));
  it('a week is seven days', () =>
    assert.equal(iso(nextBucket(t('2026-03-02T00:00:00Z'), 'week')), '2026-03-09T00:00:00.000Z'));
});

describe('resolveRange', () => {
  const now = t('2026-03-15T10:30:00Z');

  it('defaults to the 30 days before now at interval=day, from the start of the first day', () => {
    const r = resolveRange({ interval: 'day' }, now);
    assert.ok(r.ok);
    assert.equal(iso(r.range.from), '2026-02-13T00:00:00.000Z');
    assert.equal(iso(r.range.to), iso(now));
    assert.equal(r.range.buckets.length, 31, '13 February to 15 March, both partial ends included');
    assert.equal(iso(r.range.buckets.at(-1)!), '2026-03-15T00:00:00.000Z');
  });

  it('cuts a range into calendar months of their real lengths', () => {
    const r = resolveRange(
      { interval: 'month', from: t('2026-01-20T00:00:00Z'), to: t('2026-04-01T00:00:00Z') },
      now,
    );
    assert.ok(r.ok);
    assert.deepEqual(r.range.buckets.map(iso), [
      '2026-01-01T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
      '2026-03-01T00:00:00.000Z',
    ]);
  });

  it('refuses an empty or reversed range, naming from', () => {
    const r = resolveRange({ interval: 'day', from: now, to: now }, now);
    assert.deepEqual(r, { ok: false, param: 'from', message: "'from' must be before 'to'" });
  });

  it('states the limit of each interval when a range is too long', () => {
    const cases: [StatInterval, number, boolean][] = [
      ['day', 366, true],
      ['day', 367, false],
      ['week', 732, true],
      ['week', 733, false],
      ['month', 1830, true],
      ['month', 1831, false],
    ];
    for (const [interval, days, ok] of cases) {
      const r = resolveRange({ interval, from: new Date(now.getTime() - days * 86_400_000), to: now }, now);
      assert.equal(r.ok, ok, `${days} days at ${interval}`);
      if (!r.ok) {
        assert.equal(r.param, 'from');
        assert.match(r.message, new RegExp(`at most ${r.limit_days} days`));
      }
    }
  });

  it('finds the bucket of an instant, and none outside the range', () => {
    const r = resolveRange(
      { interval: 'week', from: t('2026-03-02T00:00:00Z'), to: t('2026-03-23T00:00:00Z') },
      now,
    );
    assert.ok(r.ok);
    assert.equal(bucketIndex(r.range, t('2026-03-02T00:00:00Z')), 0);
    assert.equal(bucketIndex(r.range, t('2026-03-15T23:59:59Z')), 1);
    assert.equal(bucketIndex(r.range, t('2026-03-22T23:59:59Z')), 2);
    assert.equal(bucketIndex(r.range, t('2026-03-01T23:59:59Z')), -1);
    assert.equal(bucketIndex(r.range, t('2026-03-23T00:00:00Z')), -1);
  });
});
