import { PerksError } from '../core/errors.js';
import { requireOutflow } from '../core/ledger/assets.js';
import { planBurnDown } from '../core/ledger/lots.js';
import { requireAsset } from './ledger_assets.js';
import { type AccountState, lockLedger, Posting } from './ledger_posting.js';
import { oneAtATime } from './ledger_queue.js';
import type { Deps, Sql } from './ports.js';

export interface ConsumptionInput {
  asset: string;
  amount: number;
  /** Take what there is when the balance is short, instead of refusing. */
  partial?: boolean | undefined;
  reference?: string | undefined;
}

export interface TouchedLot {
  lot: string;
  grant: string;
  amount: number;
  remaining: number;
  expires_at: string | null;
}

export function touchedLots(
  acc: AccountState | undefined,
  takes: readonly { lot_id: string; amount: number }[],
) {
  return takes.map((t): TouchedLot => {
    const lot = acc?.lots.find((l) => l.id === t.lot_id);
    if (!lot) throw new Error(`lot ${t.lot_id} was not loaded`);
    return {
      lot: lot.id,
      grant: lot.grant_id,
      amount: t.amount,
      remaining: lot.remaining,
      expires_at: lot.expires_at_ms === null ? null : new Date(lot.expires_at_ms).toISOString(),
    };
  });
}

export function insufficient(asset: string, requested: number, available: number, param = 'amount') {
  return new PerksError(
    'insufficient_balance',
    `the customer has ${available} of '${asset}' available, less than the ${requested} requested; nothing was taken`,
    param,
    { available, requested },
  );
}

/**
 * Consumes an amount of a units or days asset (e.g. 30 minutes used), taking from the lots in
 * burn-down order with one entry per lot touched. Lots past their expiry are expired first. Without
 * `partial`, a short balance is refused with insufficient_balance and nothing changes.
 */
export async function consume(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: ConsumptionInput,
) {
  const asset = await requireAsset(tx, workspaceId, input.asset);
  requireOutflow(asset, 'consume');
  const now = deps.clock.now();
  const id = deps.ids.id('con');
  // One request per account at a time goes to the database lock (see ledger_queue.ts); the turn passes
  // on once the writes are sent, so the next request is already waiting on the row when this commits.
  const { customer, acc, plan } = await oneAtATime(`${workspaceId}/${customerRef}/${asset.id}`, async () => {
    const locked = await lockLedger(deps, tx, workspaceId, customerRef, [asset], { lots: true });
    const [acc] = locked.accounts;
    const posting = new Posting(deps, workspaceId, now, id, input.reference ?? null);
    if (acc) posting.expire(acc);
    const plan = planBurnDown(acc?.lots ?? [], input.amount, now.getTime());
    if (plan.shortfall > 0 && !input.partial) throw insufficient(asset.key, input.amount, plan.taken);
    if (acc) posting.take(acc, plan.takes, 'usage', 'consume');
    await posting.flush(tx);
    return { customer: { id: locked.customer_id }, acc, plan };
  });
  return {
    id,
    object: 'consumption' as const,
    customer: customer.id,
    asset: asset.key,
    requested: input.amount,
    consumed: plan.taken,
    partial: input.partial ?? false,
    reference: input.reference ?? null,
    lots: touchedLots(acc, plan.takes),
    available: acc?.balance ?? 0,
    created_at: now.toISOString(),
  };
}
export type ConsumptionView = Awaited<ReturnType<typeof consume>>;
