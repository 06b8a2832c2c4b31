import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earliest, isStale, nextPaymentStatus } from './facts.js';

const t = (s: string) => new Date(s);

describe('isStale', () => {
  const cases: [string, Date | null, Date, boolean][] = [
    ['no state yet: never stale', null, t('2026-01-01T00:00:00Z'), false],
    ['older fact is stale', t('2026-01-02T00:00:00Z'), t('2026-01-01T00:00:00Z'), true],
    [
      'same instant is not stale (replays converge)',
      t('2026-01-01T00:00:00Z'),
      t('2026-01-01T00:00:00Z'),
      false,
    ],
    ['newer fact applies', t('2026-01-01T00:00:00Z'), t('2026-01-02T00:00:00Z'), false],
  ];
  for (const [label, state, occurred, expected] of cases) {
    it(label, () => assert.equal(isStale(state, occurred), expected));
  }
});

describe('nextPaymentStatus', () => {
  const cases: [
    string,
    'succeeded' | 'refunded' | 'disputed' | null,
    'succeeded' | 'refunded' | 'disputed',
    string,
  ][] = [
    ['first fact sets the status', null, 'refunded', 'refunded'],
    ['refund after success', 'succeeded', 'refunded', 'refunded'],
    ['late success keeps the refund', 'refunded', 'succeeded', 'refunded'],
    ['dispute after refund', 'refunded', 'disputed', 'disputed'],
    ['late refund keeps the dispute', 'disputed', 'refunded', 'disputed'],
  ];
  for (const [label, current, incoming, expected] of cases) {
    it(label, () => assert.equal(nextPaymentStatus(current, incoming), expected));
  }
});

describe('earliest', () => {
  it('picks the earlier instant whichever order they come in', () => {
    const a = t('2026-01-01T00:00:00Z');
    const b = t('2026-02-01T00:00:00Z');
    assert.equal(earliest(a, b), a);
    assert.equal(earliest(b, a), a);
  });
});
