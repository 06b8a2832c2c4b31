import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';
import { emitWebhookEvent } from '../../src/app/outbox_webhooks.js';

/**
 * Tenant isolation for the webhook endpoint routes. URLs are public address literals, so no DNS is
 * needed and no private-address allowance; no worker runs, so nothing is sent.
 */

/** B with an endpoint and one finished delivery to it. */
async function seedB(ctx: IsolationContext) {
  const { asB, h, b } = ctx;
  const created = await asB('POST', '/v1/webhook_endpoints', {
    body: { url: 'https://93.184.216.34/b-hooks', event_types: ['*'], description: 'B' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const emitted = await h.db.transaction((tx) =>
    emitWebhookEvent(h.deps, tx, b.workspaceId, 'reward.granted', { for: 'B' }),
  );
  const delivery = emitted.deliveries[0]!;
  await h.db.query(
    `update outbox set status = 'succeeded', attempts = 1 where workspace_id = $1 and id = $2`,
    [b.workspaceId, delivery],
  );
  return { endpoint: created.body, delivery };
}

const reads = (s: Awaited<ReturnType<typeof seedB>>) => [
  '/v1/webhook_endpoints',
  `/v1/webhook_endpoints/${s.endpoint.id}`,
  `/v1/webhook_endpoints/${s.endpoint.id}/deliveries`,
];

/** A's own endpoint, to attack B's deliveries through it. */
async function endpointOfA(ctx: IsolationContext) {
  const res = await ctx.asA('POST', '/v1/webhook_endpoints', {
    body: { url: 'https://93.184.216.34/a-hooks', event_types: ['*'] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/webhook_endpoints',
    name: "A's endpoint is A's: B's events are not sent to it and B's Idempotency-Key does not replay",
    async run(ctx) {
      const { asA, asB, h, b, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      const key = ctx.unique('idem');
      const first = await asB('POST', '/v1/webhook_endpoints', {
        body: { url: 'https://93.184.216.34/b2', event_types: ['*'] },
        headers: { 'idempotency-key': key },
      });
      assert.equal(first.status, 201);
      await unchangedForB(async () => {
        const mine = await asA('POST', '/v1/webhook_endpoints', {
          body: { url: 'https://93.184.216.34/b2', event_types: ['*'] },
          headers: { 'idempotency-key': key },
        });
        assert.equal(mine.status, 201);
        assert.notEqual(mine.body.id, first.body.id);
        assert.notEqual(mine.body.secret, first.body.secret);
      }, reads(seeded));
      // An event of B is queued for B's endpoints only.
      const emitted = await h.db.transaction((tx) =>
        emitWebhookEvent(h.deps, tx, b.workspaceId, 'payout.requested', {}),
      );
      const targets = await h.db.query<{ endpoint_id: string; workspace_id: string }>(
        'select endpoint_id, workspace_id from outbox where id = any($1::text[])',
        [emitted.deliveries],
      );
      assert.equal(targets.length, 2);
      assert.ok(targets.every((t) => t.workspace_id === b.workspaceId));
    },
  },
  {
    method: 'GET',
    url: '/v1/webhook_endpoints',
    name: "A's endpoint list never shows B's",
    async run(ctx) {
      const { asA, expectNoneOfB, unchangedForB } = ctx;
      const seeded = await seedB(ctx);
      await unchangedForB(async () => {
        const list = await asA('GET', '/v1/webhook_endpoints?limit=100');
        await expectNoneOfB(list, 'plain list');
        assert.equal(list.body.data.length, 0);
        await expectNoneOfB(
          await asA('GET', `/v1/webhook_endpoints?starting_after=${seeded.endpoint.id}`),
          'cursor',
        );
      }, reads(seeded));
    },
  },
  {
    method: 'GET',
    url: '/v1/webhook_endpoints/:id',
    name: "B's endpoint is a 404 for A",
    async run(ctx) {
      const seeded = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(
          await ctx.asA('GET', `/v1/webhook_endpoints/${seeded.endpoint.id}`),
          "B's endpoint",
        );
      }, reads(seeded));
    },
  },
  {
    method: 'POST',
    url: '/v1/webhook_endpoints/:id',
    name: "A cannot redirect B's endpoint to its own URL",
    async run(ctx) {
      const seeded = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const res = await ctx.asA('POST', `/v1/webhook_endpoints/${seeded.endpoint.id}`, {
          body: { url: 'https://93.184.216.34/stolen', event_types: ['*'] },
        });
        ctx.expectNotFound(res, 'update');
      }, reads(seeded));
    },
  },
  {
    method: 'DELETE',
    url: '/v1/webhook_endpoints/:id',
    name: "A cannot delete B's endpoint",
    async run(ctx) {
      const seeded = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(await ctx.asA('DELETE', `/v1/webhook_endpoints/${seeded.endpoint.id}`), 'delete');
      }, reads(seeded));
    },
  },
  {
    method: 'POST',
    url: '/v1/webhook_endpoints/:id/rotate_secret',
    name: "A cannot rotate (and so learn) B's secret",
    async run(ctx) {
      const seeded = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const res = await ctx.asA('POST', `/v1/webhook_endpoints/${seeded.endpoint.id}/rotate_secret`);
        ctx.expectNotFound(res, 'rotate');
        assert.ok(!JSON.stringify(res.body).includes('whsec_'));
      }, reads(seeded));
    },
  },
  {
    method: 'POST',
    url: '/v1/webhook_endpoints/:id/enable',
    name: "A cannot re-enable B's endpoint or recover its deliveries",
    async run(ctx) {
      const seeded = await seedB(ctx);
      await ctx.h.db.query(
        `update webhook_endpoints set status = 'disabled', disabled_at = now() where workspace_id = $1`,
        [ctx.b.workspaceId],
      );
      await ctx.unchangedForB(async () => {
        const res = await ctx.asA('POST', `/v1/webhook_endpoints/${seeded.endpoint.id}/enable`, {
          body: { recover: true },
        });
        ctx.expectNotFound(res, 'enable');
      }, reads(seeded));
    },
  },
  {
    method: 'GET',
    url: '/v1/webhook_endpoints/:id/deliveries',
    name: "B's deliveries are a 404 for A, and never listed under A's own endpoint",
    async run(ctx) {
      const seeded = await seedB(ctx);
      const own = await endpointOfA(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(
          await ctx.asA('GET', `/v1/webhook_endpoints/${seeded.endpoint.id}/deliveries`),
          "B's endpoint",
        );
        const mine = await ctx.asA(
          'GET',
          `/v1/webhook_endpoints/${own}/deliveries?starting_after=${seeded.delivery}`,
        );
        await ctx.expectNoneOfB(mine, "A's endpoint with B's delivery as the cursor");
      }, reads(seeded));
    },
  },
  {
    method: 'POST',
    url: '/v1/webhook_endpoints/:id/deliveries/:delivery_id/replay',
    name: "A cannot replay B's delivery, through B's endpoint or its own",
    async run(ctx) {
      const seeded = await seedB(ctx);
      const own = await endpointOfA(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(
          await ctx.asA(
            'POST',
            `/v1/webhook_endpoints/${seeded.endpoint.id}/deliveries/${seeded.delivery}/replay`,
          ),
          "B's endpoint",
        );
        ctx.expectNotFound(
          await ctx.asA('POST', `/v1/webhook_endpoints/${own}/deliveries/${seeded.delivery}/replay`),
          "A's endpoint, B's delivery",
        );
      }, reads(seeded));
    },
  },
];
