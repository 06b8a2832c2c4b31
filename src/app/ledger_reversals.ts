import { PerksError } from '../core/errors.js';
import { planReversal } from '../core/ledger/reversal.js';
import { requireCustomer } from './customers.js';
import { assetsById } from './ledger_assets.js';
import { lockLedger, type LotRow, lotFromRow, Posting } from './ledger_posting.js';
import type { Deps, Sql } from './ports.js';

export interface ReversalInput {
  /** The grant: its id (lot_...) or the reference it was granted with. */
  grant: string;
  reason?: string | undefined;
  reference?: string | undefined;
}

interface ReversalRow {
  workspace_id: string;
  id: string;
  grant_id: string;
  customer_id: string;
  asset_id: string;
  negative_policy: 'allow_negative' | 'forgive';
  unspent: number;
  spent: number;
  taken_from_other_lots: number;
  debt_added: number;
  forgiven: number;
  lots: { lot: string; amount: number; part: 'unspent' | 'spent' }[];
  reason: string | null;
  reference: string | null;
  created_at: Date;
}

function reversalView(r: ReversalRow, assetKey: string) {
  return {
    id: r.id,
    object: 'reversal' as const,
    grant: r.grant_id,
    customer: r.customer_id,
    asset: assetKey,
    negative_policy: r.negative_policy,
    unspent_reversed: r.unspent,
    spent: r.spent,
    taken_from_other_lots: r.taken_from_other_lots,
    debt_added: r.debt_added,
    forgiven: r.forgiven,
    lots: r.lots,
    reason: r.reason,
    reference: r.reference,
    created_at: r.created_at.toISOString(),
  };
}
export type ReversalView = ReturnType<typeof reversalView>;

/**
 * Reverses a grant (e.g. the payment that earned it was refunded). The unspent part leaves at once;
 * the spent part follows the asset's policy: `allow_negative` takes it from the customer's other
 * lots and leaves the rest as debt, `forgive` lets the customer keep it. A grant is reversed at most
 * once: a repeat answers with the first reversal.
 */
export async function reverseGrant(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: ReversalInput,
): Promise<{ reversal: ReversalView; created: boolean }> {
  const customer = await requireCustomer(tx, workspaceId, customerRef, 'id');
  const [root] = await tx.query<LotRow>(
    `select * from ledger_lots where workspace_id = $1 and customer_id = $2 and grant_id = id
       and (id = $3 or reference = $3)
     order by (id = $3) desc limit 1`,
    [workspaceId, customer.id, input.grant],
  );
  if (!root) throw new PerksError('resource_not_found', `customer has no grant '${input.grant}'`, 'grant');
  const asset = (await assetsById(tx, workspaceId, [root.asset_id])).get(root.asset_id)!;
  const locked = await lockLedger(deps, tx, workspaceId, customer.id, [asset], { create: true, lots: true });
  const acc = locked.accounts[0]!;

  const [prior] = await tx.query<ReversalRow>(
    'select * from ledger_reversals where workspace_id = $1 and grant_id = $2',
    [workspaceId, root.id],
  );
  if (prior) return { reversal: reversalView(prior, asset.key), created: false };

  const now = deps.clock.now();
  const id = deps.ids.id('rev');
  const posting = new Posting(deps, workspaceId, now, id, input.reference ?? null, locked.webhooks);
  posting.expire(acc);
  // The grant's lots as they stand after expiry: open ones from the account, closed ones from the store.
  const closed = await tx.query<LotRow>(
    'select * from ledger_lots where workspace_id = $1 and grant_id = $2 and remaining = 0',
    [workspaceId, root.id],
  );
  const open = acc.lots.filter((l) => l.grant_id === root.id);
  const grantLots = [...open, ...closed.map(lotFromRow).filter((l) => !open.some((o) => o.id === l.id))];
  const plan = planReversal({
    granted: root.amount,
    grant_lots: grantLots,
    other_lots: acc.lots.filter((l) => l.grant_id !== root.id),
    policy: asset.negative_policy,
    now_ms: now.getTime(),
  });
  posting.take(acc, plan.unspent, 'clawback', 'reversal', { reversed: true });
  posting.take(acc, plan.from_other_lots, 'clawback', 'reversal');
  posting.addDebt(acc, plan.debt_added, 'clawback', 'reversal');
  await posting.flush(tx);
  const taken = plan.from_other_lots.reduce((s, t) => s + t.amount, 0);
  const [row] = await tx.query<ReversalRow>(
    `insert into ledger_reversals (workspace_id, id, grant_id, customer_id, asset_id, negative_policy, unspent, spent,
       taken_from_other_lots, debt_added, forgiven, lots, reason, reference, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) returning *`,
    [
      workspaceId,
      id,
      root.id,
      customer.id,
      asset.id,
      asset.negative_policy,
      plan.unspent_amount,
      plan.spent_amount,
      taken,
      plan.debt_added,
      plan.forgiven,
      JSON.stringify([
        ...plan.unspent.map((t) => ({ lot: t.lot_id, amount: t.amount, part: 'unspent' })),
        ...plan.from_other_lots.map((t) => ({ lot: t.lot_id, amount: t.amount, part: 'spent' })),
      ]),
      input.reason ?? null,
      input.reference ?? null,
      now,
    ],
  );
  return { reversal: reversalView(row!, asset.key), created: true };
}
