import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_ENDPOINTS_PER_WORKSPACE } from '../../src/app/webhook_endpoints.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';

/** The webhook endpoints API: create (secret shown once), list, update, delete, rotate, and URL refusals. */

// The receivers in these tests listen on loopback, which the operator allows explicitly.
process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

for (const store of storeCases()) {
  describe(`webhook endpoints API (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('creates an endpoint with a whsec_ secret shown once; reads never show it', async () => {
      const ws = await h.newWorkspace();
      const res = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: {
          url: 'http://127.0.0.1:9/hooks',
          event_types: ['reward.granted', 'referral.created', 'reward.granted'],
          description: 'billing service',
          metadata: { team: 'growth' },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.match(res.body.id, /^we_/);
      assert.match(res.body.secret, /^whsec_[A-Za-z0-9]{32}$/);
      assert.equal(
        Buffer.from(res.body.secret.slice(6), 'base64').length,
        24,
        'the secret is base64 of 24 bytes',
      );
      assert.deepEqual(
        res.body.event_types,
        ['reward.granted', 'referral.created'],
        'duplicates are dropped',
      );
      assert.equal(res.body.status, 'enabled');
      const read = await h.request('GET', `/v1/webhook_endpoints/${res.body.id}`, { key: ws.key });
      assert.equal(read.status, 200);
      assert.equal(read.body.secret, undefined);
      assert.ok(!JSON.stringify(read.body).includes(res.body.secret));
      const list = await h.request('GET', '/v1/webhook_endpoints', { key: ws.key });
      assert.deepEqual(
        list.body.data.map((e: { id: string }) => e.id),
        [res.body.id],
      );
      assert.ok(!JSON.stringify(list.body).includes(res.body.secret));
    });

    it('updates the URL, types, description and metadata; omitted fields keep their value', async () => {
      const ws = await h.newWorkspace();
      const created = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'http://127.0.0.1:9/a', event_types: ['*'], description: 'first' },
      });
      const res = await h.request('POST', `/v1/webhook_endpoints/${created.body.id}`, {
        key: ws.key,
        body: { url: 'http://localhost:9/b', event_types: ['payout.requested'] },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.url, 'http://localhost:9/b');
      assert.deepEqual(res.body.event_types, ['payout.requested']);
      assert.equal(res.body.description, 'first');
      const cleared = await h.request('POST', `/v1/webhook_endpoints/${created.body.id}`, {
        key: ws.key,
        body: { description: null },
      });
      assert.equal(cleared.body.description, null);
      assert.equal(cleared.body.url, 'http://localhost:9/b');
    });

    it('.security refuses URLs that resolve to private, link-local or (by default) loopback addresses', async () => {
      const ws = await h.newWorkspace();
      for (const url of [
        'http://10.0.0.8/hook',
        'http://169.254.169.254/latest',
        'http://[fd00::1]/x',
        'gopher://127.0.0.1/',
      ]) {
        const res = await h.request('POST', '/v1/webhook_endpoints', {
          key: ws.key,
          body: { url, event_types: ['*'] },
        });
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'webhook_url_refused');
        assert.equal(res.body.error.param, 'url');
      }
      process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'none';
      try {
        const res = await h.request('POST', '/v1/webhook_endpoints', {
          key: ws.key,
          body: { url: 'http://localhost:8080/hook', event_types: ['*'] },
          headers: { 'idempotency-key': 'refused-once' },
        });
        assert.equal(res.status, 400);
        assert.match(res.body.error.message, /PERKS_WEBHOOKS_ALLOW_PRIVATE/);
        const created = await h.request('POST', '/v1/webhook_endpoints', {
          key: ws.key,
          body: { url: 'https://93.184.216.34/hook', event_types: ['*'] },
        });
        assert.equal(created.status, 201, 'a public address is fine');
        const moved = await h.request('POST', `/v1/webhook_endpoints/${created.body.id}`, {
          key: ws.key,
          body: { url: 'http://127.0.0.1/hook' },
        });
        assert.equal(moved.status, 400, 'an update is checked too');
      } finally {
        process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';
      }
      const list = await h.request('GET', '/v1/webhook_endpoints', { key: ws.key });
      assert.deepEqual(
        list.body.data.map((e: { url: string }) => e.url),
        ['https://93.184.216.34/hook'],
      );
    });

    it('.error unknown event types, empty lists and unknown fields are typed 400s naming the field', async () => {
      const ws = await h.newWorkspace();
      for (const [body, param] of [
        [{ url: 'http://127.0.0.1/x', event_types: ['reward.exploded'] }, 'event_types[0]'],
        [{ url: 'http://127.0.0.1/x', event_types: [] }, 'event_types'],
        [{ url: 'http://127.0.0.1/x', event_types: ['*'], secret: 'mine' }, 'secret'],
        [{ event_types: ['*'] }, 'url'],
        [{ url: 'x\udfff', event_types: ['*'] }, 'url'],
        [{ url: 'http://127.0.0.1/a b', event_types: ['*'] }, 'url'],
      ] as const) {
        const res = await h.request('POST', '/v1/webhook_endpoints', { key: ws.key, body });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      }
    });

    it(`.error a workspace has at most ${MAX_ENDPOINTS_PER_WORKSPACE} endpoints; the limit is in the error`, async () => {
      const ws = await h.newWorkspace();
      for (let i = 0; i < MAX_ENDPOINTS_PER_WORKSPACE; i++) {
        const res = await h.request('POST', '/v1/webhook_endpoints', {
          key: ws.key,
          body: { url: `http://127.0.0.1:9/${i}`, event_types: ['*'] },
        });
        assert.equal(res.status, 201);
      }
      const over = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'http://127.0.0.1:9/over', event_types: ['*'] },
      });
      assert.equal(over.status, 409);
      assert.equal(over.body.error.code, 'webhook_endpoint_limit_reached');
      assert.match(over.body.error.message, new RegExp(`at most ${MAX_ENDPOINTS_PER_WORKSPACE}`));
      const page = await h.request('GET', '/v1/webhook_endpoints?limit=15', { key: ws.key });
      assert.equal(page.body.has_more, true);
      const rest = await h.request(
        'GET',
        `/v1/webhook_endpoints?limit=15&starting_after=${page.body.data.at(-1).id}`,
        {
          key: ws.key,
        },
      );
      assert.equal(rest.body.data.length, 5);
      assert.equal(rest.body.has_more, false);
    });

    it('deletes an endpoint; it is then a 404', async () => {
      const ws = await h.newWorkspace();
      const created = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'http://127.0.0.1:9/x', event_types: ['*'] },
      });
      const deleted = await h.request('DELETE', `/v1/webhook_endpoints/${created.body.id}`, { key: ws.key });
      assert.deepEqual(deleted.body, { object: 'webhook_endpoint', id: created.body.id, deleted: true });
      assert.equal(
        (await h.request('GET', `/v1/webhook_endpoints/${created.body.id}`, { key: ws.key })).status,
        404,
      );
      assert.equal(
        (await h.request('DELETE', `/v1/webhook_endpoints/${created.body.id}`, { key: ws.key })).status,
        404,
      );
    });

    it('rotating shows a new secret once and reports when the old one stops signing', async () => {
      const ws = await h.newWorkspace();
      const created = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'http://127.0.0.1:9/x', event_types: ['*'] },
      });
      const rotated = await h.request('POST', `/v1/webhook_endpoints/${created.body.id}/rotate_secret`, {
        key: ws.key,
        body: { grace_period_s: 3600 },
      });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.notEqual(rotated.body.secret, created.body.secret);
      assert.equal(
        rotated.body.previous_secret_expires_at,
        new Date(h.clock.now().getTime() + 3600_000).toISOString(),
      );
      const tooLong = await h.request('POST', `/v1/webhook_endpoints/${created.body.id}/rotate_secret`, {
        key: ws.key,
        body: { grace_period_s: 8 * 86400 },
      });
      assert.equal(tooLong.status, 400);
      assert.match(tooLong.body.error.message, /7 days/);
    });
  });
}
