import type { Db } from '../../src/app/ports.js';
import type { LedgerSnapshot, SnapshotLot } from '../../src/core/ledger/invariants.js';

/** Every ledger row of one workspace as one JSON text: equal texts mean byte-identical state. */
export async function workspaceDump(db: Db, workspaceId: string): Promise<string> {
  const tables = [
    'ledger_assets',
    'ledger_accounts',
    'ledger_lots',
    'ledger_entries',
    'ledger_settlements',
    'ledger_reversals',
    'ledger_payouts',
  ];
  const select = tables
    .map(
      (t) =>
        `(select coalesce(json_agg(x order by x.id), '[]'::json)::text from ${t} x where x.workspace_id = $1) as ${t}`,
    )
    .join(', ');
  const [row] = await db.query<Record<string, string>>(`select ${select}`, [workspaceId]);
  return tables.map((t) => row![t]).join('\n');
}

export interface StoreLot extends SnapshotLot {
  grant_id: string;
  customer_external_id: string;
  asset_key: string;
}

/** The workspace's ledger as the invariant check reads it, plus what the model comparison needs. */
export async function loadSnapshot(
  db: Db,
  workspaceId: string,
  now_ms: number,
): Promise<
  Omit<LedgerSnapshot, 'lots'> & {
    lots: StoreLot[];
    breakage: Record<string, number>;
    /** Asset ids by key. */
    asset_ids: Record<string, string>;
  }
> {
  // One round trip: the property tests take a snapshot after every step.
  const agg = (sql: string) => `(select coalesce(json_agg(x), '[]'::json) from (${sql}) x)`;
  const [row] = await db.query<{
    accounts: LedgerSnapshot['accounts'][number][];
    entries: LedgerSnapshot['entries'][number][];
    lots: (Omit<StoreLot, 'expires_at_ms'> & { expires_at: string | null })[];
    payouts: LedgerSnapshot['payouts'][number][];
    breakage: { key: string; total: number }[];
    assets: { key: string; id: string; negative_policy: 'allow_negative' | 'forgive' }[];
  }>(
    `select
       ${agg('select id, asset_id, kind, customer_id, balance, debt from ledger_accounts where workspace_id = $1')} as accounts,
       ${agg(`select id, asset_id, debit_account_id, credit_account_id, amount, kind, lot_id
              from ledger_entries where workspace_id = $1 order by id`)} as entries,
       ${agg(`select l.id, l.account_id, l.amount, l.remaining, l.debt_repaid, l.expired_amount, l.expires_at,
                l.grant_id, c.external_id as customer_external_id, s.key as asset_key
              from ledger_lots l
              join customers c on c.workspace_id = l.workspace_id and c.id = l.customer_id
              join ledger_assets s on s.workspace_id = l.workspace_id and s.id = l.asset_id
              where l.workspace_id = $1 order by l.id`)} as lots,
       ${agg('select id, account_id, amount, status from ledger_payouts where workspace_id = $1')} as payouts,
       ${agg(`select s.key, coalesce(sum(e.amount), 0) as total
              from ledger_accounts a join ledger_assets s on s.workspace_id = a.workspace_id and s.id = a.asset_id
              left join ledger_entries e on e.workspace_id = a.workspace_id and e.credit_account_id = a.id
              where a.workspace_id = $1 and a.kind = 'breakage' group by s.key`)} as breakage,
       ${agg('select key, id, negative_policy from ledger_assets where workspace_id = $1')} as assets`,
    [workspaceId],
  );
  const { accounts, entries, lots, payouts, breakage, assets } = row!;
  return {
    now_ms,
    accounts,
    entries,
    lots: lots.map(({ expires_at, ...l }) => ({
      ...l,
      expires_at_ms: expires_at === null ? null : Date.parse(expires_at),
    })),
    payouts,
    breakage: Object.fromEntries(breakage.map((b) => [b.key, b.total])),
    assets,
    asset_ids: Object.fromEntries(assets.map((a) => [a.key, a.id])),
  };
}
