import { FAILURE_LIMITS, type FailureScope } from '../core/promo/guessing.js';
import { Grouping } from './grouping.js';
import type { Deps, Sql } from './ports.js';

/**
 * Writing accepted redemptions. A redemption's write is one statement (promo_redeem), which raises
 * when a limit taken by a concurrent redemption refuses it (SQLSTATE PRX01 to PRX04, and PRX07 when
 * the subscription's slot already holds the promotion).
 *
 * Without a caller's transaction, writes are also grouped: while a workspace's write is in flight
 * (MAX_IN_FLIGHT), the redemptions accepted meanwhile wait, and go together in the next statement
 * (promo_redeem_many), one commit for all of them. A popular code's row is then locked once per group
 * instead of once per redemption, and a busy server sends one statement where it would send many. A
 * group is all or nothing: when any of its redemptions is refused (or the group fails for any
 * reason), each is written again on its own (grouping.ts), so every request gets the answer it would
 * have had alone.
 */

/** What promo_redeem takes for one redemption. */
export interface RedemptionWrite {
  workspace_id: string;
  promotion_id: string;
  customer_id: string;
  max_per_customer: number;
  slot_key: string;
  /** 1 when the promotion is not stackable: it needs the slot to itself. */
  exclusive: 0 | 1;
  promotion_code_id: string;
  id: string;
  code: string;
  subscription_id: string | null;
  stackable: boolean;
  periods_total: number | null;
  applies_from: Date | null;
  metadata: Record<string, string>;
  redeemed_at: Date;
  /** Whether the customer has a failure count that this success ends. */
  clear_failures: boolean;
  /** The client IP's digest its guessing count is kept under, if the request came with one. */
  ip_subject: string | null;
}

/** What else commits with a redemption, e.g. its webhook; run in the write's transaction. */
export type WithWrite = (tx: Sql) => Promise<unknown>;

/** Redemptions written in one statement at most; more wait for the next one. */
export const MAX_GROUP = 64;

/**
 * The guessing limits, checked in the statement that writes (promo_assert_guessing): the facts a
 * redemption was decided on were read before the failures of concurrent attempts were counted, so a
 * redemption whose customer or client IP is past its limit by now is refused (SQLSTATE PRX06).
 */
function guessingArgs(writes: readonly RedemptionWrite[]) {
  const now = writes[0]!.redeemed_at;
  const since = (scope: FailureScope) => new Date(now.getTime() - FAILURE_LIMITS[scope].window_ms);
  return [
    writes.map((w) => w.customer_id),
    writes.flatMap((w) => (w.ip_subject === null ? [] : [w.ip_subject])),
    FAILURE_LIMITS.customer.failures,
    since('customer'),
    FAILURE_LIMITS.ip.failures,
    since('ip'),
  ];
}

/** Writes one redemption in the caller's transaction (or, given the store, as a transaction of its own). */
export async function takeRedemption(sql: Sql, w: RedemptionWrite): Promise<void> {
  await sql.query(
    `select promo_assert_guessing($1, $17, $18, $19, $20, $21, $22),
       promo_redeem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      w.workspace_id,
      w.promotion_id,
      w.customer_id,
      w.max_per_customer,
      w.slot_key,
      w.exclusive,
      w.promotion_code_id,
      w.id,
      w.code,
      w.subscription_id,
      w.stackable,
      w.periods_total,
      w.applies_from,
      JSON.stringify(w.metadata),
      w.redeemed_at,
      w.clear_failures,
      ...guessingArgs([w]),
    ],
  );
}

interface Write {
  deps: Deps;
  write: RedemptionWrite;
  withWrite: WithWrite | undefined;
}

/**
 * Writes in flight at once per workspace; further redemptions wait for it to finish. One: on the
 * benchmark's two cores, letting two, four or eight statements of a workspace run at once only made
 * them contend for the processors and the WAL, and raised the latency at every percentile
 * (docs/benchmarks.md). The price is that a write held up, e.g. by a lock of a caller's transaction,
 * holds up the workspace's redemptions behind it until it ends.
 */
export const MAX_IN_FLIGHT = 1;

const groups = new Grouping<Write, void>(
  { maxInFlight: MAX_IN_FLIGHT, maxGroup: MAX_GROUP },
  { one: writeAlone, many: writeGroup },
);

/**
 * Writes a redemption, and `withWrite` in the same transaction, outside any transaction of the
 * caller's, grouped with the redemptions of the same workspace accepted meanwhile (those that need a
 * transaction apart from those that do not). Rejects with the database's error when a limit refuses it.
 */
export function writeRedemption(deps: Deps, write: RedemptionWrite, withWrite?: WithWrite): Promise<void> {
  const key = `${withWrite ? 'tx' : 'one'} ${write.workspace_id}`;
  return groups.submit(deps.db, key, { deps, write, withWrite });
}

/** Writes several redemptions in one statement (one transaction); throws, keeping none, if any is refused. */
async function writeGroup(group: Write[]): Promise<void[]> {
  const { deps } = group[0]!;
  // The commit takes each code's counter (and its promotion's) in insertion order: sorted, every group
  // takes them in one global order, as a single redemption does.
  const sorted = [...group].sort(
    (a, b) =>
      compare(a.write.promotion_id, b.write.promotion_id) ||
      compare(a.write.promotion_code_id, b.write.promotion_code_id),
  );
  const writes = sorted.map((w) => w.write);
  const statement = `select promo_assert_guessing($2, $3, $4, $5, $6, $7, $8), promo_redeem_many($1::jsonb)`;
  const params = [JSON.stringify(writes), writes[0]!.workspace_id, ...guessingArgs(writes)];
  if (sorted.some((w) => w.withWrite)) {
    await deps.db.transaction(async (tx) => {
      await tx.query(statement, params);
      for (const w of sorted) await w.withWrite?.(tx);
    });
  } else {
    await deps.db.query(statement, params);
  }
  return group.map(() => undefined);
}

function writeAlone({ deps, write, withWrite }: Write): Promise<void> {
  if (!withWrite) return takeRedemption(deps.db, write);
  return deps.db.transaction(async (tx) => {
    await takeRedemption(tx, write);
    await withWrite(tx);
  });
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
