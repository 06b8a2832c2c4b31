import { upcomingExpiries } from '../core/ledger/expiry.js';
import { PerksError } from '../core/errors.js';
import { type AssetRow, assetsById } from './ledger_assets.js';
import { lockAccounts, Posting } from './ledger_posting.js';
import type { Deps, Sql } from './ports.js';

/**
 * Reads apply due expiries first, so a balance or a statement never shows value that expired before
 * the moment it was read. When nothing is due (the common case, and always once the sweeper has run)
 * this costs one indexed query and writes nothing.
 */
export async function expireCustomer(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerId: string,
  now: Date,
) {
  const due = await tx.query<{ asset_id: string }>(
    `select distinct asset_id from ledger_lots where workspace_id = $1 and customer_id = $2 and remaining > 0
       and expires_at <= $3`,
    [workspaceId, customerId, now],
  );
  if (due.length === 0) return 0;
  const assets = await assetsById(
    tx,
    workspaceId,
    due.map((d) => d.asset_id),
  );
  const { accounts, webhooks } = await lockAccounts(deps, tx, workspaceId, customerId, [...assets.values()]);
  const posting = new Posting(deps, workspaceId, now, deps.ids.id('exp'), null, webhooks);
  let total = 0;
  for (const acc of accounts) total += posting.expire(acc);
  await posting.flush(tx);
  return total;
}

interface BalanceRow extends AssetRow {
  account_id: string;
  balance: number;
  debt: number;
  held: number;
  /** Open lots with an expiry: [{expires_at, remaining}]. */
  expiring: { expires_at: string; remaining: number }[];
}

function balanceView(r: BalanceRow, now_ms: number) {
  const lots = r.expiring.map((l, i) => ({
    id: String(i),
    remaining: l.remaining,
    expires_at_ms: Date.parse(l.expires_at),
    granted_at_ms: 0,
  }));
  return {
    object: 'balance' as const,
    asset: r.key,
    kind: r.kind,
    purpose: r.purpose,
    currency: r.currency,
    unit: r.unit,
    available: r.balance,
    held: r.held,
    debt: r.debt,
    expiring: upcomingExpiries(lots, now_ms, 3).map((e) => ({
      expires_at: new Date(e.expires_at_ms).toISOString(),
      amount: e.amount,
    })),
  };
}
export type BalanceView = ReturnType<typeof balanceView>;

/**
 * The customer's balances, one per asset it has an account for: available (the open lots, less any
 * debt), held (pending payouts) and the next three expiry instants with what expires at each.
 */
export async function customerBalances(deps: Deps, workspaceId: string, customerRef: string) {
  const now = deps.clock.now();
  const customer = await customerForRead(deps, workspaceId, customerRef, now);
  const rows = await deps.db.query<BalanceRow>(
    `select s.*, a.id as account_id, a.balance, a.debt,
       coalesce((select sum(p.amount) from ledger_payouts p where p.workspace_id = a.workspace_id
         and p.account_id = a.id and p.status = 'pending'), 0)::bigint as held,
       coalesce((select json_agg(json_build_object('expires_at', l.expires_at, 'remaining', l.remaining))
         from ledger_lots l where l.workspace_id = a.workspace_id and l.customer_id = a.customer_id
           and l.asset_id = a.asset_id and l.remaining > 0 and l.expires_at is not null), '[]'::json) as expiring
     from ledger_accounts a join ledger_assets s on s.workspace_id = a.workspace_id and s.id = a.asset_id
     where a.workspace_id = $1 and a.customer_id = $2 and a.kind = 'customer'
     order by a.id`,
    [workspaceId, customer.id],
  );
  return {
    object: 'list' as const,
    customer: customer.id,
    data: rows.map((r) => balanceView(r, now.getTime())),
    has_more: false,
  };
}

/**
 * Finds the customer for a read and applies what has expired by `now`. The common case (nothing
 * due) is one query and no transaction; the read that follows is a single statement, so it sees
 * one consistent state.
 */
export async function customerForRead(deps: Deps, workspaceId: string, customerRef: string, now: Date) {
  const [found] = await deps.db.query<{ id: string; due: boolean }>(
    `select c.id, exists (select 1 from ledger_lots l where l.workspace_id = c.workspace_id and l.customer_id = c.id
         and l.remaining > 0 and l.expires_at <= $3) as due
     from customers c where c.workspace_id = $1 and (c.id = $2 or c.external_id = $2)
     order by (c.id = $2) desc limit 1`,
    [workspaceId, customerRef, now],
  );
  if (!found) throw new PerksError('resource_not_found', `no customer '${customerRef}'`, 'id');
  if (found.due) await deps.db.transaction((tx) => expireCustomer(deps, tx, workspaceId, found.id, now));
  return found;
}

interface EntryRow {
  id: string;
  asset_key: string;
  kind: string;
  amount: number;
  debit_account_id: string;
  debit_kind: string;
  credit_account_id: string;
  credit_kind: string;
  lot_id: string | null;
  grant_id: string | null;
  source_type: string | null;
  source_id: string | null;
  actor: string | null;
  lot_reason: string | null;
  operation_id: string;
  reference: string | null;
  effective_at: Date;
  created_at: Date;
}

function entryView(e: EntryRow) {
  const change = e.credit_kind === 'customer' ? e.amount : e.debit_kind === 'customer' ? -e.amount : 0;
  return {
    id: e.id,
    object: 'ledger_entry' as const,
    asset: e.asset_key,
    type: e.kind,
    amount: e.amount,
    from: e.debit_kind,
    to: e.credit_kind,
    balance_change: change,
    lot: e.lot_id,
    grant: e.grant_id,
    source:
      e.source_type === null
        ? null
        : { type: e.source_type, id: e.source_id, actor: e.actor, reason: e.lot_reason },
    operation: e.operation_id,
    reference: e.reference,
    effective_at: e.effective_at.toISOString(),
    created_at: e.created_at.toISOString(),
  };
}
export type EntryView = ReturnType<typeof entryView>;

/**
 * The customer's statement: every entry that concerns it, newest first, each naming its source (the
 * grant's program, referral, event or manual actor) and the operation it belongs to.
 */
export async function customerLedger(
  deps: Deps,
  workspaceId: string,
  customerRef: string,
  page: { limit: number; starting_after?: string | undefined; asset?: string | undefined },
) {
  const customer = await customerForRead(deps, workspaceId, customerRef, deps.clock.now());
  const rows = await deps.db.query<EntryRow>(
    `select e.id, s.key as asset_key, e.kind, e.amount, e.debit_account_id, d.kind as debit_kind,
         e.credit_account_id, c.kind as credit_kind, e.lot_id, l.grant_id, l.source_type, l.source_id, l.actor,
         l.reason as lot_reason, e.operation_id, e.reference, e.effective_at, e.created_at
       from ledger_entries e
       join ledger_assets s on s.workspace_id = e.workspace_id and s.id = e.asset_id
       join ledger_accounts d on d.workspace_id = e.workspace_id and d.id = e.debit_account_id
       join ledger_accounts c on c.workspace_id = e.workspace_id and c.id = e.credit_account_id
       left join ledger_lots l on l.workspace_id = e.workspace_id and l.id = e.lot_id
       where e.workspace_id = $1 and e.customer_id = $2 and ($3::text is null or e.id < $3)
         and ($4::text is null or s.key = $4)
       order by e.id desc limit $5`,
    [workspaceId, customer.id, page.starting_after ?? null, page.asset ?? null, page.limit + 1],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map(entryView),
    has_more: rows.length > page.limit,
  };
}
