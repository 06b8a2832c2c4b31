import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressAllowed, assertDeliverableUrl, classifyAddress } from './addresses.js';

describe('webhook address policy', () => {
  const table: [string, string][] = [
    ['93.184.216.34', 'public'],
    ['2606:2800:220:1:248:1893:25c8:1946', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['169.254.169.254', 'link_local'],
    ['fe80::1', 'link_local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ];
  for (const [address, cls] of table) {
    it(`${address} is ${cls}`, () => assert.equal(classifyAddress(address), cls));
  }

  it('the policy: none allows public only, loopback adds loopback, all allows everything', () => {
    assert.equal(addressAllowed('127.0.0.1', 'none'), false);
    assert.equal(addressAllowed('127.0.0.1', 'loopback'), true);
    assert.equal(addressAllowed('169.254.169.254', 'loopback'), false);
    assert.equal(addressAllowed('10.0.0.1', 'loopback'), false);
    assert.equal(addressAllowed('10.0.0.1', 'all'), true);
    assert.equal(addressAllowed('93.184.216.34', 'none'), true);
  });

  it('.security URLs: a private host, a name resolving to loopback, a bad scheme or an unresolvable host are refused', async () => {
    const refused = async (url: string, policy: 'none' | 'loopback', pattern: RegExp) => {
      await assert.rejects(assertDeliverableUrl(url, policy), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'webhook_url_refused', url);
        assert.match(err.message, pattern, url);
        return true;
      });
    };
    await refused('http://127.0.0.1:8080/hook', 'none', /loopback address/);
    await refused('http://localhost/hook', 'none', /resolves to/);
    await refused('http://[::1]/hook', 'none', /loopback/);
    await refused('http://169.254.169.254/latest/meta-data', 'loopback', /link-local/);
    await refused('http://10.0.0.5/hook', 'loopback', /private/);
    await refused('ftp://example.com/hook', 'none', /https/);
    await refused('not a url', 'none', /absolute URL/);
    await refused('https://perks-test.invalid/hook', 'none', /does not resolve/);
    assert.equal((await assertDeliverableUrl('http://127.0.0.1:8080/hook', 'loopback')).port, '8080');
    assert.ok(await assertDeliverableUrl('https://93.184.216.34/hook', 'none'));
  });
});
