import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { grantBody, grantOk, ledgerWorkspace } from '../ledger/fixtures.js';
import {
  createCode,
  createCustomer,
  createPromotion,
  paidSubscription,
  redeem,
  subscriptionEvent,
} from './helpers.js';

/**
 * POST /v1/invoices/settle with a redeemed promo code: the discount line comes first, credits cover
 * what is left, and voiding the invoice gives both back.
 */
for (const store of storeCases()) {
  describe(`invoice settlement with a promo code (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-06-15T12:00:00Z');
    });
    after(() => h.close());

    it('applies the discount before credits and gives both back on void', async () => {
      const ws = await ledgerWorkspace(h, 'team_promo');
      const as = { key: ws.key };
      const sub = await h.request('POST', '/v1/events', {
        ...as,
        body: {
          id: 'evt_sub_1',
          type: 'subscription.updated',
          occurred_at: '2026-06-01T00:00:00Z',
          data: {
            customer: 'team_promo',
            subscription: {
              id: 'sub_promo',
              plan_id: 'pro',
              interval: 'month',
              status: 'active',
              current_period_start: '2026-06-01T00:00:00Z',
              current_period_end: '2026-07-01T00:00:00Z',
              amount: 3900,
              currency: 'usd',
            },
          },
        },
      });
      assert.equal(sub.status, 200, JSON.stringify(sub.body));
      const promotion = await h.request('POST', '/v1/promotions', {
        ...as,
        body: { name: 'Twenty off', percent_off_bps: 2000, duration: 'once' },
      });
      assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
      const code = await h.request('POST', '/v1/promotion_codes', {
        ...as,
        body: { promotion: promotion.body.id, code: 'TWENTY' },
      });
      assert.equal(code.status, 201, JSON.stringify(code.body));
      const redeemed = await h.request('POST', '/v1/promotion_codes/redeem', {
        ...as,
        body: { code: 'twenty', customer: 'team_promo', subscription: 'sub_promo' },
      });
      assert.equal(redeemed.status, 201, JSON.stringify(redeemed.body));
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));

      const invoice = { invoice_id: 'in_1', customer: 'team_promo', currency: 'usd', subtotal_cents: 3900 };
      const settled = await h.request('POST', '/v1/invoices/settle', {
        ...as,
        body: { ...invoice, subscription: 'sub_promo' },
      });
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      // 20% of 3900 is 780; credits then cover 1000 of the remaining 3120.
      assert.equal(settled.body.discount_cents, 780);
      assert.equal(settled.body.credit_cents, 1000);
      assert.equal(settled.body.amount_due_cents, 3900 - 780 - 1000);
      assert.deepEqual(
        settled.body.lines.map((l: { type: string; amount_cents: number }) => [l.type, l.amount_cents]),
        [
          ['discount', 780],
          ['credit', 1000],
        ],
      );

      const again = await h.request('POST', '/v1/invoices/settle', {
        ...as,
        body: { ...invoice, subscription: 'sub_promo' },
      });
      assert.deepEqual(
        again.body,
        settled.body,
        'a repeated settle answers the same and applies nothing twice',
      );

      // The "once" discount is used up: the next invoice pays full price less what credit is left.
      const next = await h.request('POST', '/v1/invoices/settle', {
        ...as,
        body: { ...invoice, invoice_id: 'in_2', subscription: 'sub_promo' },
      });
      assert.equal(next.body.discount_cents, 0);
      assert.equal(next.body.credit_cents, 0);

      const voided = await h.request('POST', '/v1/invoices/in_1/void', as);
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      const third = await h.request('POST', '/v1/invoices/settle', {
        ...as,
        body: { ...invoice, invoice_id: 'in_3', subscription: 'sub_promo' },
      });
      assert.equal(third.body.discount_cents, 780, 'voiding gave the discounted period back');
      assert.equal(third.body.credit_cents, 1000, 'voiding gave the credit back');
    });

    it('a code redeemed after the period was paid discounts the invoice of the next period, by its period_start', async () => {
      h.clock.set('2026-06-15T12:00:00Z');
      const p = await createPromotion(h, { percent_off_bps: 1000, duration: 'once' });
      await createCode(h, { promotion: p.id, code: 'NEXTPERIOD' });
      await paidSubscription(h, 'team_paid_ahead', 'sub_paid_ahead', {
        start: '2026-06-01T00:00:00Z',
        end: '2026-07-01T00:00:00Z',
      });
      const r = await redeem(h, {
        code: 'NEXTPERIOD',
        customer: 'team_paid_ahead',
        subscription: 'sub_paid_ahead',
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.applies_from, '2026-07-01T00:00:00.000Z');

      const settle = (invoice_id: string, period_start?: string) =>
        h.request('POST', '/v1/invoices/settle', {
          body: {
            invoice_id,
            customer: 'team_paid_ahead',
            subscription: 'sub_paid_ahead',
            currency: 'usd',
            subtotal_cents: 2900,
            ...(period_start ? { period_start } : {}),
          },
        });
      // An invoice inside the paid period (a proration, say), with or without its period: no discount,
      // and the redemption keeps its period.
      const inside = await settle('in_inside', '2026-06-15T12:00:00Z');
      assert.equal(inside.status, 200, JSON.stringify(inside.body));
      assert.equal(inside.body.discount_cents, 0);
      assert.equal((await settle('in_undated')).body.discount_cents, 0);

      // The next period's invoice, finalised a minute before that period starts: its period_start,
      // not the settlement time, decides.
      h.clock.set('2026-06-30T23:59:00Z');
      const next = await settle('in_next', '2026-07-01T00:00:00Z');
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.equal(next.body.discount_cents, 290);
      assert.equal(next.body.amount_due_cents, 2610);
      // "once": the period after pays full price.
      assert.equal((await settle('in_after', '2026-08-01T00:00:00Z')).body.discount_cents, 0);

      const bad = await settle('in_bad', '2026-07-01');
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.error.param, 'period_start');
      assert.match(bad.body.error.message, /ISO 8601 date-time with a time zone/);
      const kept = await h.db.query("select 1 from ledger_settlements where invoice_id = 'in_bad'");
      assert.equal(kept.length, 0, 'a refused settle writes nothing');
    });

    /** A new customer's redemption, for `subscription`, of a new code taking percent_off_bps off three invoices. */
    async function redeemedForThreeInvoices(
      bps: number,
      code: string,
      customer: string,
      subscription: string,
    ) {
      h.clock.set('2026-06-15T12:00:00Z');
      const p = await createPromotion(h, {
        percent_off_bps: bps,
        duration: 'repeating',
        duration_periods: 3,
      });
      await createCode(h, { promotion: p.id, code });
      await createCustomer(h, customer);
      const r = await redeem(h, { code, customer, subscription });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r;
    }

    it('settles a tiny invoice whose percentage rounds to nothing, keeping the period', async () => {
      const r = await redeemedForThreeInvoices(1000, 'TENPCT', 'team_small', 'sub_small');
      const small = await h.request('POST', '/v1/invoices/settle', {
        body: {
          invoice_id: 'in_small',
          customer: 'team_small',
          subscription: 'sub_small',
          currency: 'usd',
          subtotal_cents: 4,
        },
      });
      assert.equal(small.status, 200, JSON.stringify(small.body));
      assert.equal(small.body.discount_cents, 0);
      assert.equal(small.body.amount_due_cents, 4);
      const redemption = await h.request('GET', `/v1/redemptions/${r.body.id}`);
      assert.equal(redemption.body.periods_remaining, 3);
    });

    it('settles a subscription known only from a code redeemed for it, under the caller id', async () => {
      // The code is redeemed at checkout, before any billing event names the subscription.
      const r = await redeemedForThreeInvoices(2000, 'EARLYBIRD', 'team_early', 'sub_ext_early');
      await createCustomer(h, 'team_other');

      const settle = (invoice_id: string, customer: string, subscription: string) =>
        h.request('POST', '/v1/invoices/settle', {
          body: { invoice_id, customer, subscription, currency: 'usd', subtotal_cents: 2900 },
        });
      const first = await settle('in_early_1', 'team_early', 'sub_ext_early');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.subscription, 'sub_ext_early');
      assert.equal(first.body.discount_cents, 580);
      assert.equal(first.body.amount_due_cents, 2320);

      // A subscription nobody has told of, or one only another customer's code names: still unknown.
      for (const [invoice, customer, subscription] of [
        ['in_typo', 'team_early', 'sub_ext_eraly'],
        ['in_theirs', 'team_other', 'sub_ext_early'],
      ] as const) {
        const refused = await settle(invoice, customer, subscription);
        assert.equal(refused.status, 404, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'resource_not_found');
        assert.equal(refused.body.error.param, 'subscription');
        assert.match(refused.body.error.message, /billing event or from a promo code/);
        const kept = await h.db.query('select 1 from ledger_settlements where invoice_id = $1', [invoice]);
        assert.equal(kept.length, 0, 'a refused settle writes nothing');
      }

      // The subscription's first event arrives: the same invoice repeated answers as before, and the
      // next invoice takes the second of the three periods.
      await subscriptionEvent(h, 'team_early', 'sub_ext_early', {
        current_period_start: '2026-07-01T00:00:00Z',
        current_period_end: '2026-08-01T00:00:00Z',
      });
      const repeated = await settle('in_early_1', 'team_early', 'sub_ext_early');
      assert.equal(repeated.status, 200, JSON.stringify(repeated.body));
      assert.deepEqual(repeated.body, first.body);
      // Named now by the Perks id the event gave it, it is still the same invoice's settlement.
      const [known] = await h.db.query<{ id: string }>(
        'select id from subscriptions where workspace_id = $1 and external_id = $2',
        [h.workspaceId, 'sub_ext_early'],
      );
      assert.ok(known && known.id !== 'sub_ext_early');
      const byPerksId = await settle('in_early_1', 'team_early', known.id);
      assert.equal(byPerksId.status, 200, JSON.stringify(byPerksId.body));
      assert.deepEqual(byPerksId.body, first.body);
      const second = await settle('in_early_2', 'team_early', 'sub_ext_early');
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(second.body.discount_cents, 580);
      assert.equal(second.body.subscription, 'sub_ext_early', "known or not, the caller's id");
      const redemption = await h.request('GET', `/v1/redemptions/${r.body.id}`);
      assert.equal(redemption.body.periods_remaining, 1);
      assert.equal(redemption.body.subscription, second.body.subscription, 'as the redemption names it');
      const voided = await h.request('POST', '/v1/invoices/in_early_2/void');
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      assert.equal(voided.body.subscription, 'sub_ext_early');
    });
  });
}
