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

const HOUR = 3600 * 1000;

for (const store of storeCases()) {
  describe(`ledger consumptions (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    const at = (ms: number) => new Date(h.clock.now().getTime() + ms).toISOString();
    const consume = (key: string, customer: string, body: Record<string, unknown>) =>
      h.request('POST', `/v1/customers/${customer}/consumptions`, { key, body });

    it('happy: takes earliest expiry first, then the oldest grant, one entry per lot touched', async () => {
      const ws = await ledgerWorkspace(h);
      const never = await grantOk(h, ws.key, ws.customer, grantBody('minutes', 100));
      h.clock.advance(1000);
      const late = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 30, { expires: { type: 'at', at: at(48 * HOUR) } }),
      );
      h.clock.advance(1000);
      const soon = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 20, { expires: { type: 'at', at: at(24 * HOUR) } }),
      );
      const res = await consume(ws.key, ws.customer, { asset: 'minutes', amount: 60, reference: 'call_1' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.match(res.body.id, /^con_/);
      assert.equal(res.body.consumed, 60);
      assert.deepEqual(
        res.body.lots.map((l: { lot: string; amount: number; remaining: number }) => [
          l.lot,
          l.amount,
          l.remaining,
        ]),
        [
          [soon.id, 20, 0],
          [late.id, 30, 0],
          [never.id, 10, 90],
        ],
      );
      assert.equal(res.body.available, 90);
      const ledger = await h.request('GET', `/v1/customers/${ws.customer}/ledger?asset=minutes`, {
        key: ws.key,
      });
      const consumes = ledger.body.data.filter((e: { type: string }) => e.type === 'consume');
      assert.equal(consumes.length, 3, 'one entry per lot touched');
      for (const e of consumes) {
        assert.equal(e.to, 'usage');
        assert.equal(e.reference, 'call_1');
        assert.equal(e.operation, res.body.id);
      }
    });

    it('error: not enough balance is insufficient_balance and nothing changes', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('free_days', 3));
      const before = await ledgerRows(h, ws.workspaceId);
      const res = await consume(ws.key, ws.customer, { asset: 'free_days', amount: 4 });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'insufficient_balance');
      assert.equal(res.body.error.available, 3);
      assert.equal(res.body.error.requested, 4);
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });

    it('happy: a partial consumption takes what there is', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('free_days', 3));
      const res = await consume(ws.key, ws.customer, { asset: 'free_days', amount: 5, partial: true });
      assert.equal(res.status, 201);
      assert.equal(res.body.requested, 5);
      assert.equal(res.body.consumed, 3);
      const empty = await consume(ws.key, ws.customer, { asset: 'free_days', amount: 5, partial: true });
      assert.equal(empty.body.consumed, 0);
      assert.deepEqual(empty.body.lots, []);
    });

    it('happy: a lot past its expiry is expired first, into breakage, dated at its expiry', async () => {
      const ws = await ledgerWorkspace(h);
      const expiresAt = at(HOUR);
      const short = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 40, { expires: { type: 'at', at: expiresAt } }),
      );
      const long = await grantOk(h, ws.key, ws.customer, grantBody('minutes', 10));
      h.clock.advance(HOUR);
      const res = await consume(ws.key, ws.customer, { asset: 'minutes', amount: 10 });
      assert.equal(res.status, 201);
      assert.deepEqual(
        res.body.lots.map((l: { lot: string }) => l.lot),
        [long.id],
        'the expired lot is not consumed',
      );
      const ledger = await h.request('GET', `/v1/customers/${ws.customer}/ledger`, { key: ws.key });
      const expiry = ledger.body.data.find((e: { type: string }) => e.type === 'expire');
      assert.equal(expiry.lot, short.id);
      assert.equal(expiry.amount, 40);
      assert.equal(expiry.to, 'breakage');
      assert.equal(expiry.effective_at, expiresAt);
      assert.equal((await balances(h, ws.key, ws.customer)).minutes.available, 0);
    });

    it('error: money, commission, unknown assets and bad amounts are refused, writing nothing', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 500));
      const before = await ledgerRows(h, ws.workspaceId);
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ asset: 'usd_credit', amount: 5 }, 400, 'asset_not_applicable', 'asset'],
        [{ asset: 'usd_commission', amount: 5 }, 400, 'asset_not_applicable', 'asset'],
        [{ asset: 'hours', amount: 5 }, 404, 'resource_not_found', 'asset'],
        [{ asset: 'minutes', amount: 0 }, 400, 'parameter_invalid', 'amount'],
        [{ asset: 'minutes', amount: -1 }, 400, 'parameter_invalid', 'amount'],
        [{ asset: 'minutes', amount: 1.5 }, 400, 'parameter_invalid', 'amount'],
        [{ asset: 'minutes', amount: 1e15 }, 400, 'parameter_invalid', 'amount'],
        [{ asset: 'minutes', amount: 1, partial: 'yes' }, 400, 'parameter_invalid', 'partial'],
      ];
      for (const [body, status, code, param] of cases) {
        const res = await consume(ws.key, ws.customer, body);
        assert.equal(res.status, status, JSON.stringify([body, res.body]));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      }
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });
  });
}
