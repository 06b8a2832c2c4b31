import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { balance } from '../programs/helpers.js';
import { invoice, stripeEvent, T0, uniqueId } from './fixtures.js';
import {
  creditedCustomer,
  expectReceipt,
  halfOffOnce,
  type StripeWorkspace,
  stripeWorkspace,
  subscribedCustomer,
} from './helpers.js';

/**
 * invoice.voided and invoice.deleted give back what Perks settled on the invoice (the promotion
 * discount and the credit), so that it goes to the invoice the customer actually pays.
 */

const API_KEY = 'rk_test_perksInvoiceVoided123';
const DAY = 86_400;

for (const store of storeCases()) {
  describe(`Stripe invoice voided or deleted (${store.name})`, () => {
    let h: Harness;

    before(async () => {
      h = await startHarness(store);
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });
    after(async () => {
      await h?.close();
    });

    /** Sends an event and answers the stored event's `result` (and the receipt). */
    async function sendProcessed(ws: StripeWorkspace, event: Record<string, any>) {
      const receipt = await expectReceipt(await ws.send(event), 'processed', event.type);
      const stored = await h.request('GET', `/v1/stripe/events/${receipt.body.id}`, { key: ws.key });
      assert.equal(stored.status, 200, JSON.stringify(stored.body));
      return { receipt, result: stored.body.result };
    }

    /** The draft of the period starting `periods` months after T0 (30 days each). */
    const draft = (cus: string, sub: string, periods: number, amount = 2000) =>
      invoice(uniqueId('in'), cus, { subscription: sub, amount, start: T0 + periods * 30 * DAY });

    const redemptionStatus = async (ws: StripeWorkspace, id: string) => {
      const res = await h.request('GET', `/v1/redemptions/${id}`, { key: ws.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.status as string;
    };

    for (const [type, status] of [
      ['invoice.voided', 'void'],
      ['invoice.deleted', 'draft'],
    ] as const) {
      it(`${type} gives a once discount back, and the next draft is discounted instead`, async () => {
        const ws = await stripeWorkspace(h, { apiKey: API_KEY });
        const { cus, sub, redemption } = await halfOffOnce(h, ws);
        const first = draft(cus, sub, 0);
        const settled = await sendProcessed(ws, stripeEvent('invoice.created', first));
        assert.equal(settled.result.discount_cents, 1000);
        assert.equal(await redemptionStatus(ws, redemption), 'completed');

        const voided = await sendProcessed(ws, stripeEvent(type, { ...first, status }));
        assert.equal(voided.result.settlement, settled.result.settlement);
        assert.equal(voided.result.discount_cents, 1000, 'the discount given back');
        assert.ok(voided.result.voided_at);
        assert.equal(await redemptionStatus(ws, redemption), 'active', 'the period is open again');

        const next = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 1)));
        assert.equal(next.result.discount_cents, 1000, 'the replacement draft takes the discount');
        assert.equal(await redemptionStatus(ws, redemption), 'completed');
        const third = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 2)));
        assert.equal(third.result.discount_cents, 0, 'a once discount is still used once');
      });
    }

    it('a redelivered event, the other event for the same invoice, or a void already done by the operator changes nothing', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub, redemption } = await halfOffOnce(h, ws);
      const first = draft(cus, sub, 0);
      await sendProcessed(ws, stripeEvent('invoice.created', first));
      const event = stripeEvent('invoice.deleted', first);
      const { receipt } = await sendProcessed(ws, event);

      // Redelivered under the same event id: a duplicate, answered with the stored status.
      const again = await ws.send(event);
      assert.equal(again.status, 200);
      assert.equal(again.body.duplicate, true);
      assert.equal(again.body.status, 'processed');
      assert.equal(again.body.id, receipt.body.id);

      // The next draft takes the discount given back; the same void under a new event id, and then
      // invoice.voided for the same invoice, give nothing back a second time.
      const next = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 1)));
      assert.equal(next.result.discount_cents, 1000);
      for (const type of ['invoice.deleted', 'invoice.voided']) {
        const res = await expectReceipt(
          await ws.send(
            stripeEvent(type, { ...first, status: type === 'invoice.voided' ? 'void' : 'draft' }),
          ),
          'ignored',
          type,
        );
        assert.match(res.body.reason, /already voided/);
      }
      assert.equal(await redemptionStatus(ws, redemption), 'completed');
      const third = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 2)));
      assert.equal(third.result.discount_cents, 0, 'the discount was not given back twice');

      // Voided by the operator first: the Stripe event finds nothing to do and is not an error.
      const second = draft(cus, sub, 3);
      await sendProcessed(ws, stripeEvent('invoice.created', second));
      const operator = await h.request('POST', `/v1/invoices/${second.id}/void`, { key: ws.key });
      assert.equal(operator.status, 200, JSON.stringify(operator.body));
      const res = await expectReceipt(
        await ws.send(stripeEvent('invoice.voided', { ...second, status: 'void' })),
        'ignored',
      );
      assert.match(res.body.reason, /already voided/);
    });

    it('credit applied to a voided invoice comes back and covers the next one', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub } = await creditedCustomer(h, ws, 1500);

      const first = draft(cus, sub, 0);
      const settled = await sendProcessed(ws, stripeEvent('invoice.created', first));
      assert.equal(settled.result.credit_cents, 1500);
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 0);

      const voided = await sendProcessed(ws, stripeEvent('invoice.voided', { ...first, status: 'void' }));
      assert.equal(voided.result.credit_cents, 1500, 'the credit given back');
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 1500);

      const next = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 1)));
      assert.equal(next.result.credit_cents, 1500, 'the replacement draft uses the credit');
      assert.equal(await balance(h, cus, 'usd_credit', ws.key), 0);
    });

    it('a draft deleted before its invoice.created arrives is not settled, and the discount waits for the next', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub, redemption } = await halfOffOnce(h, ws);
      const first = draft(cus, sub, 0);
      const deleted = await expectReceipt(await ws.send(stripeEvent('invoice.deleted', first)), 'ignored');
      assert.match(deleted.body.reason, /settles nothing/);
      // Stripe's invoice.created of that draft, delivered late (or retried after the deletion).
      const late = await expectReceipt(await ws.send(stripeEvent('invoice.created', first)), 'ignored');
      assert.match(
        late.body.reason,
        new RegExp(`invoice.deleted for this invoice \\(${deleted.body.stripe_event_id}\\)`),
      );
      const [row] = await h.db.query<{ n: number }>(
        'select count(*)::int as n from ledger_settlements where workspace_id = $1 and invoice_id = $2',
        [ws.workspaceId, first.id],
      );
      assert.equal(row?.n, 0, 'nothing settled');
      assert.equal(await redemptionStatus(ws, redemption), 'active');
      const next = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 1)));
      assert.equal(next.result.discount_cents, 1000, 'the next draft takes the discount');
    });

    it('an invoice Perks never settled is ignored with the reason, and changes nothing', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const { cus, sub, redemption } = await halfOffOnce(h, ws);
      for (const type of ['invoice.voided', 'invoice.deleted']) {
        const unknown = draft(cus, sub, 0);
        const res = await expectReceipt(await ws.send(stripeEvent(type, unknown)), 'ignored', type);
        assert.match(res.body.reason, new RegExp(`settled no invoice '${unknown.id}'`));
        assert.match(res.body.reason, /settles nothing/);
      }
      // An event naming another customer than the one the invoice was settled for leaves it alone.
      const other = await subscribedCustomer(ws);
      const shared = draft(other.cus, other.sub, 0);
      await sendProcessed(ws, stripeEvent('invoice.created', shared));
      const res = await expectReceipt(
        await ws.send(stripeEvent('invoice.voided', { ...shared, customer: cus, status: 'void' })),
        'ignored',
      );
      assert.match(res.body.reason, /another customer/);
      const [row] = await h.db.query<{ status: string }>(
        'select status from ledger_settlements where workspace_id = $1 and invoice_id = $2',
        [ws.workspaceId, shared.id],
      );
      assert.equal(row?.status, 'applied');

      // The open redemption still discounts the customer's first real draft.
      assert.equal(await redemptionStatus(ws, redemption), 'active');
      const next = await sendProcessed(ws, stripeEvent('invoice.created', draft(cus, sub, 0)));
      assert.equal(next.result.discount_cents, 1000);
    });
  });
}
