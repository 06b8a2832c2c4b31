/**
 * Crash safety: a process killed with SIGKILL in the middle of writing loses nothing it acknowledged
 * and leaves nothing half-written, on the embedded store (data folder, stale lock taken over) and on
 * PostgreSQL. A second process opening a live data folder fails fast, naming the holder.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openPglite, openPostgres } from '../src/adapters/db/db.js';
import { DataDirLockedError } from '../src/adapters/db/lock.js';
import { migrate } from '../src/adapters/db/migrate.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import { ingestEvents } from '../src/app/events.js';
import type { Db } from '../src/app/ports.js';
import { type Child, CLI, freePort, freshDataDir, ROOT, runCli, runTs } from './helpers/processes.js';
import { createTestDatabase } from './helpers/stores.js';

const WRITER = path.join(ROOT, 'test/helpers/crash_writer.ts');
/** Kill after this many acknowledged commits: enough to be mid-stream, not so many the test is slow. */
const KILL_AFTER = 300;

/** Starts the writer, waits for KILL_AFTER acknowledged commits, kills it, returns what it acknowledged. */
async function writeAndKill(kind: 'pglite' | 'postgres', target: string) {
  const writer = runTs(WRITER, ['write', kind, target]);
  try {
    const [, workspaceId] = await writer.waitForLine(/^workspace (ws_\w+)$/, 60_000);
    await writer.waitForLine(new RegExp(`^committed ${KILL_AFTER}$`), 120_000);
    writer.process.kill('SIGKILL');
    const { signal } = await writer.exited(10_000);
    assert.equal(signal, 'SIGKILL');
    const acknowledged = Math.max(
      ...[...writer.stdout().matchAll(/^committed (\d+)$/gm)].map((m) => Number(m[1])),
    );
    return { workspaceId: workspaceId!, acknowledged };
  } finally {
    writer.kill();
  }
}

/** Every acknowledged transaction is there whole, at most one more (committed, not yet printed), none torn. */
async function checkAfterCrash(db: Db, workspaceId: string, acknowledged: number) {
  const customers = await db.query<{ external_id: string; cards: number }>(
    `select c.external_id, (select count(*)::int from payment_methods p
       where p.workspace_id = c.workspace_id and p.customer_id = c.id) as cards
     from customers c where c.workspace_id = $1`,
    [workspaceId],
  );
  const indexes = customers.map((c) => Number(c.external_id.replace('crash_', ''))).sort((a, b) => a - b);
  const found = indexes.length;
  assert.ok(found >= acknowledged, `lost acknowledged writes: ${found} of ${acknowledged}`);
  assert.ok(found <= acknowledged + 1, `${found} rows but only ${acknowledged} (+1 in flight) were written`);
  assert.deepEqual(
    indexes,
    Array.from({ length: found }, (_, i) => i),
    'the committed transactions are a prefix, with no gap',
  );
  for (const c of customers) assert.equal(c.cards, 1, `${c.external_id} is half-written (no card)`);
  const [events] = await db.query<{ n: number; applied: number }>(
    `select count(*)::int as n, count(*) filter (where outcome = 'applied')::int as applied
     from events where workspace_id = $1`,
    [workspaceId],
  );
  assert.equal(events!.n, found * 2, 'each transaction stored both of its events');
  assert.equal(events!.applied, found * 2);
  // The store takes new writes after the crash.
  const deps = { db, clock: systemClock, ids: systemIds() };
  const after = await db.transaction((tx) =>
    ingestEvents(deps, tx, workspaceId, 'api', [
      {
        id: 'evt_after_crash',
        type: 'customer.created',
        occurred_at: new Date(),
        data: { customer: { external_id: 'after_crash' } },
      },
    ]),
  );
  assert.equal(after[0]!.duplicate, false);
  return found;
}

describe('crash: SIGKILL mid-write (pglite)', () => {
  it('reopens the data folder, taking over the stale lock, with every acknowledged write whole', async () => {
    const tmp = await freshDataDir('crash');
    try {
      const { workspaceId, acknowledged } = await writeAndKill('pglite', tmp.dir);
      const lockFile = path.join(tmp.dir, 'perks.lock');
      assert.ok(existsSync(lockFile), 'the killed process left its lock behind');
      const stale = JSON.parse(readFileSync(lockFile, 'utf8')) as {
        pid: number;
      };
      const db = await openPglite({
        dataDir: tmp.dir,
        command: 'crash test reopen',
      });
      try {
        const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as {
          pid: number;
          command: string;
        };
        assert.notEqual(holder.pid, stale.pid);
        assert.equal(holder.pid, process.pid, 'the stale lock was taken over');
        await migrate(db);
        await checkAfterCrash(db, workspaceId, acknowledged);
      } finally {
        await db.close();
      }
      // What was written after the crash is durable too.
      const again = await openPglite({ dataDir: tmp.dir });
      try {
        const rows = await again.query('select 1 from customers where external_id = $1', ['after_crash']);
        assert.equal(rows.length, 1);
      } finally {
        await again.close();
      }
      assert.ok(!existsSync(lockFile), 'closing released the lock');
    } finally {
      tmp.remove();
    }
  });

  it('refuses a second opener of a live data folder at once, naming the holder', async () => {
    const tmp = await freshDataDir('lock');
    const holder = runTs(WRITER, ['hold', tmp.dir]);
    try {
      await holder.waitForLine(/^holding \d+$/, 60_000);
      const started = Date.now();
      await assert.rejects(
        () => openPglite({ dataDir: tmp.dir, command: 'second opener' }),
        (err: unknown) => {
          assert.ok(err instanceof DataDirLockedError, String(err));
          assert.equal(err.holder.pid, holder.pid);
          assert.match(err.message, new RegExp(`in use by pid ${holder.pid} `));
          assert.match(err.message, /"crash_writer hold"/);
          assert.match(err.message, /PERKS_DATA_DIR|DATABASE_URL/, 'the message says what to do');
          return true;
        },
      );
      assert.ok(Date.now() - started < 2000, 'it fails fast rather than waiting');
    } finally {
      holder.kill();
      await holder.exited(10_000);
      tmp.remove();
    }
  });

  it('refuses a second `perks serve` on the same PERKS_DATA_DIR within seconds, naming the first', async (t) => {
    const tmp = await freshDataDir('serve-twice');
    const [port1, port2] = [await freePort(), await freePort()];
    // DATABASE_URL emptied: the embedded store is the one under test even when PostgreSQL is configured.
    const env = {
      PERKS_DATA_DIR: tmp.dir,
      DATABASE_URL: '',
      LOG_LEVEL: 'warn',
    };
    const first: Child = runTs(CLI, ['serve'], { ...env, PORT: String(port1) });
    try {
      await first.waitForLine(/Perks is listening on http:\/\/127\.0\.0\.1:\d+/, 60_000);
      // Starting the CLI at all (tsx, loading every module) takes seconds on a busy machine; the
      // second server must take no more than that plus a few seconds, not wait for the lock.
      const baselineStarted = Date.now();
      const help = await runCli(['--help'], env);
      const startup_ms = Date.now() - baselineStarted;
      assert.equal(help.code, 0, help.stderr);
      const started = Date.now();
      const second = runTs(CLI, ['serve'], { ...env, PORT: String(port2) });
      try {
        const { code } = await second.exited(startup_ms + 30_000);
        const elapsed_ms = Date.now() - started;
        t.diagnostic(
          `the second server exited after ${elapsed_ms} ms; a bare CLI start takes ${startup_ms} ms`,
        );
        assert.notEqual(code, 0);
        assert.ok(elapsed_ms < startup_ms + 5000, `took ${elapsed_ms} ms, a bare start ${startup_ms} ms`);
        const message = second.stderr();
        assert.match(message, new RegExp(`is in use by pid ${first.pid} `), message);
        assert.match(message, new RegExp(`perks serve \\(port ${port1}\\)`), message);
        assert.doesNotMatch(second.stdout(), /listening/);
      } finally {
        second.kill();
      }
      // The first server is unharmed and answers.
      const health = await fetch(`http://127.0.0.1:${port1}/healthz`);
      assert.equal(health.status, 200);
    } finally {
      first.process.kill('SIGTERM');
      const { code } = await first.exited(20_000).catch(() => ({ code: -1 }));
      first.kill();
      tmp.remove();
      assert.equal(code, 0, 'the first server stopped cleanly');
    }
  });
});

if (process.env.DATABASE_URL) {
  describe('crash: SIGKILL mid-write (postgres)', () => {
    it('keeps every acknowledged write whole and takes new writes', async () => {
      const database = await createTestDatabase();
      try {
        const { workspaceId, acknowledged } = await writeAndKill('postgres', database.url);
        const db = await openPostgres(database.url, 2);
        try {
          await checkAfterCrash(db, workspaceId, acknowledged);
          // The killed client's session is gone; no transaction of it is left open holding locks.
          const open = await db.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
             where datname = current_database() and state like 'idle in transaction%'`,
          );
          assert.equal(open[0]!.n, 0);
        } finally {
          await db.close();
        }
      } finally {
        await database.drop();
      }
    });
  });
}
