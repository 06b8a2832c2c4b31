/**
 * What the database itself guarantees for the ledger, on both stores: entries are append-only, the
 * background sweeper writes due expiries, and the statement pages through every entry once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sweepExpired, startSweeper } from '../../src/app/ledger_sweeper.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { balances, grantBody, grantOk, ledgerWorkspace } from './fixtures.js';

const HOUR = 3600 * 1000;

for (const store of storeCases()) {
  describe(`ledger store (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('security: the database refuses UPDATE, DELETE and TRUNCATE of ledger entries', async () => {
      const ws = await ledgerWorkspace(h);
      await grantOk(h, ws.key, ws.customer, grantBody('usd_credit', 100));
      const attempts = [
        ['update ledger_entries set amount = 1000000 where workspace_id = $1', [ws.workspaceId]],
        ['delete from ledger_entries where workspace_id = $1', [ws.workspaceId]],
        ['truncate ledger_entries', []],
      ] as const;
      for (const [sql, params] of attempts) {
        await assert.rejects(h.db.query(sql, params), /append-only/, sql);
      }
      const [row] = await h.db.query<{ n: number; total: number }>(
        'select count(*)::int as n, sum(amount)::bigint as total from ledger_entries where workspace_id = $1',
        [ws.workspaceId],
      );
      assert.deepEqual(row, { n: 1, total: 100 });
    });

    it('happy: the sweeper writes due expiries for every customer, dated at each expiry', async () => {
      const ws = await ledgerWorkspace(h);
      await h.request('POST', '/v1/customers', { key: ws.key, body: { external_id: 'second' } });
      const expiresAt = new Date(h.clock.now().getTime() + HOUR).toISOString();
      for (const c of [ws.customer, 'second']) {
        await grantOk(h, ws.key, c, grantBody('minutes', 25, { expires: { type: 'at', at: expiresAt } }));
        await grantOk(h, ws.key, c, grantBody('minutes', 5));
      }
      assert.equal(await sweepExpired(h.deps, 100), 0, 'nothing is due yet');
      h.clock.advance(2 * HOUR);
      assert.ok((await sweepExpired(h.deps, 100)) >= 2);
      const entries = await h.db.query<{ amount: number; effective_at: Date }>(
        `select e.amount, e.effective_at from ledger_entries e where e.workspace_id = $1 and e.kind = 'expire'`,
        [ws.workspaceId],
      );
      assert.deepEqual(
        entries.map((e) => [e.amount, e.effective_at.toISOString()]),
        [
          [25, expiresAt],
          [25, expiresAt],
        ],
      );
      assert.equal((await balances(h, ws.key, 'second')).minutes.available, 5);
      assert.equal(await sweepExpired(h.deps, 100), 0, 'a second sweep finds nothing');
    });

    it('happy: startSweeper runs in the background and stops cleanly', async () => {
      const ws = await ledgerWorkspace(h);
      const expiresAt = new Date(h.clock.now().getTime() + HOUR).toISOString();
      await grantOk(
        h,
        ws.key,
        ws.customer,
        grantBody('free_days', 3, { expires: { type: 'at', at: expiresAt } }),
      );
      h.clock.advance(2 * HOUR);
      const errors: unknown[] = [];
      const sweeper = startSweeper(h.deps, 10, (err) => errors.push(err));
      for (let i = 0; i < 100; i++) {
        const [lot] = await h.db.query<{ remaining: number }>(
          `select remaining from ledger_lots where workspace_id = $1`,
          [ws.workspaceId],
        );
        if (lot?.remaining === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await sweeper.stop();
      const [lot] = await h.db.query<{ remaining: number; expired_amount: number }>(
        'select remaining, expired_amount from ledger_lots where workspace_id = $1',
        [ws.workspaceId],
      );
      assert.deepEqual(lot, { remaining: 0, expired_amount: 3 });
      assert.deepEqual(errors, []);
    });

    it('happy: the statement pages newest first through every entry exactly once, each naming its source', async () => {
      const ws = await ledgerWorkspace(h);
      for (let i = 0; i < 7; i++) {
        await grantOk(
          h,
          ws.key,
          ws.customer,
          grantBody('minutes', 10 + i, { source: { type: 'event', id: `evt_${i}` } }),
        );
      }
      const seen: { id: string; amount: number; source: { id: string } }[] = [];
      let url = `/v1/customers/${ws.externalId}/ledger?limit=3`;
      for (;;) {
        const page = await h.request('GET', url, { key: ws.key });
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...page.body.data);
        if (!page.body.has_more) break;
        url = `/v1/customers/${ws.externalId}/ledger?limit=3&starting_after=${page.body.data.at(-1).id}`;
      }
      assert.deepEqual(
        seen.map((e) => [e.amount, e.source.id]),
        [16, 15, 14, 13, 12, 11, 10].map((a, i) => [a, `evt_${6 - i}`]),
      );
      const other = await h.request('GET', `/v1/customers/${ws.customer}/ledger?asset=usd_credit`, {
        key: ws.key,
      });
      assert.deepEqual(other.body.data, []);
      const bad = await h.request('GET', `/v1/customers/${ws.customer}/ledger?limit=101`, { key: ws.key });
      assert.equal(bad.status, 400);
      const nobody = await h.request('GET', '/v1/customers/ghost/balances', { key: ws.key });
      assert.equal(nobody.status, 404);
    });
  });
}
