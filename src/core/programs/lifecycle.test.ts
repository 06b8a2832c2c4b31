import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, pathTo, type ReferralStatus, referrerStatus } from './lifecycle.js';

describe('referral state machine', () => {
  const moves: [ReferralStatus, ReferralStatus, boolean][] = [
    ['pending', 'qualified', true],
    ['pending', 'rejected', true],
    ['qualified', 'rewarded', true],
    ['rewarded', 'pending', false],
    ['rejected', 'qualified', false],
    ['qualified', 'pending', false],
  ];
  for (const [from, to, ok] of moves) {
    it(`${from} -> ${to} is ${ok ? 'allowed' : 'refused'}`, () => assert.equal(canTransition(from, to), ok));
  }
  it('pending to rewarded passes through qualified', () =>
    assert.deepEqual(pathTo('pending', 'rewarded'), ['qualified', 'rewarded']));
  it('a rewarded referral needs no step to be qualified', () =>
    assert.deepEqual(pathTo('rewarded', 'qualified'), []));
  it('a rejected referral never moves', () => assert.deepEqual(pathTo('rejected', 'rewarded'), []));
});

describe('referrer suspension after inactivity', () => {
  const last = new Date('2025-01-10T00:00:00Z');
  it('no new referral for 365 days suspends the referrer as of that day', () => {
    const s = referrerStatus(
      { active_since: last, suspended_at: null },
      365,
      new Date('2026-02-01T00:00:00Z'),
    );
    assert.deepEqual(s, { status: 'suspended', suspended_at: new Date('2026-01-10T00:00:00Z') });
  });
  it('day 364 is still active, and says when it would suspend', () => {
    const s = referrerStatus(
      { active_since: last, suspended_at: null },
      365,
      new Date('2026-01-09T00:00:00Z'),
    );
    assert.deepEqual(s, { status: 'active', suspends_at: new Date('2026-01-10T00:00:00Z') });
  });
  it('a recorded suspension stands until support reinstates', () => {
    const at = new Date('2025-06-01T00:00:00Z');
    const s = referrerStatus({ active_since: last, suspended_at: at }, 365, new Date('2025-07-01T00:00:00Z'));
    assert.deepEqual(s, { status: 'suspended', suspended_at: at });
  });
  it('a program without the rule never suspends', () => {
    const s = referrerStatus(
      { active_since: last, suspended_at: null },
      null,
      new Date('2030-01-01T00:00:00Z'),
    );
    assert.deepEqual(s, { status: 'active', suspends_at: null });
  });
});
