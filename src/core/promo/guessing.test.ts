import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedFor, FAILURE_LIMITS, ipNetwork } from './guessing.js';

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

describe('ipNetwork', () => {
  it('keeps an IPv4 address, also written IPv4-mapped', () => {
    assert.equal(ipNetwork('10.50.50.50'), '10.50.50.50');
    assert.equal(ipNetwork('::ffff:10.50.50.50'), '10.50.50.50');
    assert.equal(ipNetwork('::FFFF:0a32:3232'), '10.50.50.50');
    assert.equal(ipNetwork('0:0:0:0:0:ffff:10.50.50.50'), '10.50.50.50');
  });

  it('counts an IPv6 address against its /64, whatever its spelling', () => {
    const key = '2001:db8:0:1::/64';
    for (const ip of [
      '2001:db8:0:1::1',
      '2001:DB8::1:0:0:0:ffff',
      '2001:0db8:0000:0001:abcd:0:0:1',
      ' 2001:db8:0:1::42 ',
    ]) {
      assert.equal(ipNetwork(ip), key, ip);
    }
    assert.notEqual(ipNetwork('2001:db8:0:2::1'), key);
    assert.equal(ipNetwork('::1'), '0:0:0:0::/64');
    assert.equal(ipNetwork('fe80::'), 'fe80:0:0:0::/64');
  });
});
