import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliverDueWebhooks } from '../../src/adapters/webhooks/worker.js';
import { WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_DELAYS_S } from '../../src/app/outbox.js';
import { emitWebhookEvent, type WebhookEventType } from '../../src/app/outbox_webhooks.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { type Receiver, startReceiver } from './receiver.js';

/**
 * Signed webhook delivery from the outbox to a local receiver: signatures checked by the independent
 * `standardwebhooks` package, retries with backoff over about three days, disabling and re-enabling,
 * the delivery log, replay, timeouts and the address policy at delivery time.
 */

process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

for (const store of storeCases()) {
  describe(`webhook delivery (${store.name})`, () => {
    let h: Harness;
    let receiver: Receiver;
    const deliver = (options: { timeout_ms?: number; policy?: 'none' | 'loopback' } = {}) =>
      deliverDueWebhooks(h.deps, {
        policy: options.policy ?? 'loopback',
        random: () => 0.5,
        timeout_ms: options.timeout_ms,
      });

    before(async () => {
      h = await startHarness(store);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await h?.close();
    });

    async function endpoint(
      types: string[] = ['*'],
      url = receiver.url,
      tenant?: { key: string; workspaceId: string },
    ) {
      const ws = tenant ?? (await h.newWorkspace());
      const res = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url, event_types: types },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { ...ws, endpoint: res.body.id as string, secret: res.body.secret as string };
    }
    const emit = (workspaceId: string, type: WebhookEventType, data: unknown) =>
      h.db.transaction((tx) => emitWebhookEvent(h.deps, tx, workspaceId, type, data));
    const deliveries = async (ws: { key: string; endpoint: string }, query = '') => {
      const res = await h.request(
        'GET',
        `/v1/webhook_endpoints/${ws.endpoint}/deliveries?limit=100${query}`,
        { key: ws.key },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data as any[];
    };
    const reset = () => {
      receiver.received.length = 0;
      receiver.effects.clear();
      receiver.secrets = [];
      receiver.respond = 200;
      receiver.delay_ms = 0;
    };

    it('delivers a signed event that the Standard Webhooks reference verifies, and logs the attempt', async () => {
      reset();
      h.clock.set(new Date());
      const ws = await endpoint(['reward.granted']);
      receiver.secrets = [ws.secret];
      const emitted = await emit(ws.workspaceId, 'reward.granted', { grant: 'lot_1', amount: 2500 });
      const ignored = await emit(ws.workspaceId, 'payout.requested', { payout: 'po_1' });
      assert.equal(ignored.id, null, 'no endpoint subscribes to payout.requested');
      assert.equal(await deliver(), 1);
      assert.equal(receiver.received.length, 1);
      const got = receiver.received[0]!;
      assert.deepEqual(got.verifiedWith, [0]);
      assert.equal(got.id, emitted.id);
      assert.match(got.signature, /^v1,[A-Za-z0-9+/]+=*$/);
      const body = JSON.parse(got.body);
      assert.equal(body.type, 'reward.granted');
      assert.deepEqual(body.data, { grant: 'lot_1', amount: 2500 });
      const [delivery] = await deliveries(ws);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.event_id, emitted.id);
      assert.equal(delivery.attempt_log.length, 1);
      assert.equal(delivery.attempt_log[0].status_code, 200);
      assert.equal(delivery.attempt_log[0].response_body, 'ok');
      assert.equal(await deliver(), 0, 'nothing left');
    });

    it('during a rotation both secrets sign; after the grace period only the new one', async () => {
      reset();
      h.clock.set(new Date());
      const ws = await endpoint();
      const rotated = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/rotate_secret`, {
        key: ws.key,
        body: { grace_period_s: 60 },
      });
      receiver.secrets = [ws.secret, rotated.body.secret];
      await emit(ws.workspaceId, 'credits.applied', { n: 1 });
      await deliver();
      assert.deepEqual(receiver.received[0]!.verifiedWith, [0, 1]);
      assert.equal(receiver.received[0]!.signature.split(' ').length, 2);
      h.clock.advance(61_000);
      await emit(ws.workspaceId, 'credits.applied', { n: 2 });
      await deliver();
      assert.deepEqual(receiver.received[1]!.verifiedWith, [1], 'the old secret no longer signs');
      h.clock.set(new Date());
    });

    it('retries with exponential backoff over about three days, then fails and disables the endpoint', async () => {
      reset();
      h.clock.set(new Date());
      const ws = await endpoint();
      // Another endpoint of the same workspace watches for disabled endpoints.
      await endpoint(['webhook_endpoint.disabled'], `${receiver.url}?watcher`, ws);
      receiver.respond = (n) =>
        receiver.received[n - 1]!.body.includes('"webhook_endpoint.disabled"') ? 200 : 503;
      const { id } = await emit(ws.workspaceId, 'referral.qualified', { referral: 'ref_1' });
      const start = h.clock.now().getTime();
      const waits: number[] = [];
      for (let attempt = 1; attempt <= WEBHOOK_MAX_ATTEMPTS; attempt++) {
        assert.equal(await deliver(), 1, `attempt ${attempt}`);
        const d = (await deliveries(ws)).find((x) => x.event_id === id);
        assert.equal(d.attempts, attempt);
        if (attempt === WEBHOOK_MAX_ATTEMPTS) {
          assert.equal(d.status, 'failed');
          break;
        }
        assert.equal(d.status, 'pending');
        const wait = new Date(d.next_attempt_at).getTime() - h.clock.now().getTime();
        waits.push(wait / 1000);
        h.clock.advance(wait - 1);
        assert.equal(await deliver(), 0, 'not before its time');
        h.clock.advance(1);
      }
      assert.deepEqual(waits, WEBHOOK_RETRY_DELAYS_S);
      const hours = (h.clock.now().getTime() - start) / 3_600_000;
      assert.ok(hours > 60 && hours < 80, `gave up after ${hours} hours`);
      const failed = (await deliveries(ws)).find((x) => x.event_id === id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.attempt_log.length, WEBHOOK_MAX_ATTEMPTS);
      assert.ok(failed.attempt_log.every((a: { status_code: number }) => a.status_code === 503));
      assert.equal(failed.event_id, id);
      const disabled = await h.request('GET', `/v1/webhook_endpoints/${ws.endpoint}`, { key: ws.key });
      assert.equal(disabled.body.status, 'disabled');
      assert.match(disabled.body.disabled_reason, /gave up after 13 attempts/);
      // The watcher endpoint is told, and an event emitted while disabled is kept as canceled.
      await deliver();
      assert.ok(receiver.received.some((r) => r.body.includes('"webhook_endpoint.disabled"')));
      await emit(ws.workspaceId, 'referral.qualified', { referral: 'ref_2' });
      const canceled = await deliveries(ws, '&status=canceled');
      assert.deepEqual(
        canceled.map((d) => d.event_type),
        ['referral.qualified', 'webhook_endpoint.disabled'],
        'the event emitted while disabled, and the notice of the disabling itself',
      );
      // Re-enabled with recover: both deliveries are queued again and now succeed.
      receiver.respond = 200;
      const enabled = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/enable`, {
        key: ws.key,
        body: { recover: true },
      });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.equal(enabled.body.status, 'enabled');
      assert.equal(enabled.body.recovered_deliveries, 3);
      await deliver();
      assert.equal((await deliveries(ws, '&status=succeeded')).length, 3);
      h.clock.set(new Date());
    });

    it('a manual replay sends the same message again; the receiver applies it once', async () => {
      reset();
      h.clock.set(new Date());
      const ws = await endpoint();
      receiver.secrets = [ws.secret];
      await emit(ws.workspaceId, 'promotion_code.redeemed', { redemption: 'red_1' });
      await deliver();
      const [first] = await deliveries(ws);
      const replay = await h.request(
        'POST',
        `/v1/webhook_endpoints/${ws.endpoint}/deliveries/${first.id}/replay`,
        {
          key: ws.key,
        },
      );
      assert.equal(replay.status, 201, JSON.stringify(replay.body));
      assert.equal(replay.body.replay_of, first.id);
      assert.equal(replay.body.event_id, first.event_id);
      await deliver();
      assert.equal(receiver.received.length, 2);
      assert.equal(receiver.received[0]!.id, receiver.received[1]!.id, 'the same webhook-id');
      assert.equal(receiver.received[0]!.body, receiver.received[1]!.body, 'the same body');
      assert.equal(receiver.effects.size, 1);
      const unknown = await h.request(
        'POST',
        `/v1/webhook_endpoints/${ws.endpoint}/deliveries/whd_missing/replay`,
        {
          key: ws.key,
        },
      );
      assert.equal(unknown.status, 404);
    });

    it('a slow endpoint times out; the attempt is logged and retried', async () => {
      reset();
      h.clock.set(new Date());
      const ws = await endpoint();
      receiver.delay_ms = 500;
      await emit(ws.workspaceId, 'payout.approved', { payout: 'po_1' });
      await deliver({ timeout_ms: 100 });
      const [d] = await deliveries(ws);
      assert.equal(d.status, 'pending');
      assert.match(d.attempt_log[0].error, /no response within 100 ms/);
      assert.equal(d.attempt_log[0].status_code, null);
    });

    it('.security the address is checked again at delivery time, on the address actually connected to', async () => {
      reset();
      h.clock.set(new Date());
      const byName = await endpoint(['*'], receiver.url.replace('127.0.0.1', 'localhost'));
      const byAddress = await endpoint();
      await emit(byName.workspaceId, 'payout.rejected', { payout: 'po_1' });
      await emit(byAddress.workspaceId, 'payout.rejected', { payout: 'po_2' });
      // The operator withdrew the loopback allowance after the endpoints were saved.
      await deliver({ policy: 'none' });
      assert.equal(receiver.received.length, 0, 'nothing reached the loopback receiver');
      const [named] = await deliveries(byName);
      assert.match(named.attempt_log[0].error, /not public/);
      const [literal] = await deliveries(byAddress);
      assert.match(literal.attempt_log[0].error, /loopback address/);
    });

    it('deleting an endpoint cancels its pending deliveries', async () => {
      reset();
      const ws = await endpoint();
      await emit(ws.workspaceId, 'reward.reversed', { reversal: 'rev_1' });
      const row = await h.db.query<{ status: string }>(
        "select status from outbox where workspace_id = $1 and kind = 'webhook'",
        [ws.workspaceId],
      );
      assert.equal(row[0]!.status, 'pending');
      await h.request('DELETE', `/v1/webhook_endpoints/${ws.endpoint}`, { key: ws.key });
      const after = await h.db.query<{ status: string }>(
        "select status from outbox where workspace_id = $1 and kind = 'webhook'",
        [ws.workspaceId],
      );
      assert.equal(after[0]!.status, 'canceled');
      assert.equal(await deliver(), 0);
    });
  });
}
