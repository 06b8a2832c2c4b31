import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { codeFor, DAY_MS, type Events, events, fromTemplate, unique } from './helpers.js';

// The endpoint below listens on loopback, which the webhook URL check refuses unless allowed.
process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

/** Referral decisions reach the product as outbound webhooks, queued with the change itself. */
for (const store of storeCases()) {
  describe(`referral webhooks (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    let endpoint: string;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-03-01T10:00:00Z');
      ev = events(h);
      await fromTemplate(h, 'credit-on-first-card');
      await fromTemplate(h, 'free-days-or-commission');
      const created = await h.request('POST', '/v1/webhook_endpoints', {
        body: { url: 'http://127.0.0.1:9/hooks', event_types: ['*'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      endpoint = created.body.id;
    });
    after(() => h.close());

    async function typesSince(seen: number): Promise<string[]> {
      const res = await h.request('GET', `/v1/webhook_endpoints/${endpoint}/deliveries?limit=100`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data
        .map((d: { event_type: string }) => d.event_type)
        .reverse()
        .slice(seen);
    }

    it('a rewarded referral sends referral.created, referral.qualified and one reward.granted per side', async () => {
      await ev.send([ev.customerCreated('hook_ref'), ev.cardAttached('hook_ref', 'fp_hook_ref')]);
      const code = await codeFor(h, 'hook_ref', 'credit-on-first-card');
      await ev.send([
        ev.customerCreated('hook_new'),
        ev.cardAttached('hook_new', 'fp_hook_new', { referral_code: code }),
      ]);
      assert.deepEqual(await typesSince(0), [
        'referral.created',
        'referral.qualified',
        'reward.granted',
        'reward.granted',
      ]);
      const self = await h.request('POST', '/v1/referrals', { body: { referee: 'hook_ref', code } });
      assert.equal(self.body.status, 'rejected');
      assert.deepEqual(await typesSince(4), ['referral.rejected']);
    });

    it('a refund sends reward.reversed; a suspension sends referrer.suspended, a reinstatement referrer.reinstated', async () => {
      const before = (await typesSince(0)).length;
      await ev.send(ev.customerCreated('hook_partner'));
      const code = await codeFor(h, 'hook_partner', 'free-days-or-commission');
      await ev.send(ev.customerCreated('hook_client', { referral_code: code }));
      const payment = ev.payment('hook_client', {
        id: unique('pay'),
        amount: 3900,
        interval: 'month',
      }) as any;
      await ev.send(payment);
      await ev.send(ev.refunded('hook_client', payment.data.payment.id));
      h.clock.advance(400 * DAY_MS);
      await ev.send(ev.payment('hook_client', { id: unique('pay'), amount: 3900, interval: 'month' }));
      const reinstated = await h.request('POST', '/v1/customers/hook_partner/referral_reinstate', {
        body: { program: 'free-days-or-commission', reason: 'test', actor: 'support' },
      });
      assert.equal(reinstated.status, 200);
      assert.deepEqual(await typesSince(before), [
        'referral.created',
        'referral.qualified',
        'reward.granted',
        'reward.reversed',
        'referrer.suspended',
        'referrer.reinstated',
      ]);
    });
  });
}
