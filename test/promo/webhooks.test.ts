import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliverDueWebhooks } from '../../src/adapters/webhooks/worker.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { type Receiver, startReceiver } from '../webhooks/receiver.js';
import { createCode, createCustomer, createPromotion, errorCode, seedCustomers } from './helpers.js';

/**
 * Redemptions and voids reach the product as outbound webhooks, written with the change itself:
 * `promotion_code.redeemed` for each new redemption (never for a replayed request or a refusal) and
 * `redemption.voided` for the first void only. Checked at the receiving end, after delivery.
 */

// The receiver listens on loopback, which the webhook URL check refuses unless allowed.
process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

interface Tenant {
  key: string;
  workspaceId: string;
}

for (const store of storeCases()) {
  describe(`promo code webhooks (${store.name})`, () => {
    let h: Harness;
    let receiver: Receiver;
    before(async () => {
      h = await startHarness(store);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await h?.close();
    });

    /** A workspace of its own with an endpoint, so each test counts only its own messages. */
    async function tenantWithEndpoint(types: string[]): Promise<Tenant & { endpoint: string }> {
      const tenant = await h.newWorkspace();
      const res = await h.request('POST', '/v1/webhook_endpoints', {
        key: tenant.key,
        body: { url: `${receiver.url}/${tenant.workspaceId}`, event_types: types },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { ...tenant, endpoint: res.body.id };
    }

    /** Redemption ids per workspace, to tell the tenants' messages apart at the one receiver. */
    const redemptionsOf = new Map<string, Set<string>>();

    /** Delivers everything due, then the messages the receiver got about this tenant's redemptions. */
    async function received(tenant: Tenant) {
      while ((await deliverDueWebhooks(h.deps, { policy: 'loopback', random: () => 0.5 })) > 0);
      const ids = redemptionsOf.get(tenant.workspaceId) ?? new Set<string>();
      return receiver.received
        .map((r) => JSON.parse(r.body) as { id: string; type: string; data: { id: string; status: string } })
        .filter((m) => ids.has(m.data.id));
    }

    async function redeemFor(
      tenant: Tenant,
      body: Record<string, unknown>,
      headers?: Record<string, string>,
    ) {
      const res = await h.request('POST', '/v1/promotion_codes/redeem', {
        key: tenant.key,
        body,
        ...(headers ? { headers } : {}),
      });
      if (res.status === 201) {
        const ids = redemptionsOf.get(tenant.workspaceId) ?? new Set<string>();
        redemptionsOf.set(tenant.workspaceId, ids.add(res.body.id));
      }
      return res;
    }

    it('one promotion_code.redeemed per redemption, none for a replayed request or a refusal', async () => {
      const tenant = await tenantWithEndpoint(['promotion_code.redeemed', 'redemption.voided']);
      const p = await createPromotion(h, { percent_off_bps: 1500 }, tenant.key);
      await createCode(h, { promotion: p.id, code: 'HOOKED', max_redemptions: 2 }, tenant.key);
      await createCustomer(h, 'hook_a', tenant.key);
      await createCustomer(h, 'hook_b', tenant.key);
      await createCustomer(h, 'hook_c', tenant.key);

      // Without an Idempotency-Key: the facts are read alone, then the write and its webhook commit together.
      const first = await redeemFor(tenant, { code: 'hooked', customer: 'hook_a', subscription: 'sub_a' });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      // With one, sent twice: the second answer is replayed and must not be told again.
      const headers = { 'idempotency-key': `hook-${tenant.workspaceId}` };
      const second = await redeemFor(tenant, { code: 'HOOKED', customer: 'hook_b' }, headers);
      assert.equal(second.status, 201, JSON.stringify(second.body));
      const replay = await redeemFor(tenant, { code: 'HOOKED', customer: 'hook_b' }, headers);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(replay.body.id, second.body.id);
      // Refusals: the code is used up; the customer already used the promotion; an unknown code.
      const exhausted = await redeemFor(tenant, { code: 'HOOKED', customer: 'hook_c' });
      assert.equal(errorCode(exhausted), 'code_exhausted');
      await createCode(h, { promotion: p.id, code: 'HOOKED_TOO' }, tenant.key);
      const again = await redeemFor(tenant, { code: 'HOOKED_TOO', customer: 'hook_a' });
      assert.equal(errorCode(again), 'code_already_used_by_customer');
      const unknown = await redeemFor(tenant, { code: 'NOSUCHCODE', customer: 'hook_c' });
      assert.equal(errorCode(unknown), 'code_invalid');

      const messages = await received(tenant);
      assert.deepEqual(
        messages.map((m) => [m.type, m.data.id]).sort(),
        [
          ['promotion_code.redeemed', first.body.id],
          ['promotion_code.redeemed', second.body.id],
        ].sort(),
      );
      const told = messages.find((m) => m.data.id === first.body.id)!;
      assert.deepEqual(told.data, first.body, 'the data is the redemption as the API answered it');
      assert.equal(new Set(messages.map((m) => m.id)).size, 2, 'two messages, two webhook ids');
    });

    it('racing redemptions: only the winners are told', async () => {
      const tenant = await tenantWithEndpoint(['*']);
      const p = await createPromotion(h, { percent_off_bps: 1000 }, tenant.key);
      await createCode(h, { promotion: p.id, code: 'RACEHOOK', max_redemptions: 3 }, tenant.key);
      const customers = await seedCustomers(h, `racehook_${tenant.workspaceId}`, 12, tenant.workspaceId);
      const replies = await Promise.all(
        customers.map((customer) => redeemFor(tenant, { code: 'RACEHOOK', customer })),
      );
      const won = replies.filter((r) => r.status === 201).map((r) => r.body.id as string);
      assert.equal(won.length, 3);
      assert.ok(replies.every((r) => r.status === 201 || errorCode(r) === 'code_exhausted'));
      const messages = await received(tenant);
      assert.deepEqual(messages.map((m) => m.data.id).sort(), [...won].sort());
      assert.ok(messages.every((m) => m.type === 'promotion_code.redeemed'));
    });

    it('one redemption.voided for the first void; voiding again tells nothing', async () => {
      const tenant = await tenantWithEndpoint(['redemption.voided']);
      const p = await createPromotion(h, { amount_off: 500, currency: 'usd' }, tenant.key);
      await createCode(h, { promotion: p.id, code: 'VOIDHOOK' }, tenant.key);
      await createCustomer(h, 'void_hook', tenant.key);
      const r = await redeemFor(tenant, { code: 'VOIDHOOK', customer: 'void_hook', subscription: 'sub_v' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const voids = await Promise.all(
        [1, 2, 3].map(() => h.request('POST', `/v1/redemptions/${r.body.id}/void`, { key: tenant.key })),
      );
      assert.ok(voids.every((v) => v.status === 200 && v.body.status === 'voided'));
      const later = await h.request('POST', `/v1/redemptions/${r.body.id}/void`, { key: tenant.key });
      assert.equal(later.status, 200);
      const messages = await received(tenant);
      // The endpoint does not subscribe to promotion_code.redeemed, so the void is all it hears of.
      assert.deepEqual(
        messages.map((m) => [m.type, m.data.id, m.data.status]),
        [['redemption.voided', r.body.id, 'voided']],
      );
    });

    it('an endpoint that subscribes to other types is told nothing of redemptions', async () => {
      const tenant = await tenantWithEndpoint(['reward.granted']);
      const p = await createPromotion(h, { percent_off_bps: 1000 }, tenant.key);
      await createCode(h, { promotion: p.id, code: 'QUIET' }, tenant.key);
      await createCustomer(h, 'quiet', tenant.key);
      const r = await redeemFor(tenant, { code: 'QUIET', customer: 'quiet' });
      assert.equal(r.status, 201);
      assert.equal(
        (await h.request('POST', `/v1/redemptions/${r.body.id}/void`, { key: tenant.key })).status,
        200,
      );
      assert.deepEqual(await received(tenant), []);
      const log = await h.request('GET', `/v1/webhook_endpoints/${tenant.endpoint}/deliveries`, {
        key: tenant.key,
      });
      assert.deepEqual(log.body.data, []);
    });
  });
}
