import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { balance, codeFor, fromTemplate } from '../programs/helpers.js';
import {
  charge,
  customer,
  dispute,
  invoice,
  paymentMethod,
  signed,
  stripeEvent,
  stripeObject,
  subscription,
  T0,
  uniqueId,
} from './fixtures.js';
import { expectReceipt, promotionCode, stripeWorkspace } from './helpers.js';

/**
 * Inbound Stripe webhooks through the HTTP API: signature checks, the allow-list of types, the
 * mapping of each handled type to provider-neutral facts, duplicates, order, and bad input.
 */

async function storedCounts(h: Harness, workspaceId: string) {
  const [row] = await h.db.query<{ stripe: number; events: number }>(
    `select (select count(*)::int8 from stripe_events where workspace_id = $1) as stripe,
            (select count(*)::int8 from events where workspace_id = $1) as events`,
    [workspaceId],
  );
  return row!;
}

/** The billing state of a workspace without generated ids and timestamps, to compare two histories. */
async function billingState(h: Harness, workspaceId: string) {
  const q = (sql: string) => h.db.query(sql, [workspaceId]);
  return {
    customers: await q(
      'select external_id, email, name, metadata from customers where workspace_id = $1 order by external_id',
    ),
    cards: await q(
      `select c.external_id as customer, p.fingerprint, p.external_id, p.brand, p.last4, p.attached_at
       from payment_methods p join customers c on c.workspace_id = p.workspace_id and c.id = p.customer_id
       where p.workspace_id = $1 order by p.fingerprint`,
    ),
    subscriptions: await q(
      `select external_id, plan_id, plan_units, interval, status, current_period_start, current_period_end,
         amount, currency, canceled_at, state_as_of
       from subscriptions where workspace_id = $1 order by external_id`,
    ),
    payments: await q(
      `select external_id, subscription_external_id, amount, currency, interval, period_start, period_end, status,
         amount_refunded, paid_at
       from payments where workspace_id = $1 order by external_id`,
    ),
    ledger: await q(
      'select kind, amount, count(*)::int8 as n from ledger_entries where workspace_id = $1 group by kind, amount order by kind, amount',
    ),
  };
}

for (const store of storeCases()) {
  describe(`Stripe webhooks in (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });
    after(() => h.close());

    describe('signature', () => {
      it('.security a missing, wrong or foreign signature is a 400 and stores nothing', async () => {
        const ws = await stripeWorkspace(h);
        const other = await stripeWorkspace(h);
        const event = stripeEvent('customer.created', customer(uniqueId('cus')));
        const { body } = signed(event, ws.secret);
        const url = `/v1/stripe/webhook/${ws.workspaceId}`;
        const attempts = [
          { what: 'no header', headers: { 'content-type': 'application/json' } },
          {
            what: 'garbage header',
            headers: { 'content-type': 'application/json', 'stripe-signature': 'nonsense' },
          },
          {
            what: "another workspace's secret",
            headers: signed(event, other.secret, { timestamp: T0 + 3600 }).headers,
          },
          {
            what: 'a signature over another body',
            headers: signed({ ...event, id: 'evt_other' }, ws.secret, { timestamp: T0 + 3600 }).headers,
          },
        ];
        for (const attempt of attempts) {
          const res = await h.request('POST', url, { key: null, rawBody: body, headers: attempt.headers });
          assert.equal(res.status, 400, `${attempt.what}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, 'stripe_signature_invalid', attempt.what);
        }
        // The body re-serialised (same JSON, other bytes) no longer matches: the raw bytes are what is signed.
        const { headers } = signed(event, ws.secret, { timestamp: T0 + 3600 });
        const reformatted = await h.request('POST', url, {
          key: null,
          rawBody: JSON.stringify(event),
          headers,
        });
        assert.equal(reformatted.status, 400);
        const unknownWorkspace = await h.request('POST', '/v1/stripe/webhook/ws_nonexistent', {
          key: null,
          rawBody: body,
          headers,
        });
        assert.equal(unknownWorkspace.status, 400);
        assert.deepEqual(await storedCounts(h, ws.workspaceId), { stripe: 0, events: 0 });
        const good = await h.request('POST', url, { key: null, rawBody: body, headers });
        await expectReceipt(good, 'processed', 'the same body with its own signature');
      });

      it('.security a timestamp more than 300 s old or in the future is refused; within 300 s it is accepted', async () => {
        const ws = await stripeWorkspace(h);
        const now = Math.floor(h.clock.now().getTime() / 1000);
        for (const [offset, ok] of [
          [-301, false],
          [301, false],
          [-299, true],
          [299, true],
        ] as const) {
          const res = await ws.send(stripeEvent('customer.created', customer(uniqueId('cus'))), {
            timestamp: now + offset,
          });
          assert.equal(res.status, ok ? 200 : 400, `offset ${offset}: ${JSON.stringify(res.body)}`);
          if (!ok) assert.match(res.body.error.message, offset < 0 ? /old/ : /future/);
        }
        assert.equal((await storedCounts(h, ws.workspaceId)).stripe, 2);
      });

      it('rotated secrets: several v1 signatures in one header, and several secrets configured, are accepted', async () => {
        const ws = await stripeWorkspace(h);
        const next = 'whsec_rotatedNextSecret0123456789';
        // Stripe signs with the old and the new secret while both are live; Perks knows only the old one yet.
        await expectReceipt(
          await ws.send(stripeEvent('customer.created', customer(uniqueId('cus'))), {
            secrets: [next, ws.secret],
          }),
          'processed',
        );
        const put = await h.request('PUT', '/v1/stripe/settings', {
          key: ws.key,
          body: { webhook_secrets: [next, ws.secret] },
        });
        assert.deepEqual(
          put.body.webhook_secrets.map((s: { last4: string }) => s.last4),
          [next.slice(-4), ws.secret.slice(-4)],
        );
        assert.ok(!JSON.stringify(put.body).includes(next), 'secrets are never echoed back');
        await expectReceipt(
          await ws.send(stripeEvent('customer.created', customer(uniqueId('cus'))), { secrets: [next] }),
          'processed',
        );
        await expectReceipt(
          await ws.send(stripeEvent('customer.created', customer(uniqueId('cus')))),
          'processed',
        );
        await h.request('PUT', '/v1/stripe/settings', { key: ws.key, body: { webhook_secrets: [next] } });
        const retired = await ws.send(stripeEvent('customer.created', customer(uniqueId('cus'))));
        assert.equal(retired.status, 400, 'the retired secret no longer signs');
      });
    });

    it('an unhandled type answers 200, is not stored, and is counted in /metrics', async () => {
      const ws = await stripeWorkspace(h);
      const res = await ws.send(stripeEvent('payment_intent.created', stripeObject('event').data.object));
      await expectReceipt(res, 'unhandled');
      assert.equal(res.body.id, null);
      assert.deepEqual(await storedCounts(h, ws.workspaceId), { stripe: 0, events: 0 });
      const metrics = await h.request('GET', '/metrics', { key: null });
      assert.match(
        String(metrics.body),
        /perks_stripe_webhooks_total\{type="payment_intent.created",outcome="unhandled"\} [1-9]/,
      );
    });

    it('maps customers, cards, subscriptions (plan units from price or product metadata) and payments', async () => {
      const ws = await stripeWorkspace(h, { planUnitsKey: 'minutes' });
      const cus = uniqueId('cus');
      const send = async (type: string, object: Record<string, any>) =>
        expectReceipt(await ws.send(stripeEvent(type, object)), 'processed', type);
      await send('customer.created', customer(cus, { metadata: { plan: 'pro', referral_code: 'NOPE' } }));
      await send('customer.updated', customer(cus, { email: 'new@example.com', metadata: { plan: 'team' } }));
      await send('payment_method.attached', paymentMethod(uniqueId('pm'), cus, 'fp_visa_1'));
      const sub = uniqueId('sub');
      const s = subscription(sub, cus);
      // Units on the product (as last seen in a product event), quantity 3 seats.
      s.items.data[0].quantity = 3;
      await send(
        'product.created',
        stripeObject('product', { id: s.items.data[0].price.product, metadata: { minutes: '500' } }),
      );
      await send('customer.subscription.created', s);
      const inv = uniqueId('in');
      await send(
        'invoice.paid',
        invoice(inv, cus, {
          subscription: sub,
          status: 'paid',
          amount: 6000,
          payment_intent: `pi_${inv}`,
          interval: 'month',
        }),
      );
      const view = await h.request('GET', `/v1/customers/${cus}`, { key: ws.key });
      assert.equal(view.status, 200);
      assert.equal(view.body.email, 'new@example.com');
      assert.deepEqual(view.body.metadata, { plan: 'team' });
      assert.equal(view.body.payment_methods[0].fingerprint, 'fp_visa_1');
      assert.equal(view.body.payment_methods[0].last4, '4242');
      assert.deepEqual(
        (({ plan_units, interval, status, amount, currency }) => ({
          plan_units,
          interval,
          status,
          amount,
          currency,
        }))(view.body.subscriptions[0]),
        { plan_units: 1500, interval: 'month', status: 'active', amount: 6000, currency: 'usd' },
      );
      const [payment] = await h.db.query<any>('select * from payments where workspace_id = $1', [
        ws.workspaceId,
      ]);
      assert.equal(payment.external_id, `pi_${inv}`);
      assert.equal(payment.amount, 6000);
      assert.equal(payment.interval, 'month');
      assert.equal(payment.subscription_external_id, sub);
      assert.equal(payment.period_start.toISOString(), new Date(T0 * 1000).toISOString());
      const events = await h.request('GET', '/v1/events?limit=100', { key: ws.key });
      assert.ok(events.body.data.every((e: { source: string }) => e.source === 'stripe'));
      // The price's own metadata wins over the product's.
      const s2 = subscription(uniqueId('sub'), cus, { units: '999' });
      s2.items.data[0].price.metadata = { minutes: '120' };
      await send('customer.subscription.created', s2);
      const again = await h.request('GET', `/v1/customers/${cus}`, { key: ws.key });
      assert.equal(again.body.subscriptions[1].plan_units, 120);
    });

    it('metadata.promotion_code is redeemed once, for the subscription, whichever event comes first', async () => {
      const ws = await stripeWorkspace(h);
      const code = await promotionCode(
        h,
        ws,
        { percent_off_bps: 1000, duration: 'forever', stackable: true, max_per_customer: 5 },
        'META',
      );
      const result = async (event: Record<string, any>) => {
        const receipt = await expectReceipt(await ws.send(event), 'processed', event.type);
        const stored = await h.request('GET', `/v1/stripe/events/${receipt.body.id}`, { key: ws.key });
        return stored.body.result?.promotion_code;
      };
      const redemptionsOf = async (cus: string) =>
        (await h.request('GET', `/v1/redemptions?customer=${cus}`, { key: ws.key })).body.data;

      // The customer first: the code waits for a subscription, then is redeemed for it.
      const cus = uniqueId('cus');
      const sub = uniqueId('sub');
      const meta = { metadata: { promotion_code: code.toLowerCase() } };
      const waiting = await result(stripeEvent('customer.created', customer(cus, meta)));
      assert.equal(waiting.waiting_for_subscription, true, JSON.stringify(waiting));
      assert.equal(waiting.redemption, null);
      assert.deepEqual(await redemptionsOf(cus), []);
      const redeemed = await result(stripeEvent('customer.subscription.created', subscription(sub, cus)));
      assert.equal(redeemed.error, null, JSON.stringify(redeemed));
      const [redemption] = await redemptionsOf(cus);
      assert.equal(redeemed.redemption, redemption.id);
      assert.equal(redemption.subscription, sub);

      // Later events about the customer or the subscription redeem nothing more, even after a void.
      const again = await result(
        stripeEvent('customer.updated', customer(cus, { email: 'changed@example.com', ...meta })),
      );
      assert.deepEqual(again, {
        code: code.toLowerCase(),
        redemption: redemption.id,
        error: null,
        already_redeemed: true,
      });
      assert.equal(
        (await result(stripeEvent('customer.subscription.updated', subscription(sub, cus)))).already_redeemed,
        true,
      );
      const voided = await h.request('POST', `/v1/redemptions/${redemption.id}/void`, { key: ws.key });
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      assert.equal(
        (await result(stripeEvent('customer.updated', customer(cus, meta)))).already_redeemed,
        true,
      );
      assert.equal((await redemptionsOf(cus)).length, 1);

      // The subscription first: the customer's code is redeemed for it at once.
      const cus2 = uniqueId('cus');
      const sub2 = uniqueId('sub');
      assert.equal(
        await result(stripeEvent('customer.subscription.created', subscription(sub2, cus2))),
        undefined,
      );
      const atOnce = await result(stripeEvent('customer.created', customer(cus2, meta)));
      const [second] = await redemptionsOf(cus2);
      assert.equal(atOnce.redemption, second.id);
      assert.equal(second.subscription, sub2);

      // A refusal is kept on the event and redeems nothing; a canceled subscription takes no code.
      const cus3 = uniqueId('cus');
      const refused = await result(
        stripeEvent('customer.created', customer(cus3, { metadata: { promotion_code: 'NO-SUCH-CODE' } })),
      );
      assert.equal(refused.waiting_for_subscription, true);
      const denied = await result(
        stripeEvent('customer.subscription.created', subscription(uniqueId('sub'), cus3)),
      );
      assert.equal(denied.error.code, 'code_invalid');
      const cus4 = uniqueId('cus');
      await result(stripeEvent('customer.created', customer(cus4, meta)));
      assert.deepEqual(
        await result(
          stripeEvent(
            'customer.subscription.created',
            subscription(uniqueId('sub'), cus4, { status: 'canceled' }),
          ),
        ),
        { code: code.toLowerCase(), redemption: null, error: null, waiting_for_subscription: true },
      );
      assert.deepEqual(await redemptionsOf(cus4), []);

      // An older customer.updated delivered late, carrying a code the customer has since dropped,
      // changes nothing and redeems nothing.
      const cus5 = uniqueId('cus');
      await result(stripeEvent('customer.subscription.created', subscription(uniqueId('sub'), cus5)));
      await result(stripeEvent('customer.updated', customer(cus5, { metadata: {} }), { created: T0 + 100 }));
      assert.equal(
        await result(stripeEvent('customer.updated', customer(cus5, meta), { created: T0 + 50 })),
        undefined,
      );
      assert.deepEqual(await redemptionsOf(cus5), []);
    });

    it('a limit reached after the checks, or the guessing limit, refuses the code and keeps the billing facts', async () => {
      const ws = await stripeWorkspace(h);
      const wsId = ws.workspaceId;
      const code = await promotionCode(h, ws, { percent_off_bps: 1000, max_redemptions: 1 }, 'STEAL');
      // As a concurrent redemption would: the promotion's last use is taken between the checks and
      // the moment its counter is taken (a plain trigger runs at the end of the insert, before the
      // deferred one).
      await h.db.exec(`
        create or replace function test_steal_last_use() returns trigger language plpgsql as $$
        begin
          update promotions set redeemed_against_limit = max_redemptions
          where workspace_id = new.workspace_id and id = new.promotion_id and name = 'STEAL';
          return null;
        end $$;
        create trigger test_steal_last_use after insert on redemptions
          for each row execute function test_steal_last_use();`);
      try {
        const result = async (event: Record<string, any>) => {
          const receipt = await expectReceipt(await ws.send(event), 'processed', event.type);
          return (await h.request('GET', `/v1/stripe/events/${receipt.body.id}`, { key: ws.key })).body;
        };
        const cus = uniqueId('cus');
        const sub = uniqueId('sub');
        await result(stripeEvent('customer.created', customer(cus, { metadata: { promotion_code: code } })));
        const stored = await result(stripeEvent('customer.subscription.created', subscription(sub, cus)));
        assert.equal(stored.result.promotion_code.error?.code, 'code_exhausted', JSON.stringify(stored));
        assert.equal(stored.result.promotion_code.redemption, null);
        // The event's own facts were kept: the subscription is known.
        const [kept] = await h.db.query<{ n: number }>(
          'select count(*)::int as n from subscriptions where workspace_id = $1 and external_id = $2',
          [wsId, sub],
        );
        assert.equal(kept!.n, 1, 'the subscription was kept');
      } finally {
        await h.db.exec(
          'drop trigger test_steal_last_use on redemptions; drop function test_steal_last_use();',
        );
      }

      // A customer past the guessing limits: the code is refused with rate_limited, the facts kept.
      const other = await promotionCode(h, ws, { percent_off_bps: 1000 }, 'GUESSED');
      const cus2 = uniqueId('cus');
      const sent = async (event: Record<string, any>) => {
        const receipt = await expectReceipt(await ws.send(event), 'processed', event.type);
        return (await h.request('GET', `/v1/stripe/events/${receipt.body.id}`, { key: ws.key })).body;
      };
      await sent(stripeEvent('customer.created', customer(cus2, { metadata: { promotion_code: other } })));
      const [perksCustomer] = await h.db.query<{ id: string }>(
        'select id from customers where workspace_id = $1 and external_id = $2',
        [wsId, cus2],
      );
      await h.db.query(
        `insert into promotion_failures (workspace_id, scope, subject, failures, window_started_at)
         values ($1, 'customer', $2, 100, now())`,
        [wsId, perksCustomer!.id],
      );
      const blocked = await sent(
        stripeEvent('customer.subscription.created', subscription(uniqueId('sub'), cus2)),
      );
      assert.equal(blocked.result.promotion_code.error?.code, 'rate_limited', JSON.stringify(blocked));
    });

    it('an event created in the future is taken as received now: applied, and later facts are not stale', async () => {
      const ws = await stripeWorkspace(h);
      const cus = uniqueId('cus');
      const sub = uniqueId('sub');
      const now = h.clock.now();
      await expectReceipt(await ws.send(stripeEvent('customer.created', customer(cus))), 'processed');
      const farAhead = Math.floor(now.getTime() / 1000) + 2 * 365 * 86_400;
      const future = stripeEvent(
        'customer.subscription.updated',
        subscription(sub, cus, { status: 'trialing' }),
        {
          created: farAhead,
        },
      );
      const received = await expectReceipt(await ws.send(future), 'processed');
      const [stored] = await h.db.query<{ occurred_at: Date }>(
        'select occurred_at from stripe_events where workspace_id = $1 and id = $2',
        [ws.workspaceId, received.body.id],
      );
      assert.equal(stored!.occurred_at.toISOString(), now.toISOString());
      h.clock.advance(60_000);
      const next = stripeEvent(
        'customer.subscription.updated',
        subscription(sub, cus, { status: 'active' }),
        {
          created: Math.floor(h.clock.now().getTime() / 1000),
        },
      );
      await expectReceipt(await ws.send(next), 'processed');
      const [row] = await h.db.query<{ status: string }>(
        'select status from subscriptions where workspace_id = $1 and external_id = $2',
        [ws.workspaceId, sub],
      );
      assert.equal(row!.status, 'active', 'the real update after it was applied, not stale');
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });

    it('a card-less payment method, a zero invoice and a finalised invoice are ignored with a reason', async () => {
      const ws = await stripeWorkspace(h);
      const sepa = stripeObject('payment_method', { type: 'sepa_debit', card: null, customer: 'cus_x' });
      const a = await expectReceipt(await ws.send(stripeEvent('payment_method.attached', sepa)), 'ignored');
      assert.match(a.body.reason, /sepa_debit/);
      const zero = invoice(uniqueId('in'), 'cus_x', { status: 'paid', amount: 0 });
      assert.match(
        (await expectReceipt(await ws.send(stripeEvent('invoice.paid', zero)), 'ignored')).body.reason,
        /amount_paid/,
      );
      const open = invoice(uniqueId('in'), 'cus_x', { status: 'paid' });
      const c = await expectReceipt(
        await ws.send(stripeEvent('invoice.created', { ...open, status: 'open' })),
        'ignored',
      );
      assert.match(c.body.reason, /drafts only/);
      const listed = await h.request('GET', '/v1/stripe/events?status=ignored', { key: ws.key });
      assert.equal(listed.body.data.length, 3);
    });

    it('a duplicate, and a replay of last month’s events, change nothing and never grant twice', async () => {
      const ws = await stripeWorkspace(h);
      await fromTemplate(h, 'credit-on-first-card', ws.key);
      const referrer = uniqueId('cus');
      const referee = uniqueId('cus');
      const history = [
        stripeEvent('customer.created', customer(referrer)),
        stripeEvent('payment_method.attached', paymentMethod(uniqueId('pm'), referrer, `fp_${referrer}`)),
      ];
      for (const e of history) await expectReceipt(await ws.send(e), 'processed');
      const code = await codeFor(h, referrer, 'credit-on-first-card', ws.key);
      const more = [
        stripeEvent('customer.created', customer(referee, { metadata: { referral_code: code } }), {
          created: T0 + 60,
        }),
        stripeEvent('payment_method.attached', paymentMethod(uniqueId('pm'), referee, `fp_${referee}`), {
          created: T0 + 120,
        }),
      ];
      for (const e of more) await expectReceipt(await ws.send(e), 'processed');
      assert.equal(await balance(h, referrer, 'usd_credit', ws.key), 2500);
      assert.equal(await balance(h, referee, 'usd_credit', ws.key), 2500);
      const before = await billingState(h, ws.workspaceId);
      const counts = await storedCounts(h, ws.workspaceId);
      for (const e of [...history, ...more]) {
        const res = await ws.send(e);
        assert.equal(res.body.duplicate, true);
        assert.equal(res.body.status, 'processed', 'the duplicate answers the stored status');
      }
      // A month later the whole history is delivered again (Stripe's "resend"): same events, same ids.
      h.clock.advance(31 * 86_400_000);
      for (const e of [...more, ...history].reverse()) assert.equal((await ws.send(e)).body.duplicate, true);
      assert.deepEqual(await billingState(h, ws.workspaceId), before);
      assert.deepEqual(await storedCounts(h, ws.workspaceId), counts);
      assert.equal(await balance(h, referee, 'usd_credit', ws.key), 2500);
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });

    it('out of order: invoice.paid before customer.subscription.created, refund and dispute before the payment, end in the same state', async () => {
      const cus = uniqueId('cus');
      const sub = uniqueId('sub');
      const pi = uniqueId('pi');
      const ch = uniqueId('ch');
      const stream = [
        stripeEvent('customer.created', customer(cus), { created: T0 }),
        stripeEvent('payment_method.attached', paymentMethod(uniqueId('pm'), cus, `fp_${cus}`), {
          created: T0 + 1,
        }),
        stripeEvent(
          'customer.subscription.created',
          subscription(sub, cus, { status: 'incomplete', units: '600' }),
          { created: T0 + 2 },
        ),
        stripeEvent(
          'invoice.paid',
          invoice(uniqueId('in'), cus, { subscription: sub, status: 'paid', payment_intent: pi }),
          { created: T0 + 3 },
        ),
        stripeEvent(
          'customer.subscription.updated',
          subscription(sub, cus, { status: 'active', units: '600' }),
          { created: T0 + 4 },
        ),
        stripeEvent('charge.refunded', charge(ch, { customer: null, payment_intent: pi, refunded: 500 }), {
          created: T0 + 5,
        }),
        stripeEvent('charge.dispute.created', dispute(uniqueId('dp'), ch, pi), { created: T0 + 6 }),
      ];
      const inOrder = await stripeWorkspace(h);
      for (const e of stream) await expectReceipt(await inOrder.send(e), 'processed');
      const shuffled = await stripeWorkspace(h);
      const order = [6, 5, 3, 4, 2, 1, 0, 3, 6];
      const statuses: string[] = [];
      for (const i of order) statuses.push((await shuffled.send(stream[i]!)).body.status);
      // The refund and the dispute waited for their payment and were applied when it arrived.
      assert.deepEqual(statuses.slice(0, 3), ['deferred', 'deferred', 'processed']);
      const waited = await h.request('GET', `/v1/stripe/events/${stream[6]!.id}`, { key: shuffled.key });
      assert.equal(waited.body.status, 'processed');
      assert.equal(waited.body.attempts, 2);
      const strip = (s: Awaited<ReturnType<typeof billingState>>) => s;
      assert.deepEqual(
        strip(await billingState(h, shuffled.workspaceId)),
        strip(await billingState(h, inOrder.workspaceId)),
      );
      const state = await billingState(h, inOrder.workspaceId);
      assert.equal((state.payments[0] as any).status, 'disputed');
      assert.equal((state.payments[0] as any).amount_refunded, 500);
      assert.equal((state.subscriptions[0] as any).status, 'active');
      assert.equal((state.subscriptions[0] as any).plan_units, 600);
    });

    describe('bad input', () => {
      it('.error a signed event of an unknown shape is stored failed with the reason, and does not block the next', async () => {
        const ws = await stripeWorkspace(h);
        const broken = stripeEvent('invoice.paid', { id: 'in_broken', object: 'invoice' });
        const res = await expectReceipt(await ws.send(broken), 'failed');
        assert.match(res.body.reason, /data\.object\.customer is missing/);
        const noId = { object: 'event', type: 'customer.created', data: {} };
        const res2 = await expectReceipt(await ws.send(noId), 'failed');
        assert.match(res2.body.stripe_event_id, /^sha256:/);
        assert.equal((await ws.send(noId)).body.duplicate, true, 'an id-less event is keyed by its body');
        await expectReceipt(
          await ws.send(stripeEvent('customer.created', customer(uniqueId('cus')))),
          'processed',
        );
        const failed = await h.request('GET', '/v1/stripe/events?status=failed', { key: ws.key });
        assert.equal(failed.status, 200);
        assert.deepEqual(
          failed.body.data.map((e: { stripe_event_id: string }) => e.stripe_event_id).includes(broken.id),
          true,
        );
        const one = await h.request('GET', `/v1/stripe/events/${broken.id}`, { key: ws.key });
        assert.equal(one.body.status, 'failed');
        assert.match(one.body.reason, /customer is missing/);
      });

      it('.error a failed event is retryable after a fix; a processed one is not', async () => {
        const ws = await stripeWorkspace(h);
        const cus = uniqueId('cus');
        const s = subscription(uniqueId('sub'), cus);
        s.items.data[0].price.metadata = { perks_plan_units: '1,000 minutes', minutes: '1000' };
        const event = stripeEvent('customer.subscription.created', s);
        const res = await expectReceipt(await ws.send(event), 'failed');
        assert.match(res.body.reason, /perks_plan_units' must be a whole number/);
        assert.equal(
          (await h.request('GET', `/v1/customers/${cus}`, { key: ws.key })).status,
          404,
          'nothing applied',
        );
        // The fix: the workspace states its plan units under another key.
        await h.request('PUT', '/v1/stripe/settings', { key: ws.key, body: { plan_units_key: 'minutes' } });
        const retried = await h.request('POST', `/v1/stripe/events/${res.body.id}/retry`, { key: ws.key });
        assert.equal(retried.status, 200, JSON.stringify(retried.body));
        assert.equal(retried.body.status, 'processed');
        assert.equal(retried.body.attempts, 2);
        const view = await h.request('GET', `/v1/customers/${cus}`, { key: ws.key });
        assert.equal(view.body.subscriptions[0].plan_units, 1000);
        const again = await h.request('POST', `/v1/stripe/events/${event.id}/retry`, { key: ws.key });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'stripe_event_not_retryable');
        const missing = await h.request('POST', '/v1/stripe/events/evt_missing/retry', { key: ws.key });
        assert.equal(missing.status, 404);
      });

      it('.error the settings refuse malformed secrets and keys, naming the field', async () => {
        const ws = await h.newWorkspace('settings');
        for (const [body, param] of [
          [{ webhook_secrets: ['nope'] }, 'webhook_secrets[0]'],
          [{ api_key: 'pk_test_123456789' }, 'api_key'],
          [{ plan_units_key: 'has space' }, 'plan_units_key'],
          [{ webhook_secrets: Array.from({ length: 6 }, (_, i) => `whsec_abcdefgh${i}`) }, 'webhook_secrets'],
          [{ extra: 1 }, 'extra'],
        ] as const) {
          const res = await h.request('PUT', '/v1/stripe/settings', { key: ws.key, body });
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.equal(res.body.error.param, param);
        }
        const view = await h.request('GET', '/v1/stripe/settings', { key: ws.key });
        assert.deepEqual(view.body.webhook_secrets, []);
        assert.equal(view.body.plan_units_key, 'perks_plan_units');
        assert.equal(view.body.webhook_path, `/v1/stripe/webhook/${ws.workspaceId}`);
      });
    });
  });
}
