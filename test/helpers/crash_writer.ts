/**
 * A child process for test/crash.test.ts. Modes:
 *
 *   write pglite <dir> | write postgres <url>
 *     Opens the store, makes a workspace, then commits forever: transaction n stores two events
 *     (customer.created crash_n and card.attached for it) through the real use case, and only after
 *     the commit prints "committed <n + 1>". The parent kills it with SIGKILL at some point.
 *
 *   hold <dir>
 *     Opens the embedded store in <dir>, prints "holding <pid>" and waits, keeping the data folder
 *     locked until it is killed.
 */
import { openPglite, openPostgres } from '../../src/adapters/db/db.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import { systemClock, systemIds } from '../../src/adapters/system.js';
import { ingestEvents } from '../../src/app/events.js';
import type { Db, Deps } from '../../src/app/ports.js';
import { createWorkspace } from '../../src/app/workspaces.js';

const [mode, kind, target] = process.argv.slice(2);

if (mode === 'hold') {
  await openPglite({ dataDir: kind!, command: 'crash_writer hold' });
  process.stdout.write(`holding ${process.pid}\n`);
  setInterval(() => {}, 1 << 30);
} else if (mode === 'write') {
  const db: Db =
    kind === 'pglite'
      ? await openPglite({ dataDir: target!, command: 'crash_writer write' })
      : await openPostgres(target!, 2);
  await migrate(db);
  const deps: Deps = { db, clock: systemClock, ids: systemIds() };
  const { workspace } = await createWorkspace(deps, 'crash');
  process.stdout.write(`workspace ${workspace.id}\n`);
  for (let n = 0; ; n++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n % 60));
    await db.transaction((tx) =>
      ingestEvents(deps, tx, workspace.id, 'api', [
        {
          id: `evt_${n}_a`,
          type: 'customer.created',
          occurred_at: at,
          data: { customer: { external_id: `crash_${n}` } },
        },
        {
          id: `evt_${n}_b`,
          type: 'card.attached',
          occurred_at: at,
          data: {
            customer: `crash_${n}`,
            payment_method: { fingerprint: `fp_${n}` },
          },
        },
      ]),
    );
    // Written to a pipe, which is synchronous on Linux: once printed, the parent has seen it.
    process.stdout.write(`committed ${n + 1}\n`);
  }
} else {
  process.stderr.write('usage: crash_writer.ts write pglite <dir> | write postgres <url> | hold <dir>\n');
  process.exit(2);
}
