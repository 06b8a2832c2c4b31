import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPerksError } from '../errors.js';
import {
  addDuration,
  dueForExpiry,
  type ExpiryPolicy,
  parseIsoDuration,
  resolveExpiry,
  upcomingExpiries,
} from './expiry.js';

const t = (s: string) => Date.parse(s);
const NOW = t('2026-01-31T10:00:00Z');

describe('parseIsoDuration', () => {
  const cases: [string, string, boolean][] = [
    ['days', 'P30D', true],
    ['months', 'P1M', true],
    ['years and time', 'P1Y2M3DT4H5M6S', true],
    ['weeks', 'P2W', true],
    ['hours only', 'PT12H', true],
    ['empty P is refused', 'P', false],
    ['dangling T is refused', 'P1DT', false],
    ['fractions are refused', 'P1.5D', false],
    ['negative is refused', '-P1D', false],
    ['words are refused', '30 days', false],
    ['minutes without T are months', 'P5M', true],
  ];
  for (const [label, text, ok] of cases)
    it(label, () => assert.equal(parseIsoDuration(text) !== undefined, ok));
});

describe('addDuration', () => {
  const d = (text: string) => parseIsoDuration(text)!;
  const cases: [string, string, string, string][] = [
    ['30 days is exact elapsed time', '2026-01-31T10:00:00Z', 'P30D', '2026-03-02T10:00:00.000Z'],
    [
      'one month from 31 January clamps to 28 February',
      '2026-01-31T10:00:00Z',
      'P1M',
      '2026-02-28T10:00:00.000Z',
    ],
    [
      'one month from 31 January 2028 clamps to the leap day',
      '2028-01-31T10:00:00Z',
      'P1M',
      '2028-02-29T10:00:00.000Z',
    ],
    ['one month from 15 March', '2026-03-15T00:00:00Z', 'P1M', '2026-04-15T00:00:00.000Z'],
    ['twelve months roll the year', '2026-12-15T00:00:00Z', 'P12M', '2027-12-15T00:00:00.000Z'],
    [
      'a year from the leap day clamps to 28 February',
      '2028-02-29T00:00:00Z',
      'P1Y',
      '2029-02-28T00:00:00.000Z',
    ],
    ['time parts add up', '2026-01-01T00:00:00Z', 'PT1H30M15S', '2026-01-01T01:30:15.000Z'],
  ];
  for (const [label, from, dur, want] of cases) {
    it(label, () => assert.equal(new Date(addDuration(t(from), d(dur))).toISOString(), want));
  }
});

describe('resolveExpiry', () => {
  const ok: [string, ExpiryPolicy, number | null][] = [
    ['never is null', { type: 'never' }, null],
    ['at a future instant is that instant', { type: 'at', at_ms: NOW + 1 }, NOW + 1],
    ['after P1D is a day later', { type: 'after', duration: 'P1D' }, NOW + 86_400_000],
    [
      'end of billing period is the period end',
      { type: 'end_of_billing_period', period_end_ms: NOW + 5 },
      NOW + 5,
    ],
  ];
  for (const [label, policy, want] of ok) it(label, () => assert.equal(resolveExpiry(policy, NOW), want));

  const refused: [string, ExpiryPolicy, string][] = [
    ['at now is refused (it would be born expired)', { type: 'at', at_ms: NOW }, 'expires.at'],
    ['at in the past is refused', { type: 'at', at_ms: NOW - 1 }, 'expires.at'],
    ['a zero duration is refused', { type: 'after', duration: 'PT0S' }, 'expires.duration'],
    ['a malformed duration is refused', { type: 'after', duration: 'soon' }, 'expires.duration'],
    ['more than 100 years is refused', { type: 'after', duration: 'P101Y' }, 'expires.duration'],
    ['no current period is refused', { type: 'end_of_billing_period', period_end_ms: null }, 'expires.type'],
    [
      'a period that already ended is refused',
      { type: 'end_of_billing_period', period_end_ms: NOW - 1 },
      'expires.type',
    ],
  ];
  for (const [label, policy, param] of refused) {
    it(label, () =>
      assert.throws(
        () => resolveExpiry(policy, NOW),
        (err) => isPerksError(err) && err.code === 'expiry_invalid' && err.param === param,
      ),
    );
  }
});

describe('dueForExpiry and upcomingExpiries', () => {
  const lots = [
    { id: 'a', remaining: 5, expires_at_ms: 100, granted_at_ms: 0 },
    { id: 'b', remaining: 0, expires_at_ms: 50, granted_at_ms: 0 },
    { id: 'c', remaining: 7, expires_at_ms: 300, granted_at_ms: 0 },
    { id: 'd', remaining: 3, expires_at_ms: 300, granted_at_ms: 0 },
    { id: 'e', remaining: 9, expires_at_ms: null, granted_at_ms: 0 },
    { id: 'f', remaining: 1, expires_at_ms: 400, granted_at_ms: 0 },
    { id: 'g', remaining: 2, expires_at_ms: 500, granted_at_ms: 0 },
  ];
  it('expires what is due, dated at the lot’s own expires_at', () =>
    assert.deepEqual(dueForExpiry(lots, 300), [
      { lot_id: 'a', amount: 5, effective_at_ms: 100 },
      { lot_id: 'c', amount: 7, effective_at_ms: 300 },
      { lot_id: 'd', amount: 3, effective_at_ms: 300 },
    ]));
  it('nothing is due before the first expiry', () => assert.deepEqual(dueForExpiry(lots, 99), []));
  it('groups the next three expiry instants with their amounts', () =>
    assert.deepEqual(upcomingExpiries(lots, 0), [
      { expires_at_ms: 100, amount: 5 },
      { expires_at_ms: 300, amount: 10 },
      { expires_at_ms: 400, amount: 1 },
    ]));
  it('leaves out what has already expired', () =>
    assert.deepEqual(upcomingExpiries(lots, 300), [
      { expires_at_ms: 400, amount: 1 },
      { expires_at_ms: 500, amount: 2 },
    ]));
});
