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
  ref,
} from '../../../../test/ledger/fixtures.js';

const DAY = 24 * 3600 * 1000;

for (const store of storeCases()) {
  describe(`ledger grants (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-03-01T00:00:00Z');
    });
    after(() => h.close());

    it('happy: grants money credit as a lot and shows it in the balance and the statement', async () => {
      const ws = await ledgerWorkspace(h);
      const body = grantBody('usd_credit', 2500, {
        currency: 'usd',
        source: { type: 'referral', id: 'ref_123' },
        reason: 'referral reward',
        metadata: { campaign: 'spring' },
      });
      const g = await grantOk(h, ws.key, ws.externalId, body);
      assert.match(g.id, /^lot_/);
      assert.equal(g.amount, 2500);
      assert.equal(g.remaining, 2500);
      assert.equal(g.expires_at, null);
      assert.deepEqual(g.expiry, { type: 'never' });
      assert.deepEqual(g.source, { type: 'referral', id: 'ref_123', actor: null });
      assert.equal(g.customer, ws.customer);
      const b = await balances(h, ws.key, ws.customer);
      assert.equal(b.usd_credit.available, 2500);
      assert.equal(b.usd_credit.held, 0);
      const ledger = await h.request('GET', `/v1/customers/${ws.customer}/ledger`, { key: ws.key });
      assert.equal(ledger.status, 200);
      assert.equal(ledger.body.data.length, 1);
      const [entry] = ledger.body.data;
      assert.equal(entry.type, 'grant');
      assert.equal(entry.from, 'program_expense');
      assert.equal(entry.to, 'customer');
      assert.equal(entry.balance_change, 2500);
      assert.equal(entry.lot, g.id);
      assert.deepEqual(entry.source, {
        type: 'referral',
        id: 'ref_123',
        actor: null,
        reason: 'referral reward',
      });
    });

    it('happy: the same reference returns the first grant and grants nothing twice', async () => {
      const ws = await ledgerWorkspace(h);
      const body = grantBody('minutes', 30, { expires: { type: 'after', duration: 'P30D' } });
      const first = await grantOk(h, ws.key, ws.customer, body);
      h.clock.advance(1000);
      const again = await h.request('POST', `/v1/customers/${ws.customer}/grants`, { key: ws.key, body });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first);
      assert.equal((await balances(h, ws.key, ws.customer)).minutes.available, 30);
    });

    it('error: the same reference with another grant is refused', async () => {
      const ws = await ledgerWorkspace(h);
      const body = grantBody('minutes', 30);
      await grantOk(h, ws.key, ws.customer, body);
      const before = await ledgerRows(h, ws.workspaceId);
      const other = await h.request('POST', `/v1/customers/${ws.customer}/grants`, {
        key: ws.key,
        body: { ...body, amount: 31 },
      });
      assert.equal(other.status, 409);
      assert.equal(other.body.error.code, 'grant_reference_reused');
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });

    it('happy: resolves each expiry policy', async () => {
      h.clock.set('2026-03-01T00:00:00Z');
      const ws = await ledgerWorkspace(h);
      const now = h.clock.now().getTime();
      const at = new Date(now + 5 * DAY).toISOString();
      const g1 = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 10, { expires: { type: 'at', at } }),
      );
      assert.equal(g1.expires_at, at);
      const g2 = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 10, { expires: { type: 'after', duration: 'P1M' } }),
      );
      assert.equal(g2.expires_at, '2026-04-01T00:00:00.000Z');
      const sub = await h.request('POST', '/v1/events', {
        key: ws.key,
        body: {
          id: ref('evt'),
          type: 'subscription.updated',
          occurred_at: '2026-02-20T00:00:00Z',
          data: {
            customer: ws.externalId,
            subscription: {
              id: 'sub_1',
              plan_id: 'pro',
              interval: 'month',
              status: 'active',
              current_period_start: '2026-02-20T00:00:00Z',
              current_period_end: '2026-03-20T00:00:00Z',
              amount: 2900,
              currency: 'usd',
            },
          },
        },
      });
      assert.equal(sub.status, 200, JSON.stringify(sub.body));
      const g3 = await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('minutes', 10, { expires: { type: 'end_of_billing_period' } }),
      );
      assert.equal(g3.expires_at, '2026-03-20T00:00:00.000Z');
      const b = await balances(h, ws.key, ws.customer);
      assert.deepEqual(b.minutes.expiring, [
        { expires_at: at, amount: 10 },
        { expires_at: '2026-03-20T00:00:00.000Z', amount: 10 },
        { expires_at: '2026-04-01T00:00:00.000Z', amount: 10 },
      ]);
    });

    it('error: bad input is a typed 4xx error and writes nothing', async () => {
      const ws = await ledgerWorkspace(h);
      const before = await ledgerRows(h, ws.workspaceId);
      const past = new Date(h.clock.now().getTime() - 1000).toISOString();
      const cases: [string, Record<string, unknown>, number, string, string][] = [
        ['zero amount', grantBody('usd_credit', 0), 400, 'parameter_invalid', 'amount'],
        ['negative amount', grantBody('usd_credit', -5), 400, 'parameter_invalid', 'amount'],
        ['fractional amount', grantBody('usd_credit', 2.5), 400, 'parameter_invalid', 'amount'],
        ['overflowing amount', grantBody('usd_credit', 1e13), 400, 'parameter_invalid', 'amount'],
        ['unsafe integer amount', grantBody('usd_credit', 2 ** 60), 400, 'parameter_invalid', 'amount'],
        [
          'amount as a string',
          grantBody('usd_credit', '100' as unknown as number),
          400,
          'parameter_invalid',
          'amount',
        ],
        ['unknown asset', grantBody('gold_bars', 5), 404, 'resource_not_found', 'asset'],
        [
          'currency not the asset’s',
          grantBody('usd_credit', 5, { currency: 'eur' }),
          400,
          'currency_mismatch',
          'currency',
        ],
        [
          'currency on a units asset',
          grantBody('minutes', 5, { currency: 'usd' }),
          400,
          'currency_mismatch',
          'currency',
        ],
        [
          'expiry in the past',
          grantBody('usd_credit', 5, { expires: { type: 'at', at: past } }),
          400,
          'expiry_invalid',
          'expires.at',
        ],
        [
          'expiry now',
          grantBody('usd_credit', 5, { expires: { type: 'at', at: h.clock.now().toISOString() } }),
          400,
          'expiry_invalid',
          'expires.at',
        ],
        [
          'bad duration',
          grantBody('usd_credit', 5, { expires: { type: 'after', duration: '30 days' } }),
          400,
          'expiry_invalid',
          'expires.duration',
        ],
        [
          'zero duration',
          grantBody('usd_credit', 5, { expires: { type: 'after', duration: 'PT0S' } }),
          400,
          'expiry_invalid',
          'expires.duration',
        ],
        [
          'no billing period',
          grantBody('usd_credit', 5, { expires: { type: 'end_of_billing_period' } }),
          400,
          'expiry_invalid',
          'expires.type',
        ],
        [
          'unknown expiry type',
          grantBody('usd_credit', 5, { expires: { type: 'soon' } }),
          400,
          'parameter_invalid',
          'expires.type',
        ],
        [
          'manual without actor',
          grantBody('usd_credit', 5, { source: { type: 'manual' } }),
          400,
          'parameter_missing',
          'source.actor',
        ],
        ['unknown field', grantBody('usd_credit', 5, { bonus: true }), 400, 'parameter_unknown', 'bonus'],
        [
          'missing reference',
          { ...grantBody('usd_credit', 5), reference: undefined },
          400,
          'parameter_missing',
          'reference',
        ],
      ];
      for (const [label, body, status, code, param] of cases) {
        const res = await h.request('POST', `/v1/customers/${ws.customer}/grants`, { key: ws.key, body });
        assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, code, `${label}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.param, param, `${label}: ${JSON.stringify(res.body)}`);
      }
      const nobody = await h.request('POST', '/v1/customers/nobody/grants', {
        key: ws.key,
        body: grantBody('usd_credit', 5),
      });
      assert.equal(nobody.status, 404);
      assert.equal(nobody.body.error.param, 'id');
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });

    it('error: a balance above the account limit is refused', async () => {
      const ws = await ledgerWorkspace(h);
      const big = 1_000_000_000_000;
      // Setting the cached balance by hand stands in for a thousand maximal grants.
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', big));
      await h.db.query(
        `update ledger_accounts set balance = 1000000000000000 where workspace_id = $1 and kind = 'customer'`,
        [ws.workspaceId],
      );
      const before = await ledgerRows(h, ws.workspaceId);
      const res = await h.request('POST', `/v1/customers/${ws.customer}/grants`, {
        key: ws.key,
        body: grantBody('usd_credit', 1),
      });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'balance_limit_exceeded');
      assert.equal(await ledgerRows(h, ws.workspaceId), before);
    });
  });
}
