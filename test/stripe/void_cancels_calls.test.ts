import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendDueStripeCalls } from '../../src/adapters/billing/stripe/calls_worker.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { balance } from '../programs/helpers.js';
import { type FakeStripe, startFakeStripe } from './fake_stripe.js';
import { invoice, stripeEvent, T0, uniqueId } from './fixtures.js';
import {
  creditedCustomer,
  expectReceipt,
  halfOffOnce,
  type StripeWorkspace,
  stripeWorkspace,
} from './helpers.js';

/**
 * Voiding the settlement of a Stripe draft undoes its invoice items: those not sent are canceled, those
 * Stripe added are deleted through the outbox, and neither the worker nor a manual retry sends a call
 * of a voided settlement. Without this, a `once` discount whose period the void gave back reached
 * Stripe on two invoices.
 */

const API_KEY = 'rk_test_perksVoidCancelsCalls1';
const DAY = 86_400;

/**
 * The fake Stripe behind a proxy that adds what the fake lacks here: DELETE /v1/invoiceitems/:id
 * (refused once the item's invoice is finalised, 404 resource_missing for an item already gone), and
 * a way to hold an invoice-item creation on its way, to void while it is in flight.
 */
interface StripeProxy {
  url: string;
  deletes: { id: string; status: number }[];
  /** Invoices no longer drafts: Stripe refuses to delete their items. */
  finalized: Set<string>;
  /** Holds the next invoice-item creation until `release`; `arrived` resolves when it comes. */
  holdNextCreate(): { arrived: Promise<void>; release(): void };
  /** Deletes an item behind Perks's back (as deleting its draft in Stripe does). */
  gone(id: string): void;
  /** Items created on `invoice` and not deleted, as [invoice, amount]. */
  live(...invoices: string[]): [unknown, unknown][];
  close(): Promise<void>;
}

async function startStripeProxy(fake: FakeStripe): Promise<StripeProxy> {
  const deleted = new Set<string>();
  const deletes: { id: string; status: number }[] = [];
  const finalized = new Set<string>();
  let hold: { arrived: () => void; released: Promise<void> } | undefined;
  const upstream = new URL(fake.url);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_proxy' });
        res.end(JSON.stringify(body));
      };
      const del = /^\/v1\/invoiceitems\/([^/?]+)$/.exec(req.url ?? '');
      if (req.method === 'DELETE' && del) {
        const id = decodeURIComponent(del[1]!);
        const item = fake.invoiceItems().find((i) => i.id === id);
        if (!item || deleted.has(id)) {
          deletes.push({ id, status: 404 });
          answer(404, {
            error: {
              type: 'invalid_request_error',
              code: 'resource_missing',
              message: `No such invoiceitem: '${id}'`,
            },
          });
        } else if (finalized.has(item.invoice as string)) {
          deletes.push({ id, status: 400 });
          answer(400, {
            error: {
              type: 'invalid_request_error',
              message: `Invoice item ${id} belongs to invoice ${String(item.invoice)}, which is no longer a draft`,
            },
          });
        } else {
          deleted.add(id);
          deletes.push({ id, status: 200 });
          answer(200, { id, object: 'invoiceitem', deleted: true });
        }
        return;
      }
      if (req.method === 'POST' && req.url === '/v1/invoiceitems' && hold) {
        const held = hold;
        hold = undefined;
        held.arrived();
        await held.released;
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deletes,
    finalized,
    holdNextCreate() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedP = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      hold = { arrived, released };
      return { arrived: arrivedP, release };
    },
    gone: (id) => void deleted.add(id),
    live: (...invoices) =>
      fake
        .invoiceItems()
        .filter((i) => invoices.includes(i.invoice as string) && !deleted.has(i.id as string))
        .map((i) => [i.invoice, i.amount]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

for (const store of storeCases()) {
  describe(`voiding a Stripe draft's settlement undoes its invoice items (${store.name})`, () => {
    let h: Harness;
    let fake: FakeStripe;
    let stripe: StripeProxy;
    const work = () => sendDueStripeCalls(h.deps, { apiBase: stripe.url, random: () => 0.5 });

    before(async () => {
      h = await startHarness(store);
      h.clock.set(new Date(T0 * 1000 + 3600_000));
      fake = await startFakeStripe();
      stripe = await startStripeProxy(fake);
    });
    after(async () => {
      await stripe?.close();
      await fake?.close();
      await h?.close();
    });

    async function draft(ws: StripeWorkspace, cus: string, sub: string, start = T0) {
      const inv = uniqueId('in');
      await expectReceipt(
        await ws.send(
          stripeEvent('invoice.created', invoice(inv, cus, { subscription: sub, amount: 2000, start })),
        ),
        'processed',
      );
      return inv;
    }

    /** The workspace's calls about `inv`, oldest first. */
    async function calls(ws: StripeWorkspace, inv: string) {
      const res = await h.request('GET', '/v1/stripe/calls?limit=100', { key: ws.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.data as any[]).filter((c) => c.params.invoice === inv).reverse();
    }

    async function voidInvoice(ws: StripeWorkspace, inv: string) {
      const res = await h.request('POST', `/v1/invoices/${inv}/void`, { key: ws.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'voided');
      return res.body;
    }

    it('a void before the worker ran cancels the item; the once discount reaches Stripe on the next draft only', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const first = await draft(ws, cus, sub);
      const settlement = await voidInvoice(ws, first);
      await work();
      const [canceled] = await calls(ws, first);
      assert.equal(canceled.status, 'canceled', JSON.stringify(canceled));
      assert.equal(canceled.attempts, 0);
      assert.match(canceled.last_error, new RegExp(`settlement '${settlement.id}'.*was voided`));
      assert.deepEqual(stripe.live(first), [], 'nothing sent for the voided invoice');

      // The void gave the period back: the next draft is discounted, and is the only one in Stripe.
      const second = await draft(ws, cus, sub, T0 + 30 * DAY);
      await work();
      assert.deepEqual(stripe.live(first, second), [[second, -1000]]);

      // A second void changes nothing.
      assert.equal((await voidInvoice(ws, first)).voided_at, settlement.voided_at);
      assert.deepEqual(
        (await calls(ws, first)).map((c) => [c.operation, c.status]),
        [['invoiceItems.create', 'canceled']],
      );
    });

    it('a void after the item reached the draft queues its deletion, once; the credit comes back', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await creditedCustomer(h, ws, 1500);
      const inv = await draft(ws, cus, sub);
      await work();
      const [created] = await calls(ws, inv);
      assert.equal(created.status, 'succeeded');
      assert.deepEqual(stripe.live(inv), [[inv, -1500]]);
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 0);

      await voidInvoice(ws, inv);
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 1500, 'the credit comes back as before');
      const [, deletion] = await calls(ws, inv);
      assert.ok(deletion, 'a deletion is queued');
      assert.equal(deletion.operation, 'invoiceItems.del');
      assert.equal(deletion.status, 'pending');
      assert.deepEqual(deletion.params, { id: created.result.id, invoice: inv });
      assert.equal((await calls(ws, inv))[0].result.deletion, deletion.id);

      await voidInvoice(ws, inv);
      assert.equal((await calls(ws, inv)).length, 2, 'a second void queues nothing');
      await work();
      const [, done] = await calls(ws, inv);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.deepEqual(stripe.live(inv), [], 'the item is gone from the draft');
      assert.deepEqual(
        stripe.deletes.filter((d) => d.id === created.result.id),
        [{ id: created.result.id, status: 200 }],
      );
    });

    it('.error a deletion Stripe refuses (the invoice was finalised) is a failed call with the error', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const inv = await draft(ws, cus, sub);
      await work();
      stripe.finalized.add(inv);
      await voidInvoice(ws, inv);
      await work();
      const [created, deletion] = await calls(ws, inv);
      assert.equal(created.status, 'succeeded');
      assert.ok(deletion, 'a deletion is queued');
      assert.equal(deletion.operation, 'invoiceItems.del');
      assert.equal(deletion.status, 'failed', JSON.stringify(deletion));
      assert.equal(deletion.result.permanent, true);
      assert.match(deletion.last_error, /HTTP 400.*no longer a draft/);
      assert.deepEqual(stripe.live(inv), [[inv, -1000]], 'left for a credit note in Stripe');
    });

    it('a deletion that finds the item already gone from Stripe (its draft deleted) succeeds', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const inv = await draft(ws, cus, sub);
      await work();
      const [created] = await calls(ws, inv);
      await voidInvoice(ws, inv);
      stripe.gone(created.result.id);
      await work();
      const [, deletion] = await calls(ws, inv);
      assert.ok(deletion, 'a deletion is queued');
      assert.equal(deletion.status, 'succeeded', JSON.stringify(deletion));
      assert.deepEqual(stripe.deletes.at(-1), { id: created.result.id, status: 404 });
    });

    it('Stripe voiding the invoice leaves its sent item (it went with the invoice); deleting the draft deletes it', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      for (const [type, status, expected] of [
        ['invoice.voided', 'void', [['invoiceItems.create', 'succeeded']]],
        [
          'invoice.deleted',
          'draft',
          [
            ['invoiceItems.create', 'succeeded'],
            ['invoiceItems.del', 'pending'],
          ],
        ],
      ] as const) {
        const { cus, sub } = await halfOffOnce(h, ws);
        const inv = await draft(ws, cus, sub);
        await work();
        const event = stripeEvent(type, {
          ...invoice(inv, cus, { subscription: sub, amount: 2000 }),
          status,
        });
        await expectReceipt(await ws.send(event), 'processed', type);
        assert.deepEqual(
          (await calls(ws, inv)).map((c) => [c.operation, c.status]),
          expected,
          type,
        );
      }
      await work();
    });

    it('.error a call of a voided settlement is canceled, and retrying it is refused with the reason', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const inv = await draft(ws, cus, sub);
      fake.fail('/v1/invoiceitems', 400);
      await work();
      const [failed] = await calls(ws, inv);
      assert.equal(failed.status, 'failed');
      const settlement = await voidInvoice(ws, inv);
      const [canceled] = await calls(ws, inv);
      assert.equal(canceled.status, 'canceled');
      assert.match(canceled.last_error, /was voided \(Stripe had refused it: .*HTTP 400/);

      const retried = await h.request('POST', `/v1/stripe/calls/${failed.id}/retry`, { key: ws.key });
      assert.equal(retried.status, 409, JSON.stringify(retried.body));
      assert.equal(retried.body.error.code, 'outbox_item_not_retryable');
      assert.equal(retried.body.error.settlement, settlement.id);
      assert.match(retried.body.error.message, new RegExp(`settlement '${settlement.id}'.*was voided`));

      // A failed call of a settlement voided before voids canceled calls: refused the same way.
      await h.db.query(`update outbox set status = 'failed' where workspace_id = $1 and id = $2`, [
        ws.workspaceId,
        failed.id,
      ]);
      const again = await h.request('POST', `/v1/stripe/calls/${failed.id}/retry`, { key: ws.key });
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal(again.body.error.settlement, settlement.id);
      await work();
      assert.deepEqual(stripe.live(inv), []);
    });

    it('the worker does not send a pending call whose settlement is voided; it cancels it', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const inv = await draft(ws, cus, sub);
      await voidInvoice(ws, inv);
      // As a void from before voids canceled calls left it.
      const [call] = await calls(ws, inv);
      await h.db.query(
        `update outbox set status = 'pending', last_error = null, completed_at = null
         where workspace_id = $1 and id = $2`,
        [ws.workspaceId, call.id],
      );
      const before = fake.requests.length;
      await work();
      assert.deepEqual(
        fake.requests.slice(before).filter((r) => r.params.invoice === inv),
        [],
        'not sent',
      );
      const [after] = await calls(ws, inv);
      assert.equal(after.status, 'canceled');
      assert.equal(after.attempts, 1);
      assert.match(after.last_error, /was voided/);
    });

    it('a void that commits while the item is on its way: the item Stripe added is recorded and deleted', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const inv = await draft(ws, cus, sub);
      const held = stripe.holdNextCreate();
      const sending = work();
      await held.arrived;
      await voidInvoice(ws, inv);
      const [whileSent] = await calls(ws, inv);
      assert.equal(whileSent.status, 'canceled');
      held.release();
      assert.equal(await sending, 1);
      assert.deepEqual(stripe.live(inv), [[inv, -1000]], 'Stripe added it after the void');

      const [created, deletion] = await calls(ws, inv);
      assert.equal(created.status, 'canceled');
      assert.match(created.result.id, /^ii_fake_/);
      assert.equal(created.result.deletion, deletion.id);
      assert.deepEqual(deletion.params, { id: created.result.id, invoice: inv });
      await work();
      assert.equal((await calls(ws, inv))[1].status, 'succeeded');
      assert.deepEqual(stripe.live(inv), []);
    });

    it('Stripe voiding the invoice while the item is on its way: the item is recorded and left', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await halfOffOnce(h, ws);
      const inv = await draft(ws, cus, sub);
      const held = stripe.holdNextCreate();
      const sending = work();
      await held.arrived;
      const voided = stripeEvent('invoice.voided', {
        ...invoice(inv, cus, { subscription: sub, amount: 2000 }),
        status: 'void',
      });
      await expectReceipt(await ws.send(voided), 'processed');
      held.release();
      assert.equal(await sending, 1);
      const all = await calls(ws, inv);
      assert.deepEqual(
        all.map((c) => [c.operation, c.status]),
        [['invoiceItems.create', 'canceled']],
        'no deletion: Stripe refuses to edit a void invoice',
      );
      assert.match(all[0].result.id, /^ii_fake_/);
      assert.match(all[0].last_error, /went with the invoice Stripe voided/);
    });
  });
}
