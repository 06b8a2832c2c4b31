import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';
import { ASSETS } from '../../../../test/ledger/fixtures.js';

for (const store of storeCases()) {
  describe(`ledger assets (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('happy: creates each kind, answers a repeat with the same asset, and lists newest first', async () => {
      const { key } = await h.newWorkspace('assets');
      const created: string[] = [];
      for (const body of Object.values(ASSETS)) {
        const res = await h.request('POST', '/v1/assets', { key, body });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.match(res.body.id, /^ast_/);
        created.push(res.body.key);
      }
      const commission = await h.request('POST', '/v1/assets', { key, body: ASSETS.usd_commission });
      assert.equal(commission.status, 200, 'the same definition again answers with the asset');
      assert.equal(commission.body.payout_minimum, 2000);
      assert.equal(commission.body.negative_policy, 'forgive');
      const list = await h.request('GET', '/v1/assets?limit=3', { key });
      assert.deepEqual(
        list.body.data.map((a: { key: string }) => a.key),
        created.slice().reverse().slice(0, 3),
      );
      assert.equal(list.body.has_more, true);
      const rest = await h.request('GET', `/v1/assets?starting_after=${list.body.data[2].id}`, { key });
      assert.equal(rest.body.data.length, created.length - 3);
    });

    it('error: a taken key with another definition, and bad combinations, are typed 4xx errors', async () => {
      const { key } = await h.newWorkspace('assets');
      await h.request('POST', '/v1/assets', { key, body: ASSETS.usd_credit });
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ ...ASSETS.usd_credit, currency: 'eur' }, 409, 'asset_key_taken', 'key'],
        [{ key: 'm', kind: 'money', purpose: 'credit' }, 400, 'parameter_missing', 'currency'],
        [{ key: 'u', kind: 'units', purpose: 'credit' }, 400, 'parameter_missing', 'unit'],
        [{ key: 'c', kind: 'days', purpose: 'commission' }, 400, 'parameter_invalid', 'purpose'],
        [
          { key: 'p', kind: 'money', currency: 'usd', purpose: 'credit', payout_minimum: 5 },
          400,
          'parameter_invalid',
          'payout_minimum',
        ],
        [{ key: 'Bad Key', kind: 'days', purpose: 'credit' }, 400, 'parameter_invalid', 'key'],
        [{ key: 'x', kind: 'gold', purpose: 'credit' }, 400, 'parameter_invalid', 'kind'],
        [
          { key: 'y', kind: 'money', currency: 'usd', purpose: 'commission', payout_minimum: -1 },
          400,
          'parameter_invalid',
          'payout_minimum',
        ],
      ];
      for (const [body, status, code, param] of cases) {
        const res = await h.request('POST', '/v1/assets', { key, body });
        assert.equal(res.status, status, JSON.stringify([body, res.body]));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      }
      const list = await h.request('GET', '/v1/assets', { key });
      assert.deepEqual(
        list.body.data.map((a: { key: string }) => a.key),
        ['usd_credit'],
      );
    });
  });
}
