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
  describe(`ledger reversals (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    const reverse = (key: string, customer: string, body: Record<string, unknown>) =>
      h.request('POST', `/v1/customers/${customer}/reversals`, { key, body });
    const consume = (key: string, customer: string, asset: string, amount: number) =>
      h.request('POST', `/v1/customers/${customer}/consumptions`, { key, body: { asset, amount } });

    it('happy: an unspent grant is reversed at once, by id or by reference, at most once', async () => {
      const ws = await ledgerWorkspace(h);
      const body = grantBody('minutes', 90);
      const g = await grantOk(h, ws.key, ws.customer, body);
      const first = await reverse(ws.key, ws.customer, {
        grant: body.reference,
        reason: 'payment refunded',
        reference: 're_1',
      });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.grant, g.id);
      assert.equal(first.body.unspent_reversed, 90);
      assert.equal(first.body.spent, 0);
      assert.deepEqual(first.body.lots, [{ lot: g.id, amount: 90, part: 'unspent' }]);
      const rows = await ledgerRows(h, ws.workspaceId);
      const again = await reverse(ws.key, ws.customer, { grant: g.id });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      assert.equal(await ledgerRows(h, ws.workspaceId), rows, 'a repeat writes nothing');
      assert.equal((await balances(h, ws.key, ws.customer)).minutes.available, 0);
      const grant = await h.request('POST', `/v1/customers/${ws.customer}/grants`, { key: ws.key, body });
      assert.equal(grant.body.reversed, true, 'the grant shows it was reversed');
    });

    it('happy: forgive lets the customer keep the spent part', async () => {
      const ws = await ledgerWorkspace(h);
      const g = await grantOk(h, ws.key, ws.customer, grantBody('free_days', 10));
      await grantOk(h, ws.key, ws.customer, grantBody('free_days', 5));
      assert.equal((await consume(ws.key, ws.customer, 'free_days', 7)).status, 201);
      const res = await reverse(ws.key, ws.customer, { grant: g.id });
      assert.equal(res.body.negative_policy, 'forgive');
      assert.equal(res.body.unspent_reversed, 3);
      assert.equal(res.body.spent, 7);
      assert.equal(res.body.forgiven, 7);
      assert.equal(res.body.debt_added, 0);
      assert.equal(
        (await balances(h, ws.key, ws.customer)).free_days.available,
        5,
        'other lots are untouched',
      );
    });

    it('happy: allow_negative takes the spent part from other lots, then leaves debt that the next grant repays first', async () => {
      const ws = await ledgerWorkspace(h);
      const g = await grantOk(h, ws.key, ws.customer, grantBody('minutes', 100));
      assert.equal((await consume(ws.key, ws.customer, 'minutes', 80)).status, 201);
      await grantOk(h, ws.key, ws.customer, grantBody('minutes', 30));
      const res = await reverse(ws.key, ws.customer, { grant: g.id });
      assert.equal(res.body.unspent_reversed, 20);
      assert.equal(res.body.spent, 80);
      assert.equal(res.body.taken_from_other_lots, 30);
      assert.equal(res.body.debt_added, 50);
      let bal = (await balances(h, ws.key, ws.customer)).minutes;
      assert.equal(bal.available, -50, 'the balance goes below zero');
      assert.equal(bal.debt, 50);
      const refused = await consume(ws.key, ws.customer, 'minutes', 1);
      assert.equal(refused.body.error.code, 'insufficient_balance');
      const next = await grantOk(h, ws.key, ws.customer, grantBody('minutes', 70));
      assert.equal(next.debt_repaid, 50);
      assert.equal(next.remaining, 20);
      bal = (await balances(h, ws.key, ws.customer)).minutes;
      assert.equal(bal.available, 20);
      assert.equal(bal.debt, 0);
    });

    it('security: a grant of another customer, or an unknown grant, is a 404 and changes nothing', async () => {
      const ws = await ledgerWorkspace(h);
      const g = await grantOk(h, ws.key, ws.customer, grantBody('minutes', 10));
      await h.request('POST', '/v1/customers', { key: ws.key, body: { external_id: 'other' } });
      const before = await ledgerRows(h, ws.workspaceId);
      for (const [customer, grant] of [
        ['other', g.id],
        [ws.customer, 'lot_nope'],
        ['ghost', g.id],
      ]) {
        const res = await reverse(ws.key, customer!, { grant });
        assert.equal(res.status, 404, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'resource_not_found');
      }
      const bad = await reverse(ws.key, ws.customer, { grant: g.id, extra: 1 });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'parameter_unknown');
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });
  });
}
