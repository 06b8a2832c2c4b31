/**
 * `perks ledger sweep` and `perks ledger check`, run as the real CLI in a child process against the
 * embedded store and, when DATABASE_URL is set, a fresh PostgreSQL database. The ledger is written
 * through the use cases beforehand (with a clock two days back, so that some credit is due to
 * expire now), then damaged by hand to see the check fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemIds } from '../../src/adapters/system.js';
import { upsertCustomer } from '../../src/app/customers.js';
import { createAsset } from '../../src/app/ledger_assets.js';
import { grant } from '../../src/app/ledger_grants.js';
import type { Deps } from '../../src/app/ports.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { TestClock } from '../helpers/harness.js';
import { type CliStore, cliStoreCases, onStore } from '../helpers/cli_stores.js';
import { runCli } from '../helpers/processes.js';

const DAY = 24 * 3600 * 1000;

for (const { name, make } of cliStoreCases('cli-ledger')) {
  describe(`perks ledger (${name})`, () => {
    let store: CliStore;
    let workspace = '';
    const cli = (...args: string[]) => runCli(['ledger', ...args], store.env);

    before(async () => {
      store = await make();
      // Two days ago: a grant that expired a day later, and one that never expires.
      await onStore(store, async (db) => {
        const deps: Deps = { db, clock: new TestClock(new Date(Date.now() - 2 * DAY)), ids: systemIds() };
        workspace = (await createWorkspace(deps, 'ledger cli')).workspace.id;
        await db.transaction(async (tx) => {
          await createAsset(deps, tx, workspace, {
            key: 'minutes',
            kind: 'units',
            unit: 'minutes',
            purpose: 'credit',
          });
          await upsertCustomer(deps, tx, workspace, { external_id: 'team_1' }, deps.clock.now());
          for (const [reference, expires] of [
            ['short', { type: 'after' as const, duration: 'P1D' }],
            ['long', { type: 'never' as const }],
          ] as const) {
            await grant(deps, tx, workspace, 'team_1', {
              asset: 'minutes',
              amount: 30,
              expires,
              reason: 'seed',
              reference,
              source: { type: 'program', id: 'p' },
            });
          }
        });
      });
    });
    after(() => store.remove());

    it('check passes on a sound ledger and names what is due for expiry', async () => {
      const human = await cli('check');
      assert.equal(human.code, 0, human.stderr);
      assert.match(
        human.stdout,
        new RegExp(`${workspace}: ok \\(8 accounts, 2 entries, 2 lots; 1 lot due for expiry`),
      );
      assert.match(human.stdout, /ledger_entries: append-only/);

      const json = await cli('check', '--workspace', workspace, '--json');
      assert.equal(json.code, 0, json.stderr);
      const result = JSON.parse(json.stdout);
      assert.equal(result.ok, true);
      assert.deepEqual(result.append_only, []);
      assert.deepEqual(
        result.workspaces.map((w: { workspace: string; problems: string[]; expiry_due: number }) => [
          w.workspace,
          w.problems,
          w.expiry_due,
        ]),
        [[workspace, [], 1]],
      );
    });

    it('sweep writes the due expiry once and prints how many lots expired', async () => {
      const first = await cli('sweep');
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), 'Expired 1 lot.');
      const again = await cli('sweep', '--json');
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).expired_lots, 0);

      const rows = await onStore(store, (db) =>
        db.query<{ kind: string; amount: number }>(
          `select kind, amount from ledger_entries where workspace_id = $1 order by id`,
          [workspace],
        ),
      );
      assert.deepEqual(
        rows.map((r) => [r.kind, r.amount]),
        [
          ['grant', 30],
          ['grant', 30],
          ['expire', 30],
        ],
      );
      const checked = await cli('check', '--json');
      assert.equal(checked.code, 0, checked.stderr);
      assert.equal(JSON.parse(checked.stdout).workspaces[0].expiry_due, 0);
    });

    it('sweep refuses a limit out of range, writing nothing', async () => {
      const res = await cli('sweep', '--limit', '0');
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /from 1 to 10000/);
    });

    it('check exits 1 and lists the violations when a lot no longer adds up', async () => {
      await onStore(store, (db) =>
        db.query(
          `update ledger_lots set remaining = remaining - 5 where workspace_id = $1 and reference = 'long'`,
          [workspace],
        ),
      );
      const res = await cli('check');
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stdout, new RegExp(`${workspace}: \\d+ problems \\(`));
      assert.match(res.stdout, /lot lot_[0-9a-z]+: 30 - 0 repaid - 0 used != remaining 25/);
      assert.match(res.stdout, /balance 30 != open lots 25 - debt 0/);
      assert.match(res.stderr, /the ledger check found \d+ problems/);
      await onStore(store, (db) =>
        db.query(
          `update ledger_lots set remaining = remaining + 5 where workspace_id = $1 and reference = 'long'`,
          [workspace],
        ),
      );
      assert.equal((await cli('check')).code, 0);
    });

    it('check exits 1 when ledger entries are no longer append-only', async () => {
      await onStore(store, (db) =>
        db.query('alter table ledger_entries disable trigger ledger_entries_no_update_or_delete'),
      );
      try {
        const res = await cli('check', '--json');
        assert.equal(res.code, 1);
        assert.deepEqual(JSON.parse(res.stdout).append_only, [
          'ledger_entries: the trigger ledger_entries_no_update_or_delete is disabled',
        ]);
      } finally {
        await onStore(store, (db) =>
          db.query('alter table ledger_entries enable trigger ledger_entries_no_update_or_delete'),
        );
      }
      assert.equal((await cli('check')).code, 0);
    });

    it('check refuses an unknown workspace', async () => {
      const res = await cli('check', '--workspace', 'ws_00000000000000000000000000');
      assert.equal(res.code, 1);
      assert.match(res.stderr, /no workspace 'ws_00000000000000000000000000'/);
    });
  });
}
