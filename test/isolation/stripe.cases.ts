import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';
import { enqueueStripeCalls } from '../../src/app/stripe_calls.js';
import { customer, newSigningSecret, signed, stripeEvent, uniqueId } from '../stripe/fixtures.js';

/**
 * Tenant isolation for the Stripe routes. The webhook route takes no API key: it is authenticated by
 * the Stripe signature, so the case proves that workspace A's signing secret cannot write into B.
 */

const now_s = (ctx: IsolationContext) => Math.floor(ctx.h.clock.now().getTime() / 1000);

/** B with Stripe settings, a processed event, a failed event and a failed Stripe call. */
async function seedB(ctx: IsolationContext) {
  const { asB, h, b } = ctx;
  const secret = newSigningSecret();
  const put = await asB('PUT', '/v1/stripe/settings', {
    body: { webhook_secrets: [secret], api_key: 'rk_test_isolationB12345678' },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const send = async (event: Record<string, unknown>) => {
    const { body, headers } = signed(event, secret, { timestamp: now_s(ctx) });
    const res = await h.request('POST', `/v1/stripe/webhook/${b.workspaceId}`, {
      key: null,
      rawBody: body,
      headers,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const customerId = uniqueId('cus_b');
  const processed = await send(stripeEvent('customer.created', customer(customerId)));
  const failed = await send(stripeEvent('invoice.paid', { id: uniqueId('in_b'), object: 'invoice' }));
  assert.equal(failed.status, 'failed');
  const [call] = await h.db.transaction(async (tx) => {
    const rows = await enqueueStripeCalls(h.deps, tx, b.workspaceId, [
      {
        dedupe_key: uniqueId('isolation'),
        call: {
          operation: 'invoiceItems.create',
          params: {
            customer: customerId,
            invoice: 'in_b',
            amount: -100,
            currency: 'usd',
            description: 'credit',
            metadata: {},
          },
        },
      },
    ]);
    await tx.query(
      `update outbox set status = 'failed', attempts = 1, last_error = 'HTTP 400' where workspace_id = $1 and id = $2`,
      [b.workspaceId, rows[0]!.id],
    );
    return rows;
  });
  return { secret, customerId, processed, failed, call: call! };
}

const reads = (s: Awaited<ReturnType<typeof seedB>>) => [
  '/v1/stripe/settings',
  '/v1/stripe/events?limit=100',
  `/v1/stripe/events/${s.failed.id}`,
  '/v1/stripe/calls?limit=100',
  `/v1/customers/${s.customerId}`,
];

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/stripe/webhook/:workspace_id',
    name: "A's signing secret cannot write into B's webhook endpoint, and A's events land in A",
    async run(ctx) {
      const { asA, asB, a, b, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      const aSecret = newSigningSecret();
      await asA('PUT', '/v1/stripe/settings', { body: { webhook_secrets: [aSecret] } });
      await unchangedForB(async () => {
        // Signed with A's secret, sent to B's URL (with A's API key too, which this route ignores).
        const event = stripeEvent(
          'customer.created',
          customer(uniqueId('cus_hijack'), { email: 'hijack@a.example' }),
        );
        const { body, headers } = signed(event, aSecret, { timestamp: now_s(ctx) });
        const intoB = await asA('POST', `/v1/stripe/webhook/${b.workspaceId}`, { rawBody: body, headers });
        assert.equal(intoB.status, 400, JSON.stringify(intoB.body));
        assert.equal(intoB.body.error.code, 'stripe_signature_invalid');
        // B's own event id, replayed by A into A's endpoint, is A's first event of that id.
        const replayed = stripeEvent('customer.created', customer(seeded.customerId), {
          id: seeded.processed.stripe_event_id,
        });
        const signedA = signed(replayed, aSecret, { timestamp: now_s(ctx) });
        const own = await asA('POST', `/v1/stripe/webhook/${a.workspaceId}`, {
          rawBody: signedA.body,
          headers: signedA.headers,
        });
        assert.equal(own.status, 200, JSON.stringify(own.body));
        assert.equal(own.body.duplicate, false);
        assert.equal(own.body.status, 'processed');
        const mine = await asA('GET', `/v1/customers/${seeded.customerId}`);
        assert.equal(mine.status, 200, "the customer was created in A's workspace");
      }, reads(seeded));
      const stillB = await asB('GET', `/v1/stripe/events/${seeded.processed.stripe_event_id}`);
      assert.equal(stillB.body.id, seeded.processed.id);
    },
  },
  {
    method: 'GET',
    url: '/v1/stripe/settings',
    name: "A's settings show none of B's secrets",
    async run(ctx) {
      const { asA, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        const res = await asA('GET', '/v1/stripe/settings');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.webhook_secrets, []);
        assert.equal(res.body.api_key, null);
        assert.equal(res.body.webhook_path, `/v1/stripe/webhook/${ctx.a.workspaceId}`);
      }, reads(seeded));
    },
  },
  {
    method: 'PUT',
    url: '/v1/stripe/settings',
    name: "A's settings change only A",
    async run(ctx) {
      const { asA, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        const res = await asA('PUT', '/v1/stripe/settings', {
          body: { webhook_secrets: [newSigningSecret()], api_key: null, plan_units_key: 'a_minutes' },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.plan_units_key, 'a_minutes');
      }, reads(seeded));
    },
  },
  {
    method: 'GET',
    url: '/v1/stripe/events',
    name: "A's event list, filters and cursors never show B's Stripe events",
    async run(ctx) {
      const { asA, expectNoneOfB, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        const all = await asA('GET', '/v1/stripe/events?limit=100');
        await expectNoneOfB(all, 'plain list');
        assert.equal(all.body.data.length, 0);
        await expectNoneOfB(await asA('GET', '/v1/stripe/events?status=failed'), 'failed only');
        await expectNoneOfB(
          await asA('GET', `/v1/stripe/events?starting_after=${seeded.failed.id}`),
          "B's cursor",
        );
      }, reads(seeded));
    },
  },
  {
    method: 'GET',
    url: '/v1/stripe/events/:id',
    name: "B's Stripe event is a 404 for A by Perks id and by Stripe id",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('GET', `/v1/stripe/events/${seeded.failed.id}`), 'Perks id');
        expectNotFound(await asA('GET', `/v1/stripe/events/${seeded.failed.stripe_event_id}`), 'Stripe id');
      }, reads(seeded));
    },
  },
  {
    method: 'POST',
    url: '/v1/stripe/events/:id/retry',
    name: "A cannot retry B's failed Stripe event",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('POST', `/v1/stripe/events/${seeded.failed.id}/retry`), 'Perks id');
        expectNotFound(
          await asA('POST', `/v1/stripe/events/${seeded.failed.stripe_event_id}/retry`),
          'Stripe id',
        );
      }, reads(seeded));
    },
  },
  {
    method: 'GET',
    url: '/v1/stripe/calls',
    name: "A's list of Stripe calls never shows B's",
    async run(ctx) {
      const { asA, expectNoneOfB, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        const all = await asA('GET', '/v1/stripe/calls?limit=100');
        await expectNoneOfB(all, 'plain list');
        assert.equal(all.body.data.length, 0);
        await expectNoneOfB(
          await asA('GET', `/v1/stripe/calls?status=failed&starting_after=${seeded.call.id}`),
          'cursor',
        );
      }, reads(seeded));
    },
  },
  {
    method: 'POST',
    url: '/v1/stripe/calls/:id/retry',
    name: "A cannot retry B's failed Stripe call",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('POST', `/v1/stripe/calls/${seeded.call.id}/retry`), "B's call");
      }, reads(seeded));
    },
  },
];
