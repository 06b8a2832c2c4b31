import { PerksError } from '../core/errors.js';
import { requireOutflow } from '../core/ledger/assets.js';
import { planBurnDown } from '../core/ledger/lots.js';
import { requireCustomer } from './customers.js';
import { type AssetRow, assetsById, requireAsset } from './ledger_assets.js';
import { insufficient } from './ledger_consumptions.js';
import { checkCurrency } from './ledger_grants.js';
import {
  lockAccounts,
  lockLedger,
  lotsById,
  Posting,
  restoredTemplate,
  reversedGrants,
} from './ledger_posting.js';
import type { Deps, Sql } from './ports.js';

export type PayoutStatus = 'pending' | 'paid' | 'rejected' | 'canceled';

export interface PayoutInput {
  customer: string;
  asset: string;
  amount: number;
  currency?: string | undefined;
  /** Where the customer asked the money to go (an account reference the customer gave). */
  destination: string;
  metadata?: Record<string, string> | undefined;
}

interface PayoutRow {
  workspace_id: string;
  id: string;
  customer_id: string;
  asset_id: string;
  account_id: string;
  amount: number;
  destination: string;
  status: PayoutStatus;
  pieces: { lot: string; amount: number }[];
  requested_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  reason: string | null;
  metadata: Record<string, string> | null;
}

function payoutView(r: PayoutRow, asset: AssetRow) {
  return {
    id: r.id,
    object: 'payout' as const,
    customer: r.customer_id,
    asset: asset.key,
    currency: asset.currency,
    amount: r.amount,
    destination: r.destination,
    status: r.status,
    lots: r.pieces,
    requested_at: r.requested_at.toISOString(),
    decided_at: r.decided_at?.toISOString() ?? null,
    decided_by: r.decided_by,
    reason: r.reason,
    metadata: r.metadata ?? {},
  };
}
export type PayoutView = ReturnType<typeof payoutView>;

/**
 * Requests a withdrawal of commission. In one transaction, under the account lock: the asset's
 * minimum is checked, then the available balance, then the amount is held (moved from the lots into
 * the payout_holds account, one entry per lot). Concurrent requests queue on the lock, so together
 * they can never hold more than the customer has.
 */
export async function requestPayout(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: PayoutInput,
): Promise<PayoutView> {
  const asset = await requireAsset(tx, workspaceId, input.asset);
  requireOutflow(asset, 'payout');
  checkCurrency(asset, input.currency);
  const minimum = asset.payout_minimum ?? 0;
  if (input.amount < minimum) {
    throw new PerksError(
      'payout_below_minimum',
      `the minimum payout for '${asset.key}' is ${minimum}; ${input.amount} was requested`,
      'amount',
      { minimum, requested: input.amount },
    );
  }
  const now = deps.clock.now();
  const id = deps.ids.id('po');
  const locked = await lockLedger(deps, tx, workspaceId, input.customer, [asset], {
    lots: true,
    param: 'customer',
  });
  const customer = { id: locked.customer_id };
  const [acc] = locked.accounts;
  const posting = new Posting(deps, workspaceId, now, id, null, locked.webhooks);
  if (acc) posting.expire(acc);
  const plan = planBurnDown(acc?.lots ?? [], input.amount, now.getTime());
  if (!acc || plan.shortfall > 0) throw insufficient(asset.key, input.amount, plan.taken);
  posting.take(acc, plan.takes, 'payout_holds', 'payout_hold');
  const row: PayoutRow = {
    workspace_id: workspaceId,
    id,
    customer_id: customer.id,
    asset_id: asset.id,
    account_id: acc.id,
    amount: input.amount,
    destination: input.destination,
    status: 'pending',
    pieces: plan.takes.map((t) => ({ lot: t.lot_id, amount: t.amount })),
    requested_at: now,
    decided_at: null,
    decided_by: null,
    reason: null,
    metadata: input.metadata ?? null,
  };
  const view = payoutView(row, asset);
  posting.emit('payout.requested', view);
  await posting.flush(tx);
  await tx.query(
    `insert into ledger_payouts (workspace_id, id, customer_id, asset_id, account_id, amount, destination, status,
       pieces, requested_at, metadata)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      workspaceId,
      row.id,
      row.customer_id,
      row.asset_id,
      row.account_id,
      row.amount,
      row.destination,
      row.status,
      JSON.stringify(row.pieces),
      row.requested_at,
      row.metadata,
    ],
  );
  return view;
}

async function lockPayout(tx: Sql, workspaceId: string, id: string) {
  const [row] = await tx.query<PayoutRow>(
    'select * from ledger_payouts where workspace_id = $1 and id = $2 for update',
    [workspaceId, id],
  );
  if (!row) throw new PerksError('resource_not_found', `no payout '${id}'`, 'id');
  const asset = (await assetsById(tx, workspaceId, [row.asset_id])).get(row.asset_id)!;
  return { row, asset };
}

/**
 * Moves a payout out of `pending`. Repeating the transition that already happened answers with the
 * payout as it is; any other transition from a decided payout is refused.
 */
function decided(row: PayoutRow, asset: AssetRow, target: PayoutStatus) {
  if (row.status === target) return payoutView(row, asset);
  throw new PerksError(
    'payout_not_pending',
    `payout '${row.id}' is already ${row.status}; only a pending payout can become ${target}`,
    'id',
    { status: row.status },
  );
}

/** Posts a held payout: the hold moves to the payouts account, and who approved it is recorded. */
export async function approvePayout(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  id: string,
  approvedBy: string,
) {
  const { row, asset } = await lockPayout(tx, workspaceId, id);
  if (row.status !== 'pending') return decided(row, asset, 'paid');
  const now = deps.clock.now();
  const {
    accounts: [acc],
    webhooks,
  } = await lockAccounts(deps, tx, workspaceId, row.customer_id, [asset]);
  const posting = new Posting(deps, workspaceId, now, row.id, null, webhooks);
  for (const piece of row.pieces) {
    posting.moveBetweenSystem(acc!, 'payout_holds', 'payouts', piece.amount, piece.lot, 'payout_post');
  }
  posting.emit(
    'payout.approved',
    payoutView({ ...row, status: 'paid', decided_at: now, decided_by: approvedBy }, asset),
  );
  await posting.flush(tx);
  const [updated] = await tx.query<PayoutRow>(
    `update ledger_payouts set status = 'paid', decided_at = $3, decided_by = $4
     where workspace_id = $1 and id = $2 and status = 'pending' returning *`,
    [workspaceId, row.id, now, approvedBy],
  );
  return payoutView(updated!, asset);
}

/**
 * Voids a held payout (rejected by an approver, or canceled): each held piece comes back as a new
 * lot of its grant with the original expiry, like credit from a voided invoice.
 */
export async function voidPayout(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  id: string,
  outcome: 'rejected' | 'canceled',
  decidedBy: string | null,
  reason: string | null,
) {
  const { row, asset } = await lockPayout(tx, workspaceId, id);
  if (row.status !== 'pending') return decided(row, asset, outcome);
  const now = deps.clock.now();
  const {
    accounts: [acc],
    webhooks,
  } = await lockAccounts(deps, tx, workspaceId, row.customer_id, [asset]);
  const originals = await lotsById(
    tx,
    workspaceId,
    row.pieces.map((p) => p.lot),
  );
  const reversed = await reversedGrants(
    tx,
    workspaceId,
    [...originals.values()].map((l) => l.grant_id),
  );
  const posting = new Posting(deps, workspaceId, now, row.id, null, webhooks);
  posting.expire(acc!);
  for (const piece of row.pieces) {
    const original = originals.get(piece.lot)!;
    posting.receive(acc!, piece.amount, restoredTemplate(original), 'payout_holds', 'payout_release', {
      grantReversed: reversed.has(original.grant_id),
    });
  }
  posting.expire(acc!);
  posting.emit(
    outcome === 'rejected' ? 'payout.rejected' : 'payout.canceled',
    payoutView({ ...row, status: outcome, decided_at: now, decided_by: decidedBy, reason }, asset),
  );
  await posting.flush(tx);
  const [updated] = await tx.query<PayoutRow>(
    `update ledger_payouts set status = $3, decided_at = $4, decided_by = $5, reason = $6
     where workspace_id = $1 and id = $2 and status = 'pending' returning *`,
    [workspaceId, row.id, outcome, now, decidedBy, reason],
  );
  return payoutView(updated!, asset);
}

export async function retrievePayout(sql: Sql, workspaceId: string, id: string) {
  const [row] = await sql.query<PayoutRow>(
    'select * from ledger_payouts where workspace_id = $1 and id = $2',
    [workspaceId, id],
  );
  if (!row) throw new PerksError('resource_not_found', `no payout '${id}'`, 'id');
  const asset = (await assetsById(sql, workspaceId, [row.asset_id])).get(row.asset_id)!;
  return payoutView(row, asset);
}

export async function listPayouts(
  sql: Sql,
  workspaceId: string,
  filter: {
    customer?: string | undefined;
    status?: PayoutStatus | undefined;
    limit: number;
    starting_after?: string | undefined;
  },
) {
  const customerId = filter.customer
    ? (await requireCustomer(sql, workspaceId, filter.customer, 'customer')).id
    : null;
  const rows = await sql.query<PayoutRow>(
    `select * from ledger_payouts where workspace_id = $1 and ($2::text is null or customer_id = $2)
       and ($3::text is null or status = $3) and ($4::text is null or id < $4)
     order by id desc limit $5`,
    [workspaceId, customerId, filter.status ?? null, filter.starting_after ?? null, filter.limit + 1],
  );
  const assets = await assetsById(
    sql,
    workspaceId,
    rows.map((r) => r.asset_id),
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, filter.limit).map((r) => payoutView(r, assets.get(r.asset_id)!)),
    has_more: rows.length > filter.limit,
  };
}
