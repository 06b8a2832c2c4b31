import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { settleInvoice, type SettlementHooks } from '../../../app/ledger_settlements.js';
import { listMigrations, splitStatements } from '../../db/migrate.js';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';
import {
  balances,
  grantBody,
  grantOk,
  ledgerRows,
  ledgerWorkspace,
  ref,
} from '../../../../test/ledger/fixtures.js';

const DAY = 24 * 3600 * 1000;

for (const store of storeCases()) {
  describe(`ledger invoices (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    const at = (ms: number) => new Date(h.clock.now().getTime() + ms).toISOString();
    const settle = (key: string, body: Record<string, unknown>) =>
      h.request('POST', '/v1/invoices/settle', { key, body });

    async function subscribe(key: string, customer: string, subscription: string) {
      const res = await h.request('POST', '/v1/events', {
        key,
        body: {
          id: ref('evt'),
          type: 'subscription.updated',
          occurred_at: h.clock.now().toISOString(),
          data: {
            customer,
            subscription: {
              id: subscription,
              plan_id: 'pro',
              interval: 'month',
              status: 'active',
              current_period_start: h.clock.now().toISOString(),
              current_period_end: at(30 * DAY),
              amount: 2900,
              currency: 'usd',
            },
          },
        },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }

    it('happy: applies money credit oldest first up to the amount due, and says what it used', async () => {
      const ws = await ledgerWorkspace(h);
      const a = await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 2500));
      h.clock.advance(1000);
      const b = await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 2500));
      await grantOk(h, ws.key, ws.customer, grantBody('eur_credit', 9999));
      await grantOk(h, ws.key, ws.customer, grantBody('usd_commission', 9999));
      await subscribe(ws.key, ws.externalId, 'sub_a');
      const res = await settle(ws.key, {
        invoice_id: 'in_1',
        customer: ws.externalId,
        subscription: 'sub_a',
        currency: 'usd',
        subtotal_cents: 2900,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.object, 'invoice_settlement');
      assert.equal(res.body.credit_cents, 2900);
      assert.equal(res.body.amount_due_cents, 0);
      assert.deepEqual(
        res.body.credits.map((c: { lot: string; amount_cents: number }) => [c.lot, c.amount_cents]),
        [
          [a.id, 2500],
          [b.id, 400],
        ],
      );
      assert.deepEqual(res.body.lines, [
        {
          type: 'credit',
          description: 'usd_credit applied',
          asset: 'usd_credit',
          amount_cents: 2900,
          reference: null,
        },
      ]);
      const bal = await balances(h, ws.key, ws.customer);
      assert.equal(bal.usd_credit.available, 2100);
      assert.equal(bal.eur_credit.available, 9999, 'another currency is not touched');
      assert.equal(bal.usd_commission.available, 9999, 'commission is not invoice credit');
    });

    it('happy: a repeat answers the same and never applies credit twice; another body is refused', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const body = { invoice_id: 'in_rep', customer: ws.customer, currency: 'usd', subtotal_cents: 600 };
      const first = await settle(ws.key, body);
      const rows = await ledgerRows(h, ws.workspaceId);
      const second = await settle(ws.key, body);
      assert.equal(second.status, 200);
      assert.deepEqual(second.body, first.body);
      assert.equal(await ledgerRows(h, ws.workspaceId), rows, 'the repeat wrote nothing');
      const other = await settle(ws.key, { ...body, subtotal_cents: 700 });
      assert.equal(other.status, 409);
      assert.equal(other.body.error.code, 'invoice_already_settled');
      assert.equal((await balances(h, ws.key, ws.customer)).usd_credit.available, 400);
    });

    /** The Perks id of a subscription known by the caller's id. */
    async function perksSubscriptionId(workspaceId: string, externalId: string) {
      const [row] = await h.db.query<{ id: string }>(
        'select id from subscriptions where workspace_id = $1 and external_id = $2',
        [workspaceId, externalId],
      );
      assert.ok(row && row.id !== externalId, 'the subscription has a Perks id of its own');
      return row.id;
    }

    it("happy: the settlement names its subscription by the caller's id however it was named, settled, repeated or voided", async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 5000));
      await subscribe(ws.key, ws.externalId, 'sub_named');
      const perksId = await perksSubscriptionId(ws.workspaceId, 'sub_named');
      const body = (invoice_id: string, subscription: string) => ({
        invoice_id,
        customer: ws.externalId,
        subscription,
        currency: 'usd',
        subtotal_cents: 500,
      });
      // By the caller's id or the Perks id, in one call or in a transaction (with an Idempotency-Key).
      const cases: [string, string, Record<string, string> | undefined][] = [
        ['in_by_ext', 'sub_named', undefined],
        ['in_by_perks', perksId, undefined],
        ['in_by_perks_tx', perksId, { 'idempotency-key': ref('key') }],
        ['in_by_ext_tx', 'sub_named', { 'idempotency-key': ref('key') }],
      ];
      const first = new Map<string, Record<string, unknown>>();
      for (const [invoice, subscription, headers] of cases) {
        const res = await h.request('POST', '/v1/invoices/settle', {
          key: ws.key,
          body: body(invoice, subscription),
          ...(headers ? { headers } : {}),
        });
        assert.equal(res.status, 200, JSON.stringify([invoice, res.body]));
        assert.equal(res.body.subscription, 'sub_named', invoice);
        assert.equal(res.body.customer, ws.customer, 'the customer is the Perks id, as before');
        first.set(invoice, res.body);
      }
      // A repeat by the other id answers the stored settlement.
      for (const [invoice, subscription] of [
        ['in_by_ext', perksId],
        ['in_by_perks', 'sub_named'],
      ] as const) {
        const again = await settle(ws.key, body(invoice, subscription));
        assert.equal(again.status, 200, JSON.stringify([invoice, again.body]));
        assert.deepEqual(again.body, first.get(invoice));
      }
      const voided = await h.request('POST', '/v1/invoices/in_by_perks/void', { key: ws.key });
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      assert.equal(voided.body.subscription, 'sub_named');
      const stored = await h.db.query<{ subscription_id: string }>(
        'select distinct subscription_id from ledger_settlements where workspace_id = $1',
        [ws.workspaceId],
      );
      assert.deepEqual(stored, [{ subscription_id: 'sub_named' }], "stored under the caller's id");
    });

    it("happy: migration 0033 gives a settlement stored under the Perks id the caller's id", async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 5000));
      await subscribe(ws.key, ws.externalId, 'sub_legacy');
      const perksId = await perksSubscriptionId(ws.workspaceId, 'sub_legacy');
      const body = (subscription: string) => ({
        invoice_id: 'in_legacy',
        customer: ws.customer,
        subscription,
        currency: 'usd',
        subtotal_cents: 700,
      });
      const first = await settle(ws.key, body('sub_legacy'));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      await h.db.query(
        'update ledger_settlements set subscription_id = $3 where workspace_id = $1 and invoice_id = $2',
        [ws.workspaceId, 'in_legacy', perksId],
      );
      const migration = listMigrations().find(
        (m) => m.version === '0033_settlements_name_caller_subscription',
      );
      for (const statement of splitStatements(migration!.sql)) await h.db.query(statement);
      for (const subscription of ['sub_legacy', perksId]) {
        const again = await settle(ws.key, body(subscription));
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.deepEqual(again.body, first.body);
      }
      const voided = await h.request('POST', '/v1/invoices/in_legacy/void', { key: ws.key });
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      assert.equal(voided.body.subscription, 'sub_legacy');
    });

    it('happy: no credit leaves the whole subtotal due', async () => {
      const ws = await ledgerWorkspace(h);
      const res = await settle(ws.key, {
        invoice_id: 'in_none',
        customer: ws.customer,
        currency: 'usd',
        subtotal_cents: 1500,
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.amount_due_cents, 1500);
      assert.deepEqual(res.body.credits, []);
    });

    it('happy: void gives the credit back as new lots with the original expiry; a past expiry expires at once', async () => {
      const ws = await ledgerWorkspace(h);
      const soonAt = at(2 * DAY);
      const soon = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('usd_credit', 300, { expires: { type: 'at', at: soonAt } }),
      );
      const never = await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const settled = await settle(ws.key, {
        invoice_id: 'in_v',
        customer: ws.customer,
        currency: 'usd',
        subtotal_cents: 500,
      });
      assert.equal(settled.body.credit_cents, 500);
      h.clock.advance(3 * DAY);
      const voided = await h.request('POST', '/v1/invoices/in_v/void', { key: ws.key });
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      assert.equal(voided.body.status, 'voided');
      const again = await h.request('POST', '/v1/invoices/in_v/void', { key: ws.key });
      assert.deepEqual(again.body, voided.body, 'voiding twice answers the same');
      const bal = await balances(h, ws.key, ws.customer);
      assert.equal(bal.usd_credit.available, 1000, 'the piece of the expired lot came back and expired');
      const lots = await h.db.query<{
        grant_id: string;
        amount: number;
        remaining: number;
        expires_at: Date | null;
      }>(
        `select grant_id, amount, remaining, expires_at from ledger_lots where workspace_id = $1 and restored_from_lot_id is not null order by id`,
        [ws.workspaceId],
      );
      assert.deepEqual(
        lots.map((l) => [l.grant_id, l.amount, l.remaining, l.expires_at?.toISOString() ?? null]),
        [
          [soon.id, 300, 0, soonAt],
          [never.id, 200, 200, null],
        ],
      );
      const repeat = await settle(ws.key, {
        invoice_id: 'in_v',
        customer: ws.customer,
        currency: 'usd',
        subtotal_cents: 500,
      });
      assert.equal(repeat.body.status, 'voided', 'settling a voided invoice again applies nothing');
      assert.equal((await balances(h, ws.key, ws.customer)).usd_credit.available, 1000);
    });

    it('error: settle for a customer that does not own the subscription, or unknown references, writes nothing', async () => {
      const ws = await ledgerWorkspace(h);
      const other = await h.request('POST', '/v1/customers', { key: ws.key, body: { external_id: 'other' } });
      await subscribe(ws.key, 'other', 'sub_other');
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const before = await ledgerRows(h, ws.workspaceId);
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ subscription: 'sub_other' }, 400, 'subscription_not_owned', 'subscription'],
        [{ subscription: 'sub_ghost' }, 404, 'resource_not_found', 'subscription'],
        [{ customer: 'ghost' }, 404, 'resource_not_found', 'customer'],
        [{ currency: 'xyz' }, 400, 'parameter_invalid', 'currency'],
        [{ currency: 'USD' }, 400, 'parameter_invalid', 'currency'],
        [{ subtotal_cents: -1 }, 400, 'parameter_invalid', 'subtotal_cents'],
        [{ subtotal_cents: 10.5 }, 400, 'parameter_invalid', 'subtotal_cents'],
        [{ subtotal_cents: 1e13 }, 400, 'parameter_invalid', 'subtotal_cents'],
        [{ invoice_id: '' }, 400, 'parameter_invalid', 'invoice_id'],
        [{ discount: 5 }, 400, 'parameter_unknown', 'discount'],
      ];
      for (const [patch, status, code, param] of cases) {
        const body = {
          invoice_id: ref('in'),
          customer: ws.customer,
          currency: 'usd',
          subtotal_cents: 500,
          ...patch,
        };
        const res = await settle(ws.key, body);
        assert.equal(res.status, status, JSON.stringify([patch, res.body]));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      }
      const unknown = await h.request('POST', '/v1/invoices/in_ghost/void', { key: ws.key });
      assert.equal(unknown.status, 404);
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
      assert.equal(other.status, 201);
    });

    it('happy: discount lines come first and reduce what credit may cover; their undo runs on void', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 5000));
      const reverted: string[] = [];
      const hooks: SettlementHooks = {
        discountLines: async (_tx, _ws, invoice) => [
          {
            type: 'discount',
            description: '20% off',
            amount_cents: invoice.subtotal_cents / 5,
            reference: 'promo_1',
          },
        ],
        revertDiscounts: async (_tx, _ws, invoice, lines) => {
          reverted.push(`${invoice.invoice_id}:${lines.map((l) => l.reference).join(',')}`);
        },
      };
      const view = await h.db.transaction((tx) =>
        settleInvoice(
          h.deps,
          tx,
          ws.workspaceId,
          { invoice_id: 'in_d', customer: ws.customer, currency: 'usd', subtotal_cents: 2000 },
          hooks,
        ),
      );
      assert.equal(view.discount_cents, 400);
      assert.equal(view.credit_cents, 1600);
      assert.equal(view.amount_due_cents, 0);
      assert.deepEqual(
        view.lines.map((l) => [l.type, l.amount_cents]),
        [
          ['discount', 400],
          ['credit', 1600],
        ],
      );
      const { voidInvoice } = await import('../../../app/ledger_settlements.js');
      await h.db.transaction((tx) => voidInvoice(h.deps, tx, ws.workspaceId, 'in_d', hooks));
      assert.deepEqual(reverted, ['in_d:promo_1']);
      assert.equal((await balances(h, ws.key, ws.customer)).usd_credit.available, 5000);
    });
  });
}
