import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';
import { grantBody, grantOk, ledgerWorkspace } from '../../../../test/ledger/fixtures.js';

interface GrantItem {
  id: string;
  asset: string;
  amount: number;
  remaining: number;
  expires_at: string | null;
  reversed: boolean;
  reason: string;
}

for (const store of storeCases()) {
  describe(`a customer's grants (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    const list = async (key: string, customer: string, query = '') => {
      const res = await h.request('GET', `/v1/customers/${customer}/grants${query}`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { data: GrantItem[]; has_more: boolean };
    };

    it('happy: newest first, each with what its lots hold now, credit given back included', async () => {
      const ws = await ledgerWorkspace(h);
      const older = await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 1000));
      const newer = await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 500));
      const minutes = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 90, { expires: { type: 'after', duration: 'P30D' } }),
      );
      // An invoice takes 1,200 (all of the older grant, 200 of the newer), then is voided: the credit
      // comes back as new lots of the same grants, which the list adds to each grant.
      const settle = await h.request('POST', '/v1/invoices/settle', {
        key: ws.key,
        body: { invoice_id: 'in_grants_1', customer: ws.customer, currency: 'usd', subtotal_cents: 1200 },
      });
      assert.equal(settle.status, 200, JSON.stringify(settle.body));
      let page = await list(ws.key, ws.externalId);
      assert.deepEqual(
        page.data.map((g) => [g.id, g.asset, g.amount, g.remaining]),
        [
          [minutes.id, 'minutes', 90, 90],
          [newer.id, 'usd_credit', 500, 300],
          [older.id, 'usd_credit', 1000, 0],
        ],
      );
      assert.equal(page.data[0]!.expires_at, minutes.expires_at);
      const voided = await h.request('POST', '/v1/invoices/in_grants_1/void', { key: ws.key });
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      page = await list(ws.key, ws.customer, '?asset=usd_credit');
      assert.deepEqual(
        page.data.map((g) => [g.id, g.remaining, g.reversed]),
        [
          [newer.id, 500, false],
          [older.id, 1000, false],
        ],
        'the given-back lots count for their grant and are not listed as grants of their own',
      );
      const reversal = await h.request('POST', `/v1/customers/${ws.customer}/reversals`, {
        key: ws.key,
        body: { grant: newer.id, reason: 'refund' },
      });
      assert.equal(reversal.status, 201, JSON.stringify(reversal.body));
      page = await list(ws.key, ws.customer, '?asset=usd_credit');
      assert.deepEqual(
        page.data.map((g) => [g.id, g.remaining, g.reversed]),
        [
          [newer.id, 0, true],
          [older.id, 1000, false],
        ],
      );
    });

    it('happy: what expired by the time of the read no longer counts', async () => {
      const ws = await ledgerWorkspace(h);
      const g = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 60, { expires: { type: 'after', duration: 'PT1H' } }),
      );
      assert.equal((await list(ws.key, ws.customer)).data[0]!.remaining, 60);
      h.clock.advance(3600_000);
      const page = await list(ws.key, ws.customer);
      assert.deepEqual(
        page.data.map((x) => [x.id, x.remaining]),
        [[g.id, 0]],
      );
    });

    it('happy: pages with limit and starting_after', async () => {
      const ws = await ledgerWorkspace(h);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await grantOk(h, ws.key, ws.customer, grantBody('free_days', 3))).id);
      const first = await list(ws.key, ws.customer, '?limit=2');
      assert.equal(first.has_more, true);
      const second = await list(ws.key, ws.customer, `?limit=2&starting_after=${first.data[1]!.id}`);
      const third = await list(ws.key, ws.customer, `?limit=2&starting_after=${second.data[1]!.id}`);
      assert.equal(third.has_more, false);
      assert.deepEqual(
        [...first.data, ...second.data, ...third.data].map((g) => g.id),
        ids.reverse(),
      );
    });

    it('error: an unknown customer or asset is a typed 404 naming it', async () => {
      const ws = await ledgerWorkspace(h);
      const nobody = await h.request('GET', '/v1/customers/nobody/grants', { key: ws.key });
      assert.equal(nobody.status, 404);
      assert.equal(nobody.body.error.code, 'resource_not_found');
      const asset = await h.request('GET', `/v1/customers/${ws.customer}/grants?asset=no_such`, {
        key: ws.key,
      });
      assert.equal(asset.status, 404);
      assert.equal(asset.body.error.param, 'asset');
      const bad = await h.request('GET', `/v1/customers/${ws.customer}/grants?limit=101`, { key: ws.key });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'parameter_invalid');
    });
  });
}
