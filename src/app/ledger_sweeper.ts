import { assetsById } from './ledger_assets.js';
import { lockAccounts, Posting } from './ledger_posting.js';
import { type Periodic, startPeriodic } from './periodic.js';
import type { Deps } from './ports.js';

/**
 * Expiry is applied lazily before every read and every consumption, which is all correctness needs.
 * The sweeper also writes due expiries in the background so that balances and statements are exact
 * at rest, even for customers nobody reads.
 */

interface Due {
  workspace_id: string;
  customer_id: string;
  asset_id: string;
}

/**
 * Expires what is due now on up to `limit` accounts, each in its own short transaction. An account
 * locked by a running operation is skipped: that operation applies the expiry itself. Returns the
 * number of lots expired.
 */
export async function sweepExpired(deps: Deps, limit = 500): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.db.query<Due>(
    `select distinct workspace_id, customer_id, asset_id from ledger_lots
     where remaining > 0 and expires_at <= $1 limit $2`,
    [now, limit],
  );
  let expired = 0;
  for (const d of due) {
    expired += await deps.db.transaction(async (tx) => {
      const locked = await tx.query<{ id: string }>(
        `select id from ledger_accounts where workspace_id = $1 and customer_id = $2 and asset_id = $3
           and kind = 'customer' for update skip locked`,
        [d.workspace_id, d.customer_id, d.asset_id],
      );
      if (locked.length === 0) return 0;
      const assets = await assetsById(tx, d.workspace_id, [d.asset_id]);
      // The row is already ours; locking it again in the same transaction returns at once.
      const { accounts, webhooks } = await lockAccounts(deps, tx, d.workspace_id, d.customer_id, [
        ...assets.values(),
      ]);
      const posting = new Posting(deps, d.workspace_id, now, deps.ids.id('exp'), null, webhooks);
      let lots = 0;
      for (const acc of accounts) {
        const before = acc.lots.filter((l) => l.remaining > 0).length;
        posting.expire(acc);
        lots += before - acc.lots.filter((l) => l.remaining > 0).length;
      }
      await posting.flush(tx);
      return lots;
    });
  }
  return expired;
}

export type Sweeper = Periodic;

/**
 * Runs sweepExpired every `interval_ms` (and again at once while a sweep fills its limit). Errors are
 * reported to `onError` and the loop carries on: a store that is briefly unreachable must not stop it.
 */
export function startSweeper(
  deps: Deps,
  interval_ms: number,
  onError: (err: unknown) => void = () => {},
  limit = 500,
): Sweeper {
  return startPeriodic(async () => (await sweepExpired(deps, limit)) >= limit, interval_ms, onError);
}
