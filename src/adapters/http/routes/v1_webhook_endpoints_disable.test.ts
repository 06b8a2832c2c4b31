import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { emitWebhookEvent } from '../../../app/outbox_webhooks.js';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';

/** Disabling an endpoint by hand; no worker runs, so deliveries stay as written. */

for (const store of storeCases()) {
  describe(`disable a webhook endpoint (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    async function endpointWithPending() {
      const ws = await h.newWorkspace();
      const created = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'https://93.184.216.34/hooks', event_types: ['*'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await h.db.transaction((tx) =>
        emitWebhookEvent(h.deps, tx, ws.workspaceId, 'reward.granted', { n: 1 }),
      );
      return { ...ws, endpoint: created.body.id as string };
    }
    const deliveries = async (key: string, endpoint: string) => {
      const res = await h.request('GET', `/v1/webhook_endpoints/${endpoint}/deliveries`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.data as { status: string; last_error: string | null }[]).map((d) => [
        d.status,
        d.last_error,
      ]);
    };

    it('happy: cancels pending deliveries, records the reason, and enabling with recover queues them again', async () => {
      const ws = await endpointWithPending();
      assert.deepEqual(await deliveries(ws.key, ws.endpoint), [['pending', null]]);
      const res = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/disable`, {
        key: ws.key,
        body: { reason: 'receiver maintenance' },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'disabled');
      assert.equal(res.body.disabled_reason, 'disabled by hand: receiver maintenance');
      assert.equal(res.body.disabled_at, h.clock.now().toISOString());
      assert.deepEqual(await deliveries(ws.key, ws.endpoint), [['canceled', 'the endpoint was disabled']]);

      // Events meanwhile are recorded for it, canceled.
      await h.db.transaction((tx) =>
        emitWebhookEvent(h.deps, tx, ws.workspaceId, 'reward.granted', { n: 2 }),
      );
      assert.equal((await deliveries(ws.key, ws.endpoint))[0]![0], 'canceled');

      h.clock.advance(1000);
      const again = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/disable`, {
        key: ws.key,
        body: { reason: 'other' },
      });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, res.body, 'disabling a disabled endpoint changes nothing');

      const enabled = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/enable`, {
        key: ws.key,
        body: { recover: true },
      });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.equal(enabled.body.status, 'enabled');
      assert.equal(enabled.body.recovered_deliveries, 2);
      assert.deepEqual(await deliveries(ws.key, ws.endpoint), [
        ['pending', null],
        ['pending', null],
      ]);
    });

    it('happy: the body is optional', async () => {
      const ws = await endpointWithPending();
      const res = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/disable`, { key: ws.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.disabled_reason, 'disabled by hand');
    });

    it('error: an unknown endpoint is a 404, a bad reason a 400, and neither changes anything', async () => {
      const ws = await endpointWithPending();
      const missing = await h.request('POST', '/v1/webhook_endpoints/we_nope/disable', { key: ws.key });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'resource_not_found');
      const long = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/disable`, {
        key: ws.key,
        body: { reason: 'x'.repeat(501) },
      });
      assert.equal(long.status, 400);
      assert.equal(long.body.error.param, 'reason');
      const unknown = await h.request('POST', `/v1/webhook_endpoints/${ws.endpoint}/disable`, {
        key: ws.key,
        body: { why: 'x' },
      });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.code, 'parameter_unknown');
      const read = await h.request('GET', `/v1/webhook_endpoints/${ws.endpoint}`, { key: ws.key });
      assert.equal(read.body.status, 'enabled');
      assert.deepEqual(await deliveries(ws.key, ws.endpoint), [['pending', null]]);
    });
  });
}
