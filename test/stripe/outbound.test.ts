import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendDueStripeCalls } from '../../src/adapters/billing/stripe/calls_worker.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { balance } from '../programs/helpers.js';
import { type FakeStripe, startFakeStripe } from './fake_stripe.js';
import { customer, invoice, stripeEvent, subscription, T0, uniqueId } from './fixtures.js';
import {
  creditedCustomer,
  expectReceipt,
  promotionCode,
  type StripeWorkspace,
  stripeWorkspace,
  subscribedCustomer,
} from './helpers.js';

/**
 * invoice.created -> settlement -> negative invoice items sent to Stripe through the outbox, with the
 * SDK pointed at a local fake that records requests and honours Idempotency-Key.
 */

const API_KEY = 'rk_test_perksOutboundTests123';

for (const store of storeCases()) {
  describe(`Stripe calls out (${store.name})`, () => {
    let h: Harness;
    let fake: FakeStripe;
    const work = () => sendDueStripeCalls(h.deps, { apiBase: fake.url, random: () => 0.5 });

    before(async () => {
      h = await startHarness(store);
      h.clock.set(new Date(T0 * 1000 + 3600_000));
      fake = await startFakeStripe();
    });
    after(async () => {
      await fake?.close();
      await h?.close();
    });

    const calls = async (ws: StripeWorkspace, query = '') => {
      const res = await h.request('GET', `/v1/stripe/calls?limit=100${query}`, { key: ws.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data as any[];
    };

    it('a draft invoice is settled once and its credit line is sent to Stripe as a negative invoice item', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await creditedCustomer(h, ws, 1500);
      const inv = uniqueId('in');
      const draft = invoice(inv, cus, { subscription: sub, amount: 2000 });
      const res = await expectReceipt(await ws.send(stripeEvent('invoice.created', draft)), 'processed');
      const event = await h.request('GET', `/v1/stripe/events/${res.body.id}`, { key: ws.key });
      assert.equal(event.body.result.credit_cents, 1500);
      assert.equal(event.body.result.stripe_calls.length, 1);
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 0);
      const [queued] = await calls(ws);
      assert.equal(queued.status, 'pending');
      assert.equal(queued.operation, 'invoiceItems.create');
      assert.deepEqual(
        { ...queued.params, metadata: undefined },
        {
          customer: cus,
          invoice: inv,
          amount: -1500,
          currency: 'usd',
          description: 'usd_credit applied',
          metadata: undefined,
        },
      );

      const before = fake.requests.length;
      assert.equal(await work(), 1);
      const sent = fake.requests.slice(before);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.path, '/v1/invoiceitems');
      assert.equal(sent[0]!.idempotencyKey, queued.idempotency_key);
      assert.equal(sent[0]!.authorization, `Bearer ${API_KEY}`);
      assert.deepEqual(
        {
          amount: sent[0]!.params.amount,
          invoice: sent[0]!.params.invoice,
          customer: sent[0]!.params.customer,
        },
        { amount: '-1500', invoice: inv, customer: cus },
      );
      const [done] = await calls(ws);
      assert.equal(done.status, 'succeeded');
      assert.match(done.result.id, /^ii_fake_/);

      // The same invoice again, under a redelivered event and under a new event id: nothing more.
      assert.equal(
        (await ws.send(stripeEvent('invoice.created', draft, { id: res.body.stripe_event_id }))).body
          .duplicate,
        true,
      );
      const second = await expectReceipt(await ws.send(stripeEvent('invoice.created', draft)), 'processed');
      const secondEvent = await h.request('GET', `/v1/stripe/events/${second.body.id}`, { key: ws.key });
      assert.deepEqual(secondEvent.body.result.stripe_calls, [], 'the settlement answered the first result');
      assert.equal(secondEvent.body.result.settlement, event.body.result.settlement);
      assert.equal(await work(), 0);
      assert.equal((await calls(ws)).length, 1);

      // The settlement names the subscription by Stripe's id, as an API settle of the invoice shows.
      const viaApi = await h.request('POST', '/v1/invoices/settle', {
        key: ws.key,
        body: { invoice_id: inv, customer: cus, subscription: sub, currency: 'usd', subtotal_cents: 2000 },
      });
      assert.equal(viaApi.status, 200, JSON.stringify(viaApi.body));
      assert.equal(viaApi.body.id, event.body.result.settlement);
      assert.equal(viaApi.body.subscription, sub);
    });

    it("takes Stripe's invoice-level discounts off the base, not again the line items' own", async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await subscribedCustomer(ws);
      const promotion = await h.request('POST', '/v1/promotions', {
        key: ws.key,
        body: { name: 'Half off', percent_off_bps: 5000, duration: 'once' },
      });
      assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
      const code = await h.request('POST', '/v1/promotion_codes', {
        key: ws.key,
        body: { promotion: promotion.body.id, code: uniqueId('HALF') },
      });
      const redeemed = await h.request('POST', '/v1/promotion_codes/redeem', {
        key: ws.key,
        body: { code: code.body.code, customer: cus, subscription: sub },
      });
      assert.equal(redeemed.status, 201, JSON.stringify(redeemed.body));
      // A line of 100.00 with its own discount of 20.00 (already out of Stripe's subtotal, 80.00), and a
      // discount of 10.00 on the invoice: the customer is charged 70.00, half of which is 35.00.
      const inv = uniqueId('in');
      const draft = invoice(inv, cus, { subscription: sub, amount: 10_000 });
      draft.subtotal = 8_000;
      draft.total = 7_000;
      draft.discounts = ['di_invoice'];
      draft.total_discount_amounts = [
        { amount: 2_000, discount: 'di_line' },
        { amount: 1_000, discount: 'di_invoice' },
      ];
      draft.lines.data[0].discounts = ['di_line'];
      draft.lines.data[0].discount_amounts = [{ amount: 2_000, discount: 'di_line' }];
      const res = await expectReceipt(await ws.send(stripeEvent('invoice.created', draft)), 'processed');
      const event = await h.request('GET', `/v1/stripe/events/${res.body.id}`, { key: ws.key });
      assert.equal(event.body.result.discount_cents, 3_500, JSON.stringify(event.body.result));
      const queued = (await calls(ws)).find((c) => c.params.invoice === inv);
      assert.equal(queued.params.amount, -3_500);

      // A payload without `discounts` cannot tell the two apart: both come off 80.00 (50.00, so 25.00).
      const { cus: other, sub: otherSub } = await subscribedCustomer(ws);
      const again = await h.request('POST', '/v1/promotion_codes', {
        key: ws.key,
        body: { promotion: promotion.body.id, code: uniqueId('HALF') },
      });
      await h.request('POST', '/v1/promotion_codes/redeem', {
        key: ws.key,
        body: { code: again.body.code, customer: other, subscription: otherSub },
      });
      const legacy = invoice(uniqueId('in'), other, { subscription: otherSub, amount: 10_000 });
      legacy.subtotal = 8_000;
      legacy.total_discount_amounts = draft.total_discount_amounts;
      delete legacy.discounts;
      const legacyRes = await expectReceipt(
        await ws.send(stripeEvent('invoice.created', legacy)),
        'processed',
      );
      const legacyEvent = await h.request('GET', `/v1/stripe/events/${legacyRes.body.id}`, { key: ws.key });
      assert.equal(legacyEvent.body.result.discount_cents, 2_500, JSON.stringify(legacyEvent.body.result));
      assert.equal(await work(), 2, 'both discount lines are sent');
    });

    it('a code redeemed after the period was paid discounts the draft of the next period, by its line period', async () => {
      const DAY = 86_400;
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await subscribedCustomer(ws);
      const paid = invoice(uniqueId('in'), cus, {
        subscription: sub,
        status: 'paid',
        payment_intent: uniqueId('pi'),
      });
      await expectReceipt(await ws.send(stripeEvent('invoice.paid', paid)), 'processed');
      h.clock.set(new Date((T0 + 10 * DAY) * 1000));
      const promotion = await h.request('POST', '/v1/promotions', {
        key: ws.key,
        body: { name: 'Ten off', percent_off_bps: 1000, duration: 'once' },
      });
      assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
      const code = await h.request('POST', '/v1/promotion_codes', {
        key: ws.key,
        body: { promotion: promotion.body.id, code: uniqueId('NEXT') },
      });
      assert.equal(code.status, 201, JSON.stringify(code.body));
      const redeemed = await h.request('POST', '/v1/promotion_codes/redeem', {
        key: ws.key,
        body: { code: code.body.code, customer: cus, subscription: sub },
      });
      assert.equal(redeemed.status, 201, JSON.stringify(redeemed.body));
      assert.equal(redeemed.body.applies_from, new Date((T0 + 30 * DAY) * 1000).toISOString());

      // The renewal draft arrives a minute before the new period starts. Its line bills that period;
      // the invoice's own period_start (the fixture puts the new start there too) is not what decides.
      h.clock.set(new Date((T0 + 30 * DAY - 60) * 1000));
      const inv = uniqueId('in');
      const draft = invoice(inv, cus, { subscription: sub, amount: 2000, start: T0 + 30 * DAY });
      draft.period_start = T0;
      draft.period_end = T0 + 30 * DAY;
      const res = await expectReceipt(await ws.send(stripeEvent('invoice.created', draft)), 'processed');
      const event = await h.request('GET', `/v1/stripe/events/${res.body.id}`, { key: ws.key });
      assert.equal(event.body.result.stripe_calls.length, 1, JSON.stringify(event.body.result));
      const queued = (await calls(ws)).find((c) => c.params.invoice === inv);
      assert.equal(queued.params.amount, -200, JSON.stringify(queued.params));
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });

    it('with the invoice lines of API versions from 2025-03-31, a paid first invoice defers a code to the next period', async () => {
      const DAY = 86_400;
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await subscribedCustomer(ws);
      // The first invoice: its own period is an instant (its creation); its line, with no type, price
      // or proration but a parent, bills [T0, T0+30d).
      const paid = invoice(uniqueId('in'), cus, {
        subscription: sub,
        status: 'paid',
        payment_intent: uniqueId('pi'),
      });
      delete paid.subscription;
      paid.parent = { type: 'subscription_details', subscription_details: { subscription: sub } };
      const line = paid.lines.data[0];
      for (const field of ['type', 'price', 'proration', 'subscription']) delete line[field];
      line.parent = {
        type: 'subscription_item_details',
        subscription_item_details: { proration: false, subscription: sub, subscription_item: 'si_1' },
      };
      await expectReceipt(await ws.send(stripeEvent('invoice.paid', paid)), 'processed');
      h.clock.set(new Date((T0 + 10 * DAY) * 1000));
      const code = await promotionCode(h, ws, { percent_off_bps: 1000, duration: 'once' }, uniqueId('NEW'));
      const redeemed = await h.request('POST', '/v1/promotion_codes/redeem', {
        key: ws.key,
        body: { code, customer: cus, subscription: sub },
      });
      assert.equal(redeemed.status, 201, JSON.stringify(redeemed.body));
      assert.equal(redeemed.body.applies_from, new Date((T0 + 30 * DAY) * 1000).toISOString());
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });

    it("a code in the customer's metadata discounts the subscription's draft invoice", async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const code = await promotionCode(h, ws, { percent_off_bps: 1000, duration: 'once' }, 'SIGNUP');
      const cus = uniqueId('cus');
      const sub = uniqueId('sub');
      await expectReceipt(
        await ws.send(stripeEvent('customer.created', customer(cus, { metadata: { promotion_code: code } }))),
        'processed',
      );
      await expectReceipt(
        await ws.send(stripeEvent('customer.subscription.created', subscription(sub, cus))),
        'processed',
      );
      const inv = uniqueId('in');
      await expectReceipt(
        await ws.send(stripeEvent('invoice.created', invoice(inv, cus, { subscription: sub, amount: 2000 }))),
        'processed',
      );
      const queued = (await calls(ws)).find((c) => c.params.invoice === inv);
      assert.equal(queued?.params.amount, -200, JSON.stringify(queued?.params));
      const before = fake.requests.length;
      assert.equal(await work(), 1);
      const [sent] = fake.requests.slice(before);
      assert.deepEqual(
        [sent?.path, sent?.params.amount, sent?.params.invoice],
        ['/v1/invoiceitems', '-200', inv],
      );
    });

    it('network errors and 5xx are retried with backoff and the same Idempotency-Key; Stripe applies the call once', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await creditedCustomer(h, ws, 700);
      const inv = uniqueId('in');
      await expectReceipt(
        await ws.send(stripeEvent('invoice.created', invoice(inv, cus, { subscription: sub }))),
        'processed',
      );
      const itemsBefore = fake.invoiceItems().length;
      const requestsBefore = fake.requests.length;
      // A 500 and a 503, then Stripe performs the call but the answer is lost on the way back. The SDK
      // itself sends a request again once when its connection closes, with the same key.
      fake.fail('/v1/invoiceitems', 500, 503, 'lost');
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        assert.equal(await work(), 1, `attempt ${attempt} is due`);
        const [call] = await calls(ws);
        assert.equal(call.attempts, attempt);
        if (attempt < 3) {
          assert.equal(call.status, 'pending', JSON.stringify(call));
          assert.match(call.last_error, /HTTP 50[03]/);
          const wait = new Date(call.next_attempt_at).getTime() - h.clock.now().getTime();
          delays.push(wait);
          assert.equal(await work(), 0, 'not due before its backoff');
          h.clock.advance(wait);
        } else {
          assert.equal(call.status, 'succeeded', JSON.stringify(call));
        }
      }
      // 1 s, then 2 s (jitter fixed at the middle of its range).
      assert.deepEqual(delays, [1000, 2000]);
      const sent = fake.requests.slice(requestsBefore).filter((r) => r.path === '/v1/invoiceitems');
      assert.deepEqual(
        sent.map((r) => [r.status, r.replayed]),
        [
          [500, false],
          [503, false],
          ['dropped', false],
          [200, true],
        ],
      );
      assert.equal(
        new Set(sent.map((r) => r.idempotencyKey)).size,
        1,
        'one Idempotency-Key for every attempt',
      );
      assert.equal(fake.invoiceItems().length, itemsBefore + 1, 'one invoice item');
    });

    it('.error a 4xx gives up at once with a visible error; a manual retry sends it with a new key', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await creditedCustomer(h, ws, 300);
      await expectReceipt(
        await ws.send(stripeEvent('invoice.created', invoice(uniqueId('in'), cus, { subscription: sub }))),
        'processed',
      );
      fake.fail('/v1/invoiceitems', 400);
      await work();
      const [failed] = await calls(ws, '&status=failed');
      assert.ok(failed, 'listed under status=failed');
      assert.equal(failed.attempts, 1);
      assert.match(failed.last_error, /HTTP 400/);
      const retried = await h.request('POST', `/v1/stripe/calls/${failed.id}/retry`, { key: ws.key });
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      assert.equal(retried.body.status, 'pending');
      assert.notEqual(retried.body.idempotency_key, failed.idempotency_key);
      await work();
      const [done] = await calls(ws);
      assert.equal(done.status, 'succeeded');
      const again = await h.request('POST', `/v1/stripe/calls/${failed.id}/retry`, { key: ws.key });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'outbox_item_not_retryable');
    });

    it('without an API key the invoice is ignored with the reason; after setting one, a retry settles it', async () => {
      const ws = await stripeWorkspace(h);
      const { cus, sub } = await creditedCustomer(h, ws, 400);
      const res = await expectReceipt(
        await ws.send(stripeEvent('invoice.created', invoice(uniqueId('in'), cus, { subscription: sub }))),
        'ignored',
      );
      assert.match(res.body.reason, /no Stripe API key/);
      assert.equal(
        await balance(h, cus, 'usd_credit', ws.key),
        400,
        'no credit used for an invoice Perks cannot change',
      );
      await h.request('PUT', '/v1/stripe/settings', { key: ws.key, body: { api_key: API_KEY } });
      const retried = await h.request('POST', `/v1/stripe/events/${res.body.id}/retry`, { key: ws.key });
      assert.equal(retried.body.status, 'processed', JSON.stringify(retried.body));
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 0);
    });

    it('an invoice for a subscription not yet seen waits for it, then is settled', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus } = await creditedCustomer(h, ws, 250);
      const sub = uniqueId('sub');
      const draft = await ws.send(
        stripeEvent('invoice.created', invoice(uniqueId('in'), cus, { subscription: sub })),
      );
      await expectReceipt(draft, 'deferred');
      assert.match(draft.body.reason, new RegExp(sub));
      await expectReceipt(
        await ws.send(stripeEvent('customer.subscription.created', subscription(sub, cus))),
        'processed',
      );
      const settled = await h.request('GET', `/v1/stripe/events/${draft.body.id}`, { key: ws.key });
      assert.equal(settled.body.status, 'processed');
      assert.equal(settled.body.result.credit_cents, 250);
    });
  });
}
