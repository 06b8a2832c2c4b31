import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';
import {
  balances,
  grantBody,
  grantOk,
  ledgerRows,
  ledgerWorkspace,
} from '../../../../test/ledger/fixtures.js';

for (const store of storeCases()) {
  describe(`ledger payouts (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    const request = (key: string, body: Record<string, unknown>) =>
      h.request('POST', '/v1/payouts', { key, body });

    async function withCommission(amount: number) {
      const ws = await ledgerWorkspace(h);
      const g = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('usd_commission', amount, { source: { type: 'program', id: 'prog_commission' } }),
      );
      return { ...ws, grant: g };
    }

    it('happy: a request holds the amount; approval posts it and records who approved and where it goes', async () => {
      const ws = await withCommission(5000);
      const res = await request(ws.key, {
        customer: ws.externalId,
        asset: 'usd_commission',
        amount: 3000,
        currency: 'usd',
        destination: 'paypal:owner@team1.example',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'pending');
      assert.equal(res.body.destination, 'paypal:owner@team1.example');
      assert.deepEqual(res.body.lots, [{ lot: ws.grant.id, amount: 3000 }]);
      let bal = (await balances(h, ws.key, ws.customer)).usd_commission;
      assert.deepEqual([bal.available, bal.held], [2000, 3000]);
      const approved = await h.request('POST', `/v1/payouts/${res.body.id}/approve`, {
        key: ws.key,
        body: { approved_by: 'finance@perks.example' },
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.status, 'paid');
      assert.equal(approved.body.decided_by, 'finance@perks.example');
      bal = (await balances(h, ws.key, ws.customer)).usd_commission;
      assert.deepEqual([bal.available, bal.held], [2000, 0]);
      const again = await h.request('POST', `/v1/payouts/${res.body.id}/approve`, {
        key: ws.key,
        body: { approved_by: 'x' },
      });
      assert.equal(again.status, 200);
      assert.equal(again.body.decided_by, 'finance@perks.example', 'approving twice changes nothing');
      const reject = await h.request('POST', `/v1/payouts/${res.body.id}/reject`, {
        key: ws.key,
        body: { rejected_by: 'x' },
      });
      assert.equal(reject.status, 409);
      assert.equal(reject.body.error.code, 'payout_not_pending');
      const ledger = await h.request('GET', `/v1/customers/${ws.customer}/ledger`, { key: ws.key });
      assert.deepEqual(
        ledger.body.data.map((e: { type: string; from: string; to: string; balance_change: number }) => [
          e.type,
          e.from,
          e.to,
          e.balance_change,
        ]),
        [
          ['payout_post', 'payout_holds', 'payouts', 0],
          ['payout_hold', 'customer', 'payout_holds', -3000],
          ['grant', 'program_expense', 'customer', 5000],
        ],
      );
      const listed = await h.request('GET', `/v1/payouts?customer=${ws.externalId}&status=paid`, {
        key: ws.key,
      });
      assert.deepEqual(
        listed.body.data.map((p: { id: string }) => p.id),
        [res.body.id],
      );
      const got = await h.request('GET', `/v1/payouts/${res.body.id}`, { key: ws.key });
      assert.deepEqual(got.body, approved.body);
    });

    it('happy: reject and cancel give the held amount back, keeping the grant and its expiry', async () => {
      const ws = await withCommission(5000);
      const a = await request(ws.key, {
        customer: ws.customer,
        asset: 'usd_commission',
        amount: 2000,
        destination: 'iban:DE00',
      });
      const b = await request(ws.key, {
        customer: ws.customer,
        asset: 'usd_commission',
        amount: 2500,
        destination: 'iban:DE00',
      });
      const rejected = await h.request('POST', `/v1/payouts/${a.body.id}/reject`, {
        key: ws.key,
        body: { rejected_by: 'finance@perks.example', reason: 'destination unverified' },
      });
      assert.equal(rejected.body.status, 'rejected');
      assert.equal(rejected.body.reason, 'destination unverified');
      const canceled = await h.request('POST', `/v1/payouts/${b.body.id}/cancel`, { key: ws.key });
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal(canceled.body.status, 'canceled');
      const bal = (await balances(h, ws.key, ws.customer)).usd_commission;
      assert.deepEqual([bal.available, bal.held], [5000, 0]);
      const restored = await h.db.query<{ grant_id: string }>(
        'select grant_id from ledger_lots where workspace_id = $1 and restored_from_lot_id is not null',
        [ws.workspaceId],
      );
      assert.deepEqual(
        restored.map((r) => r.grant_id),
        [ws.grant.id, ws.grant.id],
      );
    });

    it('error: below the minimum, above the balance, a credit asset or a wrong currency is refused and writes nothing', async () => {
      const ws = await withCommission(5000);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 5000));
      const before = await ledgerRows(h, ws.workspaceId);
      const base = { customer: ws.customer, asset: 'usd_commission', destination: 'iban:DE00' };
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ amount: 1999 }, 400, 'payout_below_minimum', 'amount'],
        [{ amount: 5001 }, 409, 'insufficient_balance', 'amount'],
        [{ amount: 2500, asset: 'usd_credit' }, 400, 'asset_not_applicable', 'asset'],
        [{ amount: 2500, currency: 'eur' }, 400, 'currency_mismatch', 'currency'],
        [{ amount: 0 }, 400, 'parameter_invalid', 'amount'],
        [{ amount: 2500, destination: '' }, 400, 'parameter_invalid', 'destination'],
        [{ amount: 2500, customer: 'ghost' }, 404, 'resource_not_found', 'customer'],
      ];
      for (const [patch, status, code, param] of cases) {
        const res = await request(ws.key, { ...base, ...patch });
        assert.equal(res.status, status, JSON.stringify([patch, res.body]));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      }
      const min = await request(ws.key, { ...base, amount: 1 });
      assert.equal(min.body.error.minimum, 2000, 'the error states the minimum');
      for (const action of ['approve', 'reject', 'cancel']) {
        const res = await h.request('POST', `/v1/payouts/po_ghost/${action}`, {
          key: ws.key,
          body: action === 'approve' ? { approved_by: 'x' } : action === 'reject' ? { rejected_by: 'x' } : {},
        });
        assert.equal(res.status, 404, action);
      }
      const noApprover = await h.request('POST', '/v1/payouts/po_ghost/approve', { key: ws.key, body: {} });
      assert.equal(noApprover.body.error.code, 'parameter_missing');
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });
  });
}
