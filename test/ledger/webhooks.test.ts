/**
 * The ledger's outbound webhooks, on both stores: credits.applied, invoice.voided,
 * payout.requested|approved|rejected|canceled and credits.expired are queued for a subscribed
 * endpoint in the same write as the decision, once per operation however often it is retried (with
 * or without an Idempotency-Key), and never for a refused operation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sweepExpired } from '../../src/app/ledger_sweeper.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { grantBody, grantOk, ledgerWorkspace, ref } from './fixtures.js';

// Nothing is delivered in these tests; the endpoint only has to be accepted.
process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

const HOUR = 3600 * 1000;

const LEDGER_EVENTS = [
  'credits.applied',
  'credits.expired',
  'invoice.voided',
  'payout.requested',
  'payout.approved',
  'payout.rejected',
  'payout.canceled',
];

interface Delivery {
  event_type: string;
  event_id: string;
  status: string;
  payload: { id: string; type: string; data: any };
}

for (const store of storeCases()) {
  describe(`ledger webhooks (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    /** A ledger workspace with one endpoint subscribed to `types`. */
    async function setup(types: string[] = LEDGER_EVENTS) {
      const ws = await ledgerWorkspace(h);
      const res = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'http://127.0.0.1:9/hooks', event_types: types },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { ...ws, endpoint: res.body.id as string };
    }

    async function deliveries(ws: { key: string; endpoint: string }, type?: string): Promise<Delivery[]> {
      const res = await h.request('GET', `/v1/webhook_endpoints/${ws.endpoint}/deliveries?limit=100`, {
        key: ws.key,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const all = res.body.data as Delivery[];
      return type === undefined ? all : all.filter((d) => d.event_type === type);
    }

    const post = (ws: { key: string }, url: string, body?: unknown, headers?: Record<string, string>) =>
      h.request('POST', url, {
        key: ws.key,
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });

    it('credits.applied: once per settled invoice that applied credit, with the settlement as the API shows it', async () => {
      const ws = await setup();
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const invoice = { invoice_id: ref('in'), customer: ws.customer, currency: 'usd', subtotal_cents: 300 };
      const first = await post(ws, '/v1/invoices/settle', invoice);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const repeat = await post(ws, '/v1/invoices/settle', invoice);
      assert.deepEqual(repeat.body, first.body, 'a repeat answers the same');

      const applied = await deliveries(ws, 'credits.applied');
      assert.equal(applied.length, 1, 'one event, not one per call');
      assert.equal(applied[0]!.status, 'pending');
      assert.equal(applied[0]!.payload.type, 'credits.applied');
      assert.equal(applied[0]!.payload.id, applied[0]!.event_id);
      assert.deepEqual(applied[0]!.payload.data, first.body);
    });

    it('credits.applied: once per Idempotency-Key retry of a settle in a transaction', async () => {
      const ws = await setup();
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const invoice = { invoice_id: ref('in'), customer: ws.customer, currency: 'usd', subtotal_cents: 250 };
      const headers = { 'idempotency-key': ref('key') };
      const first = await post(ws, '/v1/invoices/settle', invoice, headers);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const replay = await post(ws, '/v1/invoices/settle', invoice, headers);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      const other = await post(ws, '/v1/invoices/settle', invoice, { 'idempotency-key': ref('key') });
      assert.deepEqual(other.body, first.body);
      const applied = await deliveries(ws, 'credits.applied');
      assert.equal(applied.length, 1);
      assert.deepEqual(applied[0]!.payload.data, first.body);
    });

    it('credits.applied: nothing when no credit was applied or the settle is refused', async () => {
      const ws = await setup();
      const none = await post(ws, '/v1/invoices/settle', {
        invoice_id: ref('in'),
        customer: ws.customer,
        currency: 'usd',
        subtotal_cents: 500,
      });
      assert.equal(none.status, 200, JSON.stringify(none.body));
      assert.equal(none.body.credit_cents, 0);

      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const invoice = { invoice_id: ref('in'), customer: ws.customer, currency: 'usd', subtotal_cents: 100 };
      assert.equal((await post(ws, '/v1/invoices/settle', invoice)).status, 200);
      const conflict = await post(ws, '/v1/invoices/settle', { ...invoice, subtotal_cents: 200 });
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.error.code, 'invoice_already_settled');
      const unknown = await post(ws, '/v1/invoices/settle', {
        ...invoice,
        invoice_id: ref('in'),
        subscription: 'sub_missing',
      });
      assert.equal(unknown.status, 404);
      assert.equal(
        (await deliveries(ws, 'credits.applied')).length,
        1,
        'only the one settle that applied credit',
      );
    });

    it('invoice.voided: once per voided invoice, with the voided settlement', async () => {
      const ws = await setup();
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const invoiceId = ref('in');
      await post(ws, '/v1/invoices/settle', {
        invoice_id: invoiceId,
        customer: ws.customer,
        currency: 'usd',
        subtotal_cents: 400,
      });
      const voided = await post(ws, `/v1/invoices/${invoiceId}/void`);
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      const again = await post(ws, `/v1/invoices/${invoiceId}/void`);
      assert.deepEqual(again.body, voided.body);
      const missing = await post(ws, `/v1/invoices/${ref('in')}/void`);
      assert.equal(missing.status, 404);

      const events = await deliveries(ws, 'invoice.voided');
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]!.payload.data, voided.body);
      assert.equal(events[0]!.payload.data.status, 'voided');
    });

    it("credits.applied and invoice.voided name the subscription by the caller's id, as the API does", async () => {
      const ws = await setup();
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const event = await post(ws, '/v1/events', {
        id: ref('evt'),
        type: 'subscription.updated',
        occurred_at: h.clock.now().toISOString(),
        data: {
          customer: ws.externalId,
          subscription: {
            id: 'sub_hooked',
            plan_id: 'pro',
            interval: 'month',
            status: 'active',
            current_period_start: h.clock.now().toISOString(),
            current_period_end: new Date(h.clock.now().getTime() + 720 * HOUR).toISOString(),
            amount: 2900,
            currency: 'usd',
          },
        },
      });
      assert.equal(event.status, 200, JSON.stringify(event.body));
      const [known] = await h.db.query<{ id: string }>(
        'select id from subscriptions where workspace_id = $1 and external_id = $2',
        [ws.workspaceId, 'sub_hooked'],
      );
      const invoiceId = ref('in');
      // Named by its Perks id: the settlement and its events still give the caller's id.
      const settled = await post(ws, '/v1/invoices/settle', {
        invoice_id: invoiceId,
        customer: ws.customer,
        subscription: known!.id,
        currency: 'usd',
        subtotal_cents: 400,
      });
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      assert.equal(settled.body.subscription, 'sub_hooked');
      const voided = await post(ws, `/v1/invoices/${invoiceId}/void`);
      assert.equal(voided.status, 200, JSON.stringify(voided.body));

      const [applied] = await deliveries(ws, 'credits.applied');
      assert.deepEqual(applied!.payload.data, settled.body);
      const [void_] = await deliveries(ws, 'invoice.voided');
      assert.deepEqual(void_!.payload.data, voided.body);
      assert.equal(void_!.payload.data.subscription, 'sub_hooked');
    });

    it('payouts: requested, approved, rejected and canceled once each; refusals emit nothing', async () => {
      const ws = await setup();
      await grantOk(h, ws.key, ws.customer, grantBody('usd_commission', 20_000));
      const request = (amount: number, headers?: Record<string, string>) =>
        post(
          ws,
          '/v1/payouts',
          { customer: ws.customer, asset: 'usd_commission', amount, destination: 'iban:DE00' },
          headers,
        );

      const below = await request(100);
      assert.equal(below.status, 400);
      assert.equal(below.body.error.code, 'payout_below_minimum');
      const tooMuch = await request(50_000);
      assert.equal(tooMuch.status, 409);
      assert.equal(tooMuch.body.error.code, 'insufficient_balance');
      assert.equal((await deliveries(ws)).length, 0, 'refused requests emit nothing');

      const key = { 'idempotency-key': ref('key') };
      const paid = await request(2500, key);
      assert.equal(paid.status, 201, JSON.stringify(paid.body));
      assert.equal((await request(2500, key)).headers['idempotent-replayed'], 'true');
      const approved = await post(ws, `/v1/payouts/${paid.body.id}/approve`, { approved_by: 'finance' });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(
        (await post(ws, `/v1/payouts/${paid.body.id}/approve`, { approved_by: 'finance' })).status,
        200,
      );
      const late = await post(ws, `/v1/payouts/${paid.body.id}/reject`, { rejected_by: 'finance' });
      assert.equal(late.status, 409);

      const refused = await request(3000);
      const rejected = await post(ws, `/v1/payouts/${refused.body.id}/reject`, {
        rejected_by: 'finance',
        reason: 'unverified',
      });
      assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
      const withdrawn = await request(4000);
      const canceled = await post(ws, `/v1/payouts/${withdrawn.body.id}/cancel`);
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal((await post(ws, `/v1/payouts/${withdrawn.body.id}/cancel`)).status, 200);

      const byType = async (type: string) => (await deliveries(ws, type)).map((d) => d.payload.data);
      assert.deepEqual(
        (await byType('payout.requested')).map((p) => p.id).sort(),
        [paid.body.id, refused.body.id, withdrawn.body.id].sort(),
      );
      const requested = (await byType('payout.requested')).find((p) => p.id === paid.body.id);
      assert.deepEqual(requested, paid.body);
      assert.deepEqual(await byType('payout.approved'), [approved.body]);
      assert.deepEqual(await byType('payout.rejected'), [rejected.body]);
      assert.deepEqual(await byType('payout.canceled'), [canceled.body]);
    });

    it('credits.expired: once, when a read, an operation or the sweeper writes the expiry', async () => {
      const ws = await setup();
      const expiresAt = new Date(h.clock.now().getTime() + HOUR).toISOString();
      const lot = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 40, { expires: { type: 'at', at: expiresAt } }),
      );
      await grantOk(h, ws.key, ws.customer, grantBody('minutes', 5));
      await h.request('POST', '/v1/customers', { key: ws.key, body: { external_id: 'second' } });
      await grantOk(
        h,
        ws.key,
        'second',
        grantBody('free_days', 3, { expires: { type: 'at', at: expiresAt } }),
      );
      assert.equal((await deliveries(ws, 'credits.expired')).length, 0, 'nothing has expired yet');

      h.clock.advance(2 * HOUR);
      // A read applies the first customer's expiry; a second read finds nothing more to do.
      for (let i = 0; i < 2; i++) {
        const res = await h.request('GET', `/v1/customers/${ws.customer}/balances`, { key: ws.key });
        assert.equal(res.status, 200);
      }
      // The sweeper writes the other customer's.
      assert.ok((await sweepExpired(h.deps, 100)) >= 1);
      assert.equal(await sweepExpired(h.deps, 100), 0);

      const expired = (await deliveries(ws, 'credits.expired')).map((d) => d.payload.data);
      assert.equal(expired.length, 2);
      const first = expired.find((e) => e.customer === ws.customer)!;
      assert.equal(first.object, 'credit_expiry');
      assert.equal(first.asset, 'minutes');
      assert.equal(first.amount, 40);
      assert.deepEqual(
        first.lots.map((l: { lot: string; amount: number; expired_at: string }) => [
          l.lot,
          l.amount,
          l.expired_at,
        ]),
        [[lot.id, 40, expiresAt]],
      );
      const second = expired.find((e) => e.customer !== ws.customer)!;
      assert.equal(second.asset, 'free_days');
      assert.equal(second.amount, 3);
    });

    it('credits.expired: a consumption that expires lots first reports it once, and a refused one nothing', async () => {
      const ws = await setup(['credits.expired']);
      const expiresAt = new Date(h.clock.now().getTime() + HOUR).toISOString();
      await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 30, { expires: { type: 'at', at: expiresAt } }),
      );
      await grantOk(h, ws.key, ws.customer, grantBody('minutes', 10));
      h.clock.advance(2 * HOUR);
      const refused = await post(ws, `/v1/customers/${ws.customer}/consumptions`, {
        asset: 'minutes',
        amount: 25,
      });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal((await deliveries(ws)).length, 0, 'the refusal wrote nothing, the expiry included');
      const ok = await post(ws, `/v1/customers/${ws.customer}/consumptions`, { asset: 'minutes', amount: 4 });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      await post(ws, `/v1/customers/${ws.customer}/consumptions`, { asset: 'minutes', amount: 1 });
      const events = await deliveries(ws);
      assert.deepEqual(
        events.map((d) => [d.event_type, d.payload.data.amount]),
        [['credits.expired', 30]],
      );
    });

    it('an endpoint gets only the types it subscribed to', async () => {
      const ws = await setup(['payout.requested']);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      await grantOk(h, ws.key, ws.customer, grantBody('usd_commission', 5000));
      await post(ws, '/v1/invoices/settle', {
        invoice_id: ref('in'),
        customer: ws.customer,
        currency: 'usd',
        subtotal_cents: 100,
      });
      const payout = await post(ws, '/v1/payouts', {
        customer: ws.customer,
        asset: 'usd_commission',
        amount: 2500,
        destination: 'iban:DE00',
      });
      await post(ws, `/v1/payouts/${payout.body.id}/approve`, { approved_by: 'finance' });
      assert.deepEqual(
        (await deliveries(ws)).map((d) => d.event_type),
        ['payout.requested'],
      );
    });

    it('an endpoint created after a settle was decided on a remembered state still gets the next event', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const settle = () =>
        post(ws, '/v1/invoices/settle', {
          invoice_id: ref('in'),
          customer: ws.customer,
          currency: 'usd',
          subtotal_cents: 100,
        });
      assert.equal((await settle()).status, 200);
      const endpoint = await h.request('POST', '/v1/webhook_endpoints', {
        key: ws.key,
        body: { url: 'http://127.0.0.1:9/hooks', event_types: ['credits.applied'] },
      });
      assert.equal(endpoint.status, 201);
      const second = await settle();
      assert.equal(second.status, 200);
      const events = await deliveries({ key: ws.key, endpoint: endpoint.body.id }, 'credits.applied');
      assert.deepEqual(
        events.map((d) => d.payload.data.id),
        [second.body.id],
      );
    });
  });
}
