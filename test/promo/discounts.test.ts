import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type DiscountLine,
  type InvoiceForDiscount,
  promotionDiscountLines,
  undoPromotionDiscountLines,
} from '../../src/app/promo_discounts.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import {
  createCode,
  createCustomer,
  createPromotion,
  paymentEvent,
  redeem,
  subscriptionEvent,
  uniqueId,
} from './helpers.js';

/**
 * promotionDiscountLines is what invoice settlement calls (in its own transaction) before it applies
 * credits. It is tested here directly against both stores.
 */
for (const store of storeCases()) {
  describe(`promotion discounts on invoices (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-06-15T12:00:00Z');
    });
    after(() => h.close());

    const settle = (invoice: Omit<InvoiceForDiscount, 'currency'> & { currency?: string }) =>
      h.db.transaction((tx) =>
        promotionDiscountLines(h.deps, tx, h.workspaceId, { currency: 'usd', ...invoice }),
      );
    const undo = (invoiceId: string) =>
      h.db.transaction((tx) => undoPromotionDiscountLines(h.deps, tx, h.workspaceId, invoiceId));
    const amounts = (lines: DiscountLine[]) => lines.map((l) => l.amount_cents);
    const redemption = async (id: string) => (await h.request('GET', `/v1/redemptions/${id}`)).body;

    /** A customer with a redeemed code on a subscription; returns the customer and the redemption. */
    async function redeemed(terms: Record<string, unknown>, opts: { subscription?: string | null } = {}) {
      const customer = await createCustomer(h, uniqueId('team'));
      const p = await createPromotion(h, terms);
      const code = uniqueId('CODE').replaceAll('_', '');
      await createCode(h, { promotion: p.id, code });
      const subscription = opts.subscription === null ? undefined : (opts.subscription ?? uniqueId('sub'));
      const r = await redeem(h, {
        code,
        customer: customer.external_id,
        ...(subscription ? { subscription } : {}),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return {
        customer,
        subscription,
        redemption: r.body as { id: string; promotion_id: string; code: string },
      };
    }

    it('a once discount applies to the next invoice only, exactly once per invoice', async () => {
      const { customer, subscription, redemption: r } = await redeemed({ percent_off_bps: 2000 });
      const invoice = {
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 2900,
      };
      const lines = await settle(invoice);
      assert.deepEqual(lines, [
        {
          type: 'discount',
          redemption_id: r.id,
          promotion_id: r.promotion_id,
          code: r.code,
          amount_cents: 580,
          description: `${r.code}: 20% off (invoice 1 of 1)`,
        },
      ]);
      assert.deepEqual(
        await settle(invoice),
        lines,
        'settling the same invoice again answers the same lines',
      );
      const after = await redemption(r.id);
      assert.equal(after.status, 'completed');
      assert.equal(after.periods_applied, 1);
      assert.deepEqual(
        await settle({ ...invoice, invoice_id: uniqueId('inv') }),
        [],
        'the next invoice pays in full',
      );
    });

    it('a repeating discount consumes one period per invoice, exactly once each, for N invoices', async () => {
      const {
        customer,
        subscription,
        redemption: r,
      } = await redeemed({
        amount_off: 1000,
        currency: 'usd',
        duration: 'repeating',
        duration_periods: 3,
      });
      const invoices = Array.from({ length: 4 }, () => ({
        invoice_id: uniqueId('inv'),
        customer_id: customer.external_id,
        subscription,
        subtotal_cents: 2900,
      }));
      assert.deepEqual(amounts(await settle(invoices[0]!)), [1000]);
      assert.deepEqual(amounts(await settle(invoices[0]!)), [1000], 'a retry of invoice 1');
      assert.equal((await redemption(r.id)).periods_remaining, 2);
      assert.deepEqual(amounts(await settle(invoices[1]!)), [1000]);
      // Concurrent settlements of the last invoice and the one after: only one can use the last period.
      const [third, fourth] = await Promise.all([settle(invoices[2]!), settle(invoices[3]!)]);
      assert.deepEqual([...amounts(third), ...amounts(fourth)], [1000]);
      const after = await redemption(r.id);
      assert.equal(after.periods_applied, 3);
      assert.equal(after.periods_remaining, 0);
      assert.equal(after.status, 'completed');
      const [count] = await h.db.query<{ n: number }>(
        'select count(*)::int8 as n from promotion_discounts where workspace_id = $1 and redemption_id = $2',
        [h.workspaceId, r.id],
      );
      assert.equal(count!.n, 3);
    });

    it('a yearly period counts as one period', async () => {
      const customer = await createCustomer(h, uniqueId('team_year'));
      const subscription = uniqueId('sub_year');
      await subscriptionEvent(h, customer.external_id, subscription, {
        interval: 'year',
        amount: 29_000,
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2027-06-01T00:00:00Z',
      });
      const p = await createPromotion(h, {
        percent_off_bps: 1000,
        duration: 'repeating',
        duration_periods: 2,
      });
      await createCode(h, { promotion: p.id, code: 'YEARLY2' });
      const r = await redeem(h, { code: 'YEARLY2', customer: customer.external_id, subscription });
      assert.equal(r.status, 201);
      const year1 = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 29_000,
        period_start: new Date('2026-06-01T00:00:00Z'),
      });
      assert.deepEqual(amounts(year1), [2900]);
      assert.equal((await redemption(r.body.id)).periods_remaining, 1, 'one yearly invoice is one period');
      const year2 = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 29_000,
        period_start: new Date('2027-06-01T00:00:00Z'),
      });
      assert.deepEqual(amounts(year2), [2900]);
      assert.equal((await redemption(r.body.id)).status, 'completed');
    });

    it('takes the subscription by its Perks id as well as by the caller id', async () => {
      const customer = await createCustomer(h, uniqueId('team_ids'));
      const subscription = uniqueId('sub_ids');
      await subscriptionEvent(h, customer.external_id, subscription, {
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      });
      const p = await createPromotion(h, { amount_off: 700, currency: 'usd', duration: 'forever' });
      await createCode(h, { promotion: p.id, code: 'BYPERKSID' });
      assert.equal((await redeem(h, { code: 'BYPERKSID', customer: customer.id, subscription })).status, 201);
      const [row] = await h.db.query<{ id: string }>(
        'select id from subscriptions where workspace_id = $1 and external_id = $2',
        [h.workspaceId, subscription],
      );
      const byPerksId = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription: row!.id,
        subtotal_cents: 2900,
      });
      assert.deepEqual(amounts(byPerksId), [700]);
      const byCallerId = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.external_id,
        subscription,
        subtotal_cents: 2900,
      });
      assert.deepEqual(amounts(byCallerId), [700]);
    });

    it('redeemed after the current period was paid: the discount applies from the next invoice', async () => {
      const customer = await createCustomer(h, uniqueId('team_paid'));
      const subscription = uniqueId('sub_paid');
      await subscriptionEvent(h, customer.external_id, subscription, {
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      });
      await paymentEvent(h, customer.external_id, {
        subscription,
        period_start: '2026-06-01T00:00:00Z',
        period_end: '2026-07-01T00:00:00Z',
        occurred_at: '2026-06-01T00:01:00Z',
      });
      const p = await createPromotion(h, { percent_off_bps: 5000 });
      await createCode(h, { promotion: p.id, code: 'NEXTMONTH' });
      const r = await redeem(h, { code: 'NEXTMONTH', customer: customer.external_id, subscription });
      assert.equal(r.body.applies_from, '2026-07-01T00:00:00.000Z');
      // An invoice for the period already paid (say, a proration) is not discounted and uses nothing.
      const june = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 500,
        period_start: new Date('2026-06-15T00:00:00Z'),
      });
      assert.deepEqual(june, []);
      assert.equal((await redemption(r.body.id)).periods_remaining, 1);
      const july = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 2900,
        period_start: new Date('2026-07-01T00:00:00Z'),
      });
      assert.deepEqual(amounts(july), [1450]);
      // Without a period_start the settlement time stands for it.
      const { customer: c2, subscription: s2 } = await redeemed({ percent_off_bps: 1000 });
      assert.deepEqual(
        amounts(
          await settle({
            invoice_id: uniqueId('inv'),
            customer_id: c2.id,
            subscription: s2,
            subtotal_cents: 1000,
          }),
        ),
        [100],
      );
    });

    it('stacked discounts never take an invoice below zero, and the remainder is left for credits', async () => {
      const customer = await createCustomer(h, uniqueId('team_stack'));
      const subscription = uniqueId('sub_stack');
      const a = await createPromotion(h, {
        amount_off: 2000,
        currency: 'usd',
        stackable: true,
        duration: 'forever',
      });
      const b = await createPromotion(h, { percent_off_bps: 5000, stackable: true, duration: 'forever' });
      const c = await createPromotion(h, {
        amount_off: 5000,
        currency: 'usd',
        stackable: true,
        duration: 'forever',
      });
      for (const [p, code] of [
        [a, 'STACKA'],
        [b, 'STACKB'],
        [c, 'STACKC'],
      ] as const) {
        await createCode(h, { promotion: p.id, code });
        const r = await redeem(h, { code, customer: customer.external_id, subscription });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        h.clock.advance(1);
      }
      const lines = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 2900,
      });
      assert.deepEqual(amounts(lines), [2000, 450, 450]);
      const small = await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 1500,
      });
      assert.deepEqual(amounts(small), [1500], 'the first discount covers it; the others keep their turn');
      assert.deepEqual(
        await settle({
          invoice_id: uniqueId('inv'),
          customer_id: customer.id,
          subscription,
          subtotal_cents: 0,
        }),
        [],
      );
    });

    it('an amount off in another currency does not apply and keeps its period', async () => {
      const { customer, subscription, redemption: r } = await redeemed({ amount_off: 500, currency: 'usd' });
      assert.deepEqual(
        await settle({
          invoice_id: uniqueId('inv'),
          customer_id: customer.id,
          subscription,
          subtotal_cents: 2900,
          currency: 'eur',
        }),
        [],
      );
      assert.equal((await redemption(r.id)).periods_remaining, 1);
    });

    it('a redemption without a subscription discounts the next invoice without one', async () => {
      const { customer, redemption: r } = await redeemed(
        { amount_off: 300, currency: 'usd' },
        { subscription: null },
      );
      assert.deepEqual(
        await settle({
          invoice_id: uniqueId('inv'),
          customer_id: customer.id,
          subscription: 'sub_unrelated',
          subtotal_cents: 1000,
        }),
        [],
        "a subscription's invoice does not take the customer-level discount",
      );
      assert.deepEqual(
        amounts(
          await settle({ invoice_id: uniqueId('inv'), customer_id: customer.id, subtotal_cents: 1000 }),
        ),
        [300],
      );
      assert.equal((await redemption(r.id)).status, 'completed');
    });

    it('undo for a voided invoice gives the period back, once; the next invoice gets the discount', async () => {
      const { customer, subscription, redemption: r } = await redeemed({ percent_off_bps: 1000 });
      const invoice = {
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 1000,
      };
      assert.deepEqual(amounts(await settle(invoice)), [100]);
      assert.equal((await redemption(r.id)).status, 'completed');
      const undone = await undo(invoice.invoice_id);
      assert.deepEqual(amounts(undone), [100]);
      assert.deepEqual(await undo(invoice.invoice_id), [], 'a second undo finds nothing');
      const reopened = await redemption(r.id);
      assert.equal(reopened.status, 'active');
      assert.equal(reopened.periods_remaining, 1);
      assert.deepEqual(await settle(invoice), [], 'the voided invoice is not discounted again');
      assert.deepEqual(amounts(await settle({ ...invoice, invoice_id: uniqueId('inv') })), [100]);
    });

    it('a completed discount frees the subscription for another promotion', async () => {
      const { customer, subscription } = await redeemed({ percent_off_bps: 1000 });
      const p = await createPromotion(h, { percent_off_bps: 2000 });
      await createCode(h, { promotion: p.id, code: 'AFTERWARDS' });
      const blocked = await redeem(h, { code: 'AFTERWARDS', customer: customer.id, subscription });
      assert.equal(blocked.body.error.code, 'subscription_already_has_promotion');
      await settle({
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 1000,
      });
      const now = await redeem(h, { code: 'AFTERWARDS', customer: customer.id, subscription });
      assert.equal(now.status, 201, JSON.stringify(now.body));
    });

    it('a completed redemption frees its promotion on the subscription; undo does not reopen it over a new one', async () => {
      const {
        customer,
        subscription,
        redemption: r,
      } = await redeemed({ percent_off_bps: 1000, stackable: true, max_per_customer: 2 });
      const invoice = {
        invoice_id: uniqueId('inv'),
        customer_id: customer.id,
        subscription,
        subtotal_cents: 1000,
      };
      assert.deepEqual(amounts(await settle(invoice)), [100]);
      assert.equal((await redemption(r.id)).status, 'completed');
      const again = await redeem(h, { code: r.code, customer: customer.id, subscription });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      // The subscription holds the promotion again, so the first cannot come back beside it.
      assert.deepEqual(amounts(await undo(invoice.invoice_id)), [100]);
      assert.equal((await redemption(r.id)).status, 'completed');
      assert.equal((await redemption(again.body.id)).status, 'active');
      const next = await settle({ ...invoice, invoice_id: uniqueId('inv') });
      assert.deepEqual(
        next.map((l) => [l.redemption_id, l.amount_cents]),
        [[again.body.id, 100]],
      );
    });

    it('a voided redemption discounts no further invoice', async () => {
      const {
        customer,
        subscription,
        redemption: r,
      } = await redeemed({ percent_off_bps: 1000, duration: 'forever' });
      assert.deepEqual(
        amounts(
          await settle({
            invoice_id: uniqueId('inv'),
            customer_id: customer.id,
            subscription,
            subtotal_cents: 1000,
          }),
        ),
        [100],
      );
      await h.request('POST', `/v1/redemptions/${r.id}/void`);
      assert.deepEqual(
        await settle({
          invoice_id: uniqueId('inv'),
          customer_id: customer.id,
          subscription,
          subtotal_cents: 1000,
        }),
        [],
      );
    });
  });
}
