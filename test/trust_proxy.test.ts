/**
 * PERKS_TRUST_PROXY: behind a load balancer every request comes from the balancer's address, so the
 * per-IP guessing limit of promo codes and the referral clicks would all count one client. With the
 * balancer trusted, the client is the address it forwards (X-Forwarded-For), on the framework's
 * routes and on the referral-link fast lane alike; without, forwarded headers are ignored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ipSubject } from '../src/app/promo_failures.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { openTestPglite } from './helpers/stores.js';
import { codeFor, events, fromTemplate } from './programs/helpers.js';

describe('PERKS_TRUST_PROXY', () => {
  it('defaults to trusting no proxy; takes true, false or a list of addresses and ranges', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ PERKS_TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ PERKS_TRUST_PROXY: 'true' }).trustProxy, true);
    assert.deepEqual(loadConfig({ PERKS_TRUST_PROXY: '10.0.0.0/8, loopback,::1' }).trustProxy, [
      '10.0.0.0/8',
      'loopback',
      '::1',
    ]);
  });

  it('refuses an entry that is not an address, a range or a known name, naming it', () => {
    for (const [value, named] of [
      ['10.0.0.0/99', /invalid range on address: 10\.0\.0\.0\/99/],
      ['proxy.internal', /invalid IP address: proxy\.internal/],
      ['10.0.0.1,,10.0.0.2', /invalid IP address: /],
      ['2', /'2' looks like a hop count, which is not taken/],
    ] as const) {
      assert.throws(
        () => loadConfig({ PERKS_TRUST_PROXY: value }),
        (err: unknown) =>
          err instanceof ConfigError &&
          /PERKS_TRUST_PROXY must be true, false or/.test(err.message) &&
          named.test(err.message),
        value,
      );
    }
  });
});

describe('the client behind a trusted proxy', () => {
  const store = { name: 'pglite' as const, open: () => openTestPglite() };
  let trusting: Harness;
  let plain: Harness;
  before(async () => {
    // Fastify's inject comes from 127.0.0.1: that is the proxy.
    trusting = await startHarness(store, { server: { trustProxy: ['127.0.0.1'] } });
    plain = await startHarness(store);
  });
  after(async () => {
    await trusting?.close();
    await plain?.close();
  });

  const failedValidation = async (h: Harness, customer: string) => {
    await h.request('POST', '/v1/customers', { body: { external_id: customer } });
    const res = await h.request('POST', '/v1/promotion_codes/validate', {
      body: { code: 'NOSUCHCODE', customer },
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.valid, false);
    return h.db.query<{ subject: string }>(
      `select subject from promotion_failures where workspace_id = $1 and scope = 'ip'`,
      [h.workspaceId],
    );
  };

  it('counts a failed code against the forwarded address when the proxy is trusted', async () => {
    assert.deepEqual(await failedValidation(trusting, 'behind_proxy'), [
      { subject: ipSubject('203.0.113.7') },
    ]);
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', async () => {
    assert.deepEqual(await failedValidation(plain, 'direct'), [{ subject: ipSubject('127.0.0.1') }]);
  });

  it('records a referral click with the forwarded address and scheme, on the route and on the fast lane', async () => {
    await fromTemplate(trusting, 'free-days-or-commission');
    await events(trusting).send(events(trusting).customerCreated('partner'));
    const code = await codeFor(trusting, 'partner', 'free-days-or-commission');
    const base = await trusting.app.listen({ port: 0, host: '127.0.0.1' });
    const get = (headers: Record<string, string>) =>
      fetch(`${base}/r/${code}`, { redirect: 'manual', headers: { 'user-agent': 'ua', ...headers } });
    const forwarded = { 'x-forwarded-for': '198.51.100.4', 'x-forwarded-proto': 'https' };
    const first = await get(forwarded); // the route: the code is not cached yet
    const second = await get(forwarded); // the fast lane
    const direct = await get({});
    for (const res of [first, second]) {
      assert.equal(res.status, 302);
      assert.match(res.headers.get('set-cookie') ?? '', /; Secure$/, 'https as the proxy forwarded it');
    }
    assert.doesNotMatch(direct.headers.get('set-cookie') ?? '', /Secure/);
    await trusting.app.close();
    const rows = await trusting.db.query<{ ip_hash: string }>(
      'select ip_hash from referral_clicks order by id',
    );
    assert.equal(rows.length, 3);
    assert.equal(rows[0]!.ip_hash, rows[1]!.ip_hash, 'the route and the fast lane saw the same client');
    assert.notEqual(rows[2]!.ip_hash, rows[0]!.ip_hash, 'a direct click is the proxy itself');
  });
});
