import { PerksError } from '../core/errors.js';
import { requireOutflow } from '../core/ledger/assets.js';
import { planBurnDown } from '../core/ledger/lots.js';
import { requireAsset } from './ledger_assets.js';
import { decideOnKnownState, NeedsTransaction } from './ledger_known.js';
import { type AccountState, Posting } from './ledger_posting.js';
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
 *
 * It is decided on the account's known state and written in one call that holds only if the account
 * is still in that state (see ledger_known.ts); inside the transaction `tx`, the first such call
 * keeps the account locked, so a second attempt always holds.
 */
export function consume(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: ConsumptionInput,
): Promise<ConsumptionView> {
  return consumeOn(deps, tx, workspaceId, customerRef, input, { attempts: 3, standalone: false });
}

/**
 * A consumption with no transaction of the caller's (an API request without an Idempotency-Key has
 * no response to store with it): usually one call to the database. Should the account keep changing
 * under it (writers in other processes), it runs in a transaction, where the lock settles it.
 */
export async function consumeStandalone(
  deps: Deps,
  workspaceId: string,
  customerRef: string,
  input: ConsumptionInput,
): Promise<ConsumptionView> {
  try {
    return await consumeOn(deps, deps.db, workspaceId, customerRef, input, { attempts: 2, standalone: true });
  } catch (err) {
    if (!(err instanceof NeedsTransaction)) throw err;
    return deps.db.transaction((tx) => consume(deps, tx, workspaceId, customerRef, input));
  }
}

async function consumeOn(
  deps: Deps,
  sql: Sql,
  workspaceId: string,
  customerRef: string,
  input: ConsumptionInput,
  options: { attempts: number; standalone: boolean },
) {
  const asset = await requireAsset(sql, workspaceId, input.asset);
  requireOutflow(asset, 'consume');
  const now = deps.clock.now();
  const id = deps.ids.id('con');
  return decideOnKnownState(
    deps,
    sql,
    workspaceId,
    { customerRef, assets: [asset] },
    (locked) => {
      const [acc] = locked.accounts;
      const posting = new Posting(deps, workspaceId, now, id, input.reference ?? null, locked.webhooks);
      if (acc) posting.expire(acc);
      const plan = planBurnDown(acc?.lots ?? [], input.amount, now.getTime());
      if (plan.shortfall > 0 && !input.partial) {
        return { posting, refusal: insufficient(asset.key, input.amount, plan.taken) };
      }
      if (acc) posting.take(acc, plan.takes, 'usage', 'consume');
      return {
        posting,
        answer: () => ({
          id,
          object: 'consumption' as const,
          customer: locked.customer_id,
          asset: asset.key,
          requested: input.amount,
          consumed: plan.taken,
          partial: input.partial ?? false,
          reference: input.reference ?? null,
          lots: touchedLots(acc, plan.takes),
          available: acc?.balance ?? 0,
          created_at: now.toISOString(),
        }),
      };
    },
    options,
  );
}

export interface ConsumptionView {
  id: string;
  object: 'consumption';
  customer: string;
  asset: string;
  requested: number;
  consumed: number;
  partial: boolean;
  reference: string | null;
  lots: TouchedLot[];
  available: number;
  created_at: string;
}
