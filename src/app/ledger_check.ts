import { checkInvariants, type LedgerSnapshot } from '../core/ledger/invariants.js';
import { PerksError } from '../core/errors.js';
import type { Deps, Sql } from './ports.js';

/**
 * Checking a live store against the ledger's invariants (`perks ledger check`): the same pure check
 * the property tests run after every step (src/core/ledger/invariants.ts), over each workspace's
 * ledger read in one statement (one consistent snapshot), and whether the database still refuses to
 * change ledger entries.
 */

/** A workspace's ledger as the invariant check reads it, in one statement. */
export async function ledgerSnapshot(sql: Sql, workspaceId: string, now_ms: number): Promise<LedgerSnapshot> {
  const agg = (select: string) => `(select coalesce(json_agg(x), '[]'::json) from (${select}) x)`;
  const [row] = await sql.query<{
    accounts: LedgerSnapshot['accounts'][number][];
    entries: LedgerSnapshot['entries'][number][];
    lots: (Omit<LedgerSnapshot['lots'][number], 'expires_at_ms'> & { expires_at: string | null })[];
    payouts: LedgerSnapshot['payouts'][number][];
    assets: NonNullable<LedgerSnapshot['assets']>[number][];
  }>(
    `select
       ${agg('select id, asset_id, kind, customer_id, balance, debt from ledger_accounts where workspace_id = $1')} as accounts,
       ${agg(`select id, asset_id, debit_account_id, credit_account_id, amount, kind, lot_id
              from ledger_entries where workspace_id = $1`)} as entries,
       ${agg(`select id, account_id, amount, remaining, debt_repaid, expired_amount, expires_at
              from ledger_lots where workspace_id = $1`)} as lots,
       ${agg('select id, account_id, amount, status from ledger_payouts where workspace_id = $1')} as payouts,
       ${agg('select id, key, negative_policy from ledger_assets where workspace_id = $1')} as assets`,
    [workspaceId],
  );
  const { accounts, entries, lots, payouts, assets } = row!;
  return {
    now_ms,
    accounts,
    entries,
    lots: lots.map(({ expires_at, ...l }) => ({
      ...l,
      expires_at_ms: expires_at === null ? null : Date.parse(expires_at),
    })),
    payouts,
    assets,
  };
}

/** The triggers that make ledger_entries append-only, and what is wrong with them, if anything. */
export async function appendOnlyProblems(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ tgname: string; tgenabled: string }>(
    `select tgname, tgenabled from pg_trigger
     where tgrelid = 'ledger_entries'::regclass and not tgisinternal`,
  );
  const problems: string[] = [];
  for (const name of ['ledger_entries_no_update_or_delete', 'ledger_entries_no_truncate']) {
    const trigger = rows.find((r) => r.tgname === name);
    if (!trigger) problems.push(`ledger_entries: the trigger ${name} is missing, so entries can be changed`);
    // 'D' is disabled; 'O' (origin), 'A' (always) and 'R' (replica) fire.
    else if (trigger.tgenabled === 'D') problems.push(`ledger_entries: the trigger ${name} is disabled`);
  }
  return problems;
}

export interface WorkspaceCheck {
  workspace: string;
  accounts: number;
  entries: number;
  lots: number;
  /** Open lots past their expiry that no read, operation or sweep has expired yet (not a fault). */
  expiry_due: number;
  problems: string[];
}

export interface LedgerCheck {
  ok: boolean;
  append_only: string[];
  workspaces: WorkspaceCheck[];
}

/** Checks one workspace, or every workspace of the store. */
export async function checkLedger(deps: Deps, workspaceId?: string): Promise<LedgerCheck> {
  const now_ms = deps.clock.now().getTime();
  const workspaces = await deps.db.query<{ workspace_id: string }>(
    'select workspace_id from workspaces where ($1::text is null or workspace_id = $1) order by workspace_id',
    [workspaceId ?? null],
  );
  if (workspaceId !== undefined && workspaces.length === 0) {
    throw new PerksError('resource_not_found', `no workspace '${workspaceId}'`, 'workspace');
  }
  const out: WorkspaceCheck[] = [];
  for (const { workspace_id } of workspaces) {
    const snapshot = await ledgerSnapshot(deps.db, workspace_id, now_ms);
    out.push({
      workspace: workspace_id,
      accounts: snapshot.accounts.length,
      entries: snapshot.entries.length,
      lots: snapshot.lots.length,
      expiry_due: snapshot.lots.filter(
        (l) => l.remaining > 0 && l.expires_at_ms !== null && l.expires_at_ms <= now_ms,
      ).length,
      // Expiry is applied lazily, so a due lot that still holds value is not a fault here.
      problems: checkInvariants(snapshot, { expiredSwept: false }),
    });
  }
  const appendOnly = await appendOnlyProblems(deps.db);
  return {
    ok: appendOnly.length === 0 && out.every((w) => w.problems.length === 0),
    append_only: appendOnly,
    workspaces: out,
  };
}
