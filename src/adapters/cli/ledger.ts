import { type Command, InvalidArgumentError } from 'commander';
import { checkLedger, type LedgerCheck } from '../../app/ledger_check.js';
import { sweepExpired } from '../../app/ledger_sweeper.js';
import type { Deps } from '../../app/ports.js';
import { loadConfig } from '../../config.js';
import { makeDeps, openStore } from '../../main.js';
import { migrate } from '../db/migrate.js';

/**
 * `perks ledger ...`: operator commands for the credits ledger on the configured store.
 *
 * - `sweep` writes every expiry that is due now (what the server's background sweeper does every 30
 *   seconds) and prints how many lots it expired.
 * - `check` runs the ledger's invariants over each workspace (or one) and exits with status 1 when
 *   any is broken, listing every violation.
 */

const workspaceOption = (value: string) => {
  if (!/^ws_[0-9a-z]{26}$/.test(value))
    throw new InvalidArgumentError('expected a workspace id like ws_01...');
  return value;
};

/** The most accounts one sweep pass takes; passes repeat until one finds nothing to expire. */
const MAX_SWEEP_LIMIT = 10_000;

const sweepLimit = (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SWEEP_LIMIT) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_SWEEP_LIMIT}`);
  }
  return n;
};

async function withDeps<T>(command: string, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const db = await openStore(loadConfig(), `perks ${command}`);
  try {
    await migrate(db);
    return await fn(makeDeps(db));
  } finally {
    await db.close();
  }
}

/** Writes due expiries pass after pass until a pass finds nothing; answers the lots expired. */
export async function sweepAll(deps: Deps, limit: number): Promise<{ expired_lots: number; passes: number }> {
  let expired = 0;
  let passes = 0;
  for (;;) {
    passes++;
    const n = await sweepExpired(deps, limit);
    expired += n;
    // An account held by a running operation is skipped (that operation expires it itself), so a
    // pass can find due lots and expire none of them; stopping then never loops on them.
    if (n === 0) return { expired_lots: expired, passes };
  }
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function describeCheck(result: LedgerCheck): string[] {
  const lines: string[] = [];
  for (const w of result.workspaces) {
    const size = [
      count(w.accounts, 'account', 'accounts'),
      count(w.entries, 'entry', 'entries'),
      count(w.lots, 'lot', 'lots'),
    ].join(', ');
    const due =
      w.expiry_due > 0
        ? `; ${count(w.expiry_due, 'lot', 'lots')} due for expiry (perks ledger sweep writes them)`
        : '';
    if (w.problems.length === 0) lines.push(`${w.workspace}: ok (${size}${due})`);
    else {
      lines.push(`${w.workspace}: ${count(w.problems.length, 'problem', 'problems')} (${size}${due})`);
      for (const p of w.problems) lines.push(`  ${p}`);
    }
  }
  if (result.workspaces.length === 0) lines.push('(no workspaces)');
  if (result.append_only.length === 0)
    lines.push('ledger_entries: append-only (UPDATE, DELETE and TRUNCATE refused)');
  else for (const p of result.append_only) lines.push(p);
  return lines;
}

export function registerLedgerCommands(program: Command): void {
  const ledger = program
    .command('ledger')
    .description('Credits ledger: write due expiries, check invariants');

  ledger
    .command('sweep')
    .description('Write every expiry that is due now and print how many lots expired')
    .option('--limit <n>', `accounts per pass, 1 to ${MAX_SWEEP_LIMIT} (default 500)`, sweepLimit)
    .option('--json', 'print JSON')
    .action(async (opts: { limit?: number; json?: boolean }) => {
      await withDeps('ledger sweep', async (deps) => {
        const result = await sweepAll(deps, opts.limit ?? 500);
        console.log(
          opts.json
            ? JSON.stringify(result, null, 2)
            : `Expired ${count(result.expired_lots, 'lot', 'lots')}.`,
        );
      });
    });

  ledger
    .command('check')
    .description(
      'Check the ledger invariants (every asset sums to zero, lots within their amount and adding up ' +
        'to balances, debt only where the asset allows it, entries append-only); exit status 1 if broken',
    )
    .option('--workspace <id>', 'check one workspace (default: every workspace)', workspaceOption)
    .option('--json', 'print JSON')
    .action(async (opts: { workspace?: string; json?: boolean }) => {
      await withDeps('ledger check', async (deps) => {
        const result = await checkLedger(deps, opts.workspace);
        console.log(opts.json ? JSON.stringify(result, null, 2) : describeCheck(result).join('\n'));
        if (!result.ok) {
          const found =
            result.append_only.length + result.workspaces.reduce((n, w) => n + w.problems.length, 0);
          console.error(`perks: the ledger check found ${count(found, 'problem', 'problems')}`);
          process.exitCode = 1;
        }
      });
    });
}
