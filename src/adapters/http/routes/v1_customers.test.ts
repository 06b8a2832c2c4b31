import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';

for (const store of storeCases()) {
  describe(`customers (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('creates a customer, then updates it by external_id', async () => {
      const created = await h.request('POST', '/v1/customers', {
        body: { external_id: 'team_1', email: 'a@team1.example', metadata: { plan: 'free' } },
      });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^cus_[0-9a-z]{26}$/);
      assert.equal(created.body.email, 'a@team1.example');
      const updated = await h.request('POST', '/v1/customers', {
        body: { external_id: 'team_1', name: 'Team One' },
      });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.id, created.body.id);
      assert.equal(updated.body.name, 'Team One');
      assert.equal(updated.body.email, 'a@team1.example', 'fields not sent are kept');
    });

    it('retrieves by Perks id and by external_id', async () => {
      const { body } = await h.request('POST', '/v1/customers', { body: { external_id: 'team_get' } });
      const byId = await h.request('GET', `/v1/customers/${body.id}`);
      const byExternal = await h.request('GET', '/v1/customers/team_get');
      assert.equal(byId.status, 200);
      assert.deepEqual(byId.body, byExternal.body);
      const missing = await h.request('GET', '/v1/customers/nobody');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'resource_not_found');
    });

    it('pages through customers newest first with starting_after', async () => {
      const { key } = await h.newWorkspace('paging');
      for (let i = 0; i < 5; i++) {
        await h.request('POST', '/v1/customers', { key, body: { external_id: `p${i}` } });
      }
      const first = await h.request('GET', '/v1/customers?limit=2', { key });
      assert.deepEqual(
        first.body.data.map((c: { external_id: string }) => c.external_id),
        ['p4', 'p3'],
      );
      assert.equal(first.body.has_more, true);
      const seen = [...first.body.data];
      let cursor = first.body.data.at(-1).id;
      for (;;) {
        const page = await h.request('GET', `/v1/customers?limit=2&starting_after=${cursor}`, { key });
        seen.push(...page.body.data);
        if (!page.body.has_more) break;
        cursor = page.body.data.at(-1).id;
      }
      assert.deepEqual(
        seen.map((c) => c.external_id),
        ['p4', 'p3', 'p2', 'p1', 'p0'],
      );
    });

    it('lists each customer with its own cards and subscriptions', async () => {
      const { key } = await h.newWorkspace('cards');
      for (const [i, team] of ['c0', 'c1'].entries()) {
        const res = await h.request('POST', '/v1/events', {
          key,
          body: {
            id: `card_${team}`,
            type: 'card.attached',
            occurred_at: '2026-01-01T00:00:00Z',
            data: { customer: team, payment_method: { fingerprint: `fp_${i}` } },
          },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      const list = await h.request('GET', '/v1/customers', { key });
      const cards = Object.fromEntries(
        list.body.data.map((c: { external_id: string; payment_methods: { fingerprint: string }[] }) => [
          c.external_id,
          c.payment_methods.map((p) => p.fingerprint),
        ]),
      );
      assert.deepEqual(cards, { c0: ['fp_0'], c1: ['fp_1'] });
    });

    it('links a sub-account to its parent and refuses a cycle', async () => {
      await h.request('POST', '/v1/customers', { body: { external_id: 'parent' } });
      const child = await h.request('POST', '/v1/customers', {
        body: { external_id: 'child', parent_customer_id: 'parent' },
      });
      assert.equal(child.status, 201);
      const cycle = await h.request('POST', '/v1/customers', {
        body: { external_id: 'parent', parent_customer_id: 'child' },
      });
      assert.equal(cycle.status, 400);
      assert.equal(cycle.body.error.code, 'customer_parent_invalid');
      assert.equal(cycle.body.error.param, 'parent_customer_id');
      const parent = await h.request('GET', '/v1/customers/parent');
      assert.equal(parent.body.parent_customer_id, null, 'the refused change wrote nothing');
    });

    it('rejects bad input with a typed error naming the field, and writes nothing', async () => {
      const cases: [unknown, string, string][] = [
        [{ external_id: 'x', bogus: 1 }, 'parameter_unknown', 'bogus'],
        [{ email: 'a@b.example' }, 'parameter_missing', 'external_id'],
        [{ external_id: 'x', email: 'not-an-email' }, 'parameter_invalid', 'email'],
        [{ external_id: 'x'.repeat(256) }, 'parameter_invalid', 'external_id'],
        [{ external_id: 'x', metadata: { k: 'v'.repeat(501) } }, 'parameter_invalid', 'metadata.k'],
        [{ external_id: 'x', parent_customer_id: 'ghost' }, 'customer_parent_invalid', 'parent_customer_id'],
        [[1, 2], 'parameter_invalid', 'body'],
      ];
      for (const [body, code, param] of cases) {
        const res = await h.request('POST', '/v1/customers', { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
        assert.match(res.body.error.request_id, /^req_/);
      }
      const x = await h.request('GET', '/v1/customers/x');
      assert.equal(x.status, 404);
    });

    it('lists every problem of a request in error.errors, the first in message and param', async () => {
      const res = await h.request('POST', '/v1/customers', {
        body: { external_id: 'multi', email: 'not-an-email', name: 'x'.repeat(201) },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'email');
      assert.deepEqual(
        res.body.error.errors.map((e: { param: string }) => e.param),
        ['email', 'name'],
      );
    });

    it('answers malformed JSON, wrong media type and oversize bodies with typed errors', async () => {
      const malformed = await h.request('POST', '/v1/customers', { rawBody: '{"external_id": ' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'body_malformed');
      // An empty body with the JSON header is no body: a route that needs one says it is empty, and
      // one that takes none (a void) runs as it would without the header.
      const json = { 'content-type': 'application/json' };
      const empty = await h.request('POST', '/v1/customers', { headers: json });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.code, 'body_malformed');
      assert.match(empty.body.error.message, /the body is empty/);
      const absent = await h.request('POST', '/v1/customers');
      assert.deepEqual(absent.body.error.message, empty.body.error.message);
      const voidWithHeader = await h.request('POST', '/v1/invoices/in_nothing/void', { headers: json });
      const voidWithout = await h.request('POST', '/v1/invoices/in_nothing/void');
      assert.equal(voidWithHeader.status, 404, JSON.stringify(voidWithHeader.body));
      assert.equal(voidWithHeader.body.error.message, voidWithout.body.error.message);
      const media = await h.request('POST', '/v1/customers', {
        rawBody: 'external_id=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(media.status, 415);
      assert.equal(media.body.error.code, 'unsupported_media_type');
      const text = await h.request('POST', '/v1/customers', {
        rawBody: 'hi',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.status, 415, JSON.stringify(text.body));
      assert.equal(text.body.error.code, 'unsupported_media_type');
      const big = await h.request('POST', '/v1/customers', {
        rawBody: JSON.stringify({ external_id: 'big', name: 'x'.repeat(1024 * 1024) }),
      });
      assert.equal(big.status, 413);
      assert.equal(big.body.error.code, 'body_too_large');
      assert.match(big.body.error.message, /1048576 bytes/);
    });
  });
}
