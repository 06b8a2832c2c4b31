import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';
import { systemIds } from '../../system.js';
import { buildServer } from '../server.js';

/**
 * Customer tokens: minting (POST /v1/customer_tokens with a secret key) and how the widget endpoints
 * refuse anything but a live token Perks signed for that workspace.
 */

const WIDGET = '/v1/widget/referral?program=credit-on-first-card';

for (const store of storeCases()) {
  describe(`customer tokens (${store.name})`, () => {
    let h: Harness;
    let customerId: string;
    before(async () => {
      h = await startHarness(store);
      const program = await h.request('POST', '/v1/programs/from_template', {
        body: { template: 'credit-on-first-card' },
      });
      assert.equal(program.status, 201, JSON.stringify(program.body));
      const created = await h.request('POST', '/v1/customers', { body: { external_id: 'team_tokens' } });
      customerId = created.body.id;
    });
    after(() => h.close());

    const mint = (body: Record<string, unknown>, key?: string) =>
      h.request('POST', '/v1/customer_tokens', { body, ...(key ? { key } : {}) });
    const widget = (token: string | null) => h.request('GET', WIDGET, { key: token });

    it('happy: a token for an external id names the Perks customer and lives 15 minutes by default', async () => {
      const res = await mint({ customer: 'team_tokens' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.object, 'customer_token');
      assert.equal(res.body.customer, customerId);
      assert.equal(res.body.customer_external_id, 'team_tokens');
      assert.match(res.body.token, /^ct_ws_[0-9a-z]+\.cus_[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
      assert.equal(Date.parse(res.body.expires_at) - h.clock.now().getTime(), 900_000);
      assert.equal(res.headers['cache-control'], 'no-store');
      const read = await widget(res.body.token);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body.customer, customerId);
    });

    it('happy: ttl_seconds sets the life up to one hour; the token works until the last millisecond', async () => {
      const res = await mint({ customer: customerId, ttl_seconds: 3600 });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(Date.parse(res.body.expires_at) - h.clock.now().getTime(), 3_600_000);
      const start = h.clock.now();
      h.clock.advance(3_600_000 - 1);
      assert.equal((await widget(res.body.token)).status, 200);
      h.clock.advance(1);
      const expired = await widget(res.body.token);
      assert.equal(expired.status, 401, 'expiry is half-open: at expires_at the token is dead');
      assert.equal(expired.body.error.code, 'customer_token_expired');
      assert.equal(expired.body.error.type, 'authentication_error');
      assert.equal(expired.body.error.expired_at, res.body.expires_at);
      h.clock.set(start);
    });

    it('happy: the token is verified by any server on the same database (nothing is kept in memory)', async () => {
      const res = await mint({ customer: customerId });
      const other = await buildServer({ db: h.db, clock: h.clock, ids: systemIds() });
      try {
        const answer = await other.inject({
          method: 'GET',
          url: WIDGET,
          headers: { authorization: `Bearer ${res.body.token}` },
        });
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(answer.json().customer, customerId);
      } finally {
        await other.close();
      }
    });

    it('happy: the token is never stored, not even for an Idempotency-Key replay', async () => {
      const res = await h.request('POST', '/v1/customer_tokens', {
        body: { customer: customerId },
        headers: { 'idempotency-key': 'mint-once' },
      });
      assert.equal(res.status, 201);
      const token = res.body.token as string;
      const [found] = await h.db.query<{ n: number }>(
        `select count(*)::int as n from idempotency_keys where key = 'mint-once' or response_body::text like $1`,
        [`%${token.slice(-43)}%`],
      );
      assert.equal(found!.n, 0);
    });

    const badTtl: [string, unknown][] = [
      ['zero', 0],
      ['above one hour', 3601],
      ['a fraction', 1.5],
      ['negative', -5],
      ['a string', '900'],
    ];
    for (const [label, ttl] of badTtl) {
      it(`error: ttl_seconds ${label} is refused stating the limits, writing nothing`, async () => {
        // A workspace that has minted nothing yet, so a signing secret written by mistake would show.
        const fresh = await h.newWorkspace(`ttl ${label}`);
        const customer = await h.request('POST', '/v1/customers', {
          body: { external_id: 'team_ttl' },
          key: fresh.key,
        });
        assert.equal(customer.status, 201);
        const res = await mint({ customer: 'team_ttl', ttl_seconds: ttl }, fresh.key);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'parameter_invalid');
        assert.equal(res.body.error.param, 'ttl_seconds');
        assert.match(res.body.error.message, /from 1 to 3600/);
        const [row] = await h.db.query<{ n: number }>(
          'select count(*)::int as n from customer_token_secrets where workspace_id = $1',
          [fresh.workspaceId],
        );
        assert.equal(row!.n, 0);
      });
    }

    it('error: a malformed Idempotency-Key is refused as on every other POST', async () => {
      const res = await h.request('POST', '/v1/customer_tokens', {
        body: { customer: customerId },
        headers: { 'idempotency-key': 'k'.repeat(300) },
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'idempotency_key_invalid');
      assert.match(res.body.error.message, /1 to 255/);
    });

    it('error: an unknown customer is a 404; an unknown field is refused', async () => {
      const res = await mint({ customer: 'nobody_here' });
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'resource_not_found');
      assert.equal(res.body.error.param, 'customer');
      const extra = await mint({ customer: customerId, scope: 'admin' });
      assert.equal(extra.status, 400);
      assert.equal(extra.body.error.code, 'parameter_unknown');
    });

    it('security: minting needs a secret key; a customer token cannot mint another', async () => {
      const token = (await mint({ customer: customerId })).body.token;
      const none = await h.request('POST', '/v1/customer_tokens', {
        key: null,
        body: { customer: customerId },
      });
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'api_key_missing');
      const withToken = await mint({ customer: customerId }, token);
      assert.equal(withToken.status, 401);
      assert.equal(withToken.body.error.code, 'api_key_malformed');
    });

    it('security: a customer token opens no secret-key route', async () => {
      const token = (await mint({ customer: customerId })).body.token;
      for (const url of [
        `/v1/customers/${customerId}`,
        `/v1/customers/${customerId}/balances`,
        '/v1/payouts',
      ]) {
        const res = await h.request('GET', url, { key: token });
        assert.equal(res.status, 401, url);
        assert.equal(res.body.error.code, 'api_key_malformed', url);
      }
    });

    it('security: no token, a secret key, or a malformed token are refused with typed 401s', async () => {
      const none = await widget(null);
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'customer_token_missing');
      const secret = await widget(h.key);
      assert.equal(secret.status, 401);
      assert.equal(secret.body.error.code, 'customer_token_malformed');
      assert.match(secret.body.error.message, /secret key is not accepted/);
      for (const junk of ['ct_', 'ct_a.b.c.d', `ct_${'x'.repeat(400)}`, 'Bearer', 'ct_ws_1.cus_1.zz.short']) {
        const res = await widget(junk);
        assert.equal(res.status, 401, junk);
        assert.equal(res.body.error.code, 'customer_token_malformed', junk);
      }
    });

    it('security: a token altered in any part is refused as invalid', async () => {
      const other = await h.request('POST', '/v1/customers', { body: { external_id: 'team_other' } });
      const { token, expires_at } = (await mint({ customer: customerId })).body;
      const [ws, customer, expiry, signature] = (token as string).slice(3).split('.') as [
        string,
        string,
        string,
        string,
      ];
      const later = (Date.parse(expires_at) + 86_400_000).toString(36);
      const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
      const tampered: [string, string][] = [
        ['another customer', `ct_${ws}.${other.body.id}.${expiry}.${signature}`],
        ['a later expiry', `ct_${ws}.${customer}.${later}.${signature}`],
        ['one signature character', `ct_${ws}.${customer}.${expiry}.${flipped}`],
        ['an unknown workspace', `ct_ws_00000000000000000000000000.${customer}.${expiry}.${signature}`],
      ];
      for (const [label, altered] of tampered) {
        const res = await widget(altered);
        assert.equal(res.status, 401, label);
        assert.equal(res.body.error.code, 'customer_token_invalid', label);
      }
    });

    it("security: a token signed with another workspace's secret is refused", async () => {
      const b = await h.newWorkspace('other');
      const bCustomer = await h.request('POST', '/v1/customers', {
        key: b.key,
        body: { external_id: 'b_team' },
      });
      const bToken = (await mint({ customer: bCustomer.body.id }, b.key)).body.token as string;
      const [, , expiry, signature] = bToken.slice(3).split('.');
      // B's valid signature over B's ids, presented for this workspace's customer.
      const forged = `ct_${h.workspaceId}.${customerId}.${expiry}.${signature}`;
      const res = await widget(forged);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'customer_token_invalid');
    });
  });
}
