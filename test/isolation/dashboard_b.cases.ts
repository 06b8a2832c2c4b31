import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';

/**
 * Tenant isolation for the reads and actions the dashboard's Customers and Integrations pages add:
 * customer search, a customer's grants, and disabling a webhook endpoint by hand.
 */

/** B with a customer holding a grant, and a webhook endpoint (public address literal, nothing sent). */
async function seedB({ asB, unique }: IsolationContext) {
  const asset = await asB('POST', '/v1/assets', {
    body: { key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit' },
  });
  assert.equal(asset.status, 201, JSON.stringify(asset.body));
  const externalId = unique('acme_team');
  const customer = await asB('POST', '/v1/customers', {
    body: { external_id: externalId, email: `${externalId}@b.example` },
  });
  assert.equal(customer.status, 201);
  const grant = await asB('POST', `/v1/customers/${customer.body.id}/grants`, {
    body: {
      asset: 'usd_credit',
      amount: 2500,
      reason: 'seed',
      reference: unique('grant'),
      source: { type: 'manual', actor: 'ops@b.example' },
    },
  });
  assert.equal(grant.status, 201, JSON.stringify(grant.body));
  const endpoint = await asB('POST', '/v1/webhook_endpoints', {
    body: { url: 'https://93.184.216.34/b-hooks', event_types: ['*'] },
  });
  assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
  return {
    customer: customer.body as { id: string; external_id: string; email: string },
    grant: grant.body.id as string,
    endpoint: endpoint.body.id as string,
  };
}

type Seed = Awaited<ReturnType<typeof seedB>>;

const readsOf = (b: Seed) => [
  `/v1/customers?search=${encodeURIComponent(b.customer.external_id)}`,
  `/v1/customers/${b.customer.id}/grants`,
  `/v1/webhook_endpoints/${b.endpoint}`,
];

export const cases: IsolationCase[] = [
  {
    method: 'GET',
    url: '/v1/customers',
    name: "A's customer search finds none of B's customers, by external id, e-mail or Perks id",
    async run(ctx) {
      const { asA, expectNoneOfB, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        for (const search of [
          b.customer.external_id,
          b.customer.external_id.slice(0, 4),
          b.customer.email,
          b.customer.id,
        ]) {
          const res = await asA('GET', `/v1/customers?search=${encodeURIComponent(search)}`);
          await expectNoneOfB(res, `search ${search}`);
          assert.equal(res.body.data.length, 0, `search ${search}`);
        }
        const cursor = await asA('GET', `/v1/customers?search=a&starting_after=${b.customer.id}`);
        assert.equal(cursor.status, 400, "B's customer is no cursor of A's search");
        assert.equal(cursor.body.error.param, 'starting_after');
      }, readsOf(b));
    },
  },
  {
    method: 'GET',
    url: '/v1/customers/:id/grants',
    name: "B's customer's grants are a 404 for A; A's namesake customer lists none of them",
    async run(ctx) {
      const { asA, expectNotFound, expectNoneOfB, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        for (const ref of [b.customer.id, b.customer.external_id]) {
          expectNotFound(await asA('GET', `/v1/customers/${ref}/grants`), `B's customer ${ref}`);
        }
        const mine = await asA('POST', '/v1/customers', {
          body: { external_id: b.customer.external_id },
        });
        assert.equal(mine.status, 201);
        const res = await asA('GET', `/v1/customers/${mine.body.id}/grants?starting_after=${b.grant}`);
        await expectNoneOfB(res, "A's namesake customer");
        assert.deepEqual(res.body.data, []);
        expectNotFound(
          await asA('GET', `/v1/customers/${mine.body.id}/grants?asset=usd_credit`),
          "B's asset key in A",
        );
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/webhook_endpoints/:id/disable',
    name: "A cannot disable B's webhook endpoint",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(
          await asA('POST', `/v1/webhook_endpoints/${b.endpoint}/disable`, { body: { reason: 'A' } }),
          "B's endpoint",
        );
      }, readsOf(b));
    },
  },
];
