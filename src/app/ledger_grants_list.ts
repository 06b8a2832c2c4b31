import { assetsById, requireAsset } from './ledger_assets.js';
import { grantView } from './ledger_grants.js';
import type { LotRow } from './ledger_posting.js';
import { customerForRead } from './ledger_reads.js';
import type { Deps } from './ports.js';

/**
 * A customer's grants, newest first, optionally of one asset. A grant's `remaining` is what all its
 * lots hold now, credit given back to it included (a voided invoice, a rejected payout), so the list
 * reads like the balance it adds up to. Due expiries are applied first, as for every ledger read.
 */
export async function listCustomerGrants(
  deps: Deps,
  workspaceId: string,
  customerRef: string,
  page: { limit: number; starting_after?: string | undefined; asset?: string | undefined },
) {
  const customer = await customerForRead(deps, workspaceId, customerRef, deps.clock.now());
  const asset = page.asset === undefined ? null : await requireAsset(deps.db, workspaceId, page.asset);
  const rows = await deps.db.query<LotRow & { grant_remaining: number; reversed: boolean }>(
    `select l.*,
       (select coalesce(sum(x.remaining), 0) from ledger_lots x
         where x.workspace_id = l.workspace_id and x.grant_id = l.id)::bigint as grant_remaining,
       exists (select 1 from ledger_reversals r where r.workspace_id = l.workspace_id and r.grant_id = l.id)
         as reversed
     from ledger_lots l
     where l.workspace_id = $1 and l.customer_id = $2 and l.restored_from_lot_id is null
       and ($3::text is null or l.id < $3) and ($4::text is null or l.asset_id = $4)
     order by l.id desc limit $5`,
    [workspaceId, customer.id, page.starting_after ?? null, asset?.id ?? null, page.limit + 1],
  );
  const shown = rows.slice(0, page.limit);
  const assets = await assetsById(
    deps.db,
    workspaceId,
    shown.map((r) => r.asset_id),
  );
  return {
    object: 'list' as const,
    data: shown.map((r) =>
      grantView({ ...r, remaining: r.grant_remaining }, assets.get(r.asset_id)!, r.reversed),
    ),
    has_more: rows.length > page.limit,
  };
}
