import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedFor, FAILURE_LIMITS } from './guessing.js';

const limit = FAILURE_LIMITS.customer;
const start = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(start.getTime() + ms);

describe('blockedFor', () => {
  it('the stated defaults: 100 failures per customer and 1,000 per IP, per hour', () => {
    assert.deepEqual(FAILURE_LIMITS, {
      customer: { failures: 100, window_ms: 3_600_000 },
      ip: { failures: 1_000, window_ms: 3_600_000 },
    });
  });
  it('allows with no failures, and under the limit', () => {
    assert.equal(blockedFor(null, limit, start), undefined);
    assert.equal(blockedFor({ failures: 99, window_started_at: start }, limit, at(1000)), undefined);
  });
  it('blocks at the limit until the window ends', () => {
    assert.equal(blockedFor({ failures: 100, window_started_at: start }, limit, at(1000)), 3_599_000);
    assert.equal(blockedFor({ failures: 100, window_started_at: start }, limit, at(3_599_999)), 1);
  });
  it('allows again once the window is over', () => {
    assert.equal(blockedFor({ failures: 500, window_started_at: start }, limit, at(3_600_000)), undefined);
  });
});
