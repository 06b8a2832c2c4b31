import { createHash } from 'node:crypto';
import { PerksError } from '../core/errors.js';
import {
  blockedFor,
  FAILURE_LIMITS,
  type FailureCount,
  type FailureScope,
  ipNetwork,
} from '../core/promo/guessing.js';
import { type Periodic, startPeriodic } from './periodic.js';
import type { Deps, Sql } from './ports.js';

/**
 * Counters of failed validate/redeem attempts, kept in the database so every server process shares
 * them (the embedded store has one process anyway). IP addresses are stored as sha256 digests only.
 */

/** The digest failures of an address count under: its network's (see ipNetwork). */
export function ipSubject(ip: string): string {
  let network: string;
  try {
    network = ipNetwork(ip);
  } catch {
    // Not an address (the caller's, as the server saw it, is always one): counted as written.
    network = ip.trim().toLowerCase();
  }
  return createHash('sha256').update(network).digest('hex');
}

export interface FailureFacts {
  customer: FailureCount | null;
  ip: FailureCount | null;
}

/**
 * Attempts refused by the guessing limits. Deliberately not a PerksError: a request refused for a
 * while must not have its answer stored under its Idempotency-Key (the same request is welcome once
 * the window is over), so the transaction wrapper releases the key and the route turns this into the
 * 429 answer with `toPerksError`.
 */
export class GuessingBlockedError extends Error {
  override readonly name = 'GuessingBlockedError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }

  toPerksError(): PerksError {
    return new PerksError('rate_limited', this.message, undefined, {
      retry_after_seconds: this.retryAfterSeconds,
    });
  }
}

/** The refusal, with the seconds to wait, when either counter is at its limit; else undefined. */
export function blockedError(facts: FailureFacts, now: Date): GuessingBlockedError | undefined {
  for (const scope of ['customer', 'ip'] as const satisfies FailureScope[]) {
    const limit = FAILURE_LIMITS[scope];
    const wait_ms = blockedFor(facts[scope], limit, now);
    if (wait_ms === undefined) continue;
    const retryAfter = Math.max(1, Math.ceil(wait_ms / 1000));
    return new GuessingBlockedError(
      `too many failed code attempts for this ${scope === 'ip' ? 'client IP' : 'customer'}: at most ${limit.failures} per ${limit.window_ms / 60_000} minutes; retry after ${retryAfter} s`,
      retryAfter,
    );
  }
  return undefined;
}

/** Throws GuessingBlockedError, with the seconds to wait, when either counter is at its limit. */
export function assertNotBlocked(facts: FailureFacts, now: Date): void {
  const blocked = blockedError(facts, now);
  if (blocked) throw blocked;
}

interface CounterRow {
  scope: FailureScope;
  failures: number;
  window_started_at: Date;
}

/** The refusal for counters as rows, each less `own` failures (the attempt's own, when counted). */
function blockedByRows(rows: readonly CounterRow[], now: Date, own = 0): GuessingBlockedError | undefined {
  const facts: FailureFacts = { customer: null, ip: null };
  for (const r of rows)
    facts[r.scope] = { failures: r.failures - own, window_started_at: r.window_started_at };
  return blockedError(facts, now);
}

/**
 * Counts one failed attempt against the customer (when it exists) and the client IP, in one statement,
 * and answers whether the attempt was within the limits. Concurrent attempts read the counts before
 * any of them is counted, so they all pass the check made with their facts; this one is made by the
 * count itself: an attempt that finds a counter already at its limit gets the refusal returned here
 * (answered 429 in place of its failure). Each counter starts a new window when its previous one is
 * over. Run after a redemption's transaction has rolled back, on its own, so the count survives the
 * rollback; or in the transaction that stores a validation's answer, so a refusal stores nothing.
 */
export async function recordFailure(
  deps: Deps,
  sql: Sql,
  workspaceId: string,
  customerRef: string,
  ip: string | undefined,
): Promise<GuessingBlockedError | undefined> {
  const now = deps.clock.now();
  const windowStart = (scope: FailureScope) => new Date(now.getTime() - FAILURE_LIMITS[scope].window_ms);
  const rows = await sql.query<CounterRow>(
    `insert into promotion_failures as f (workspace_id, scope, subject, failures, window_started_at)
     (select $1, 'customer', c.id, 1, $3::timestamptz from customers c
       where c.workspace_id = $1 and (c.id = $2 or c.external_id = $2) order by (c.id = $2) desc limit 1)
     union all
     select $1, 'ip', $4::text, 1, $3::timestamptz where $4::text is not null
     on conflict (workspace_id, scope, subject) do update set
       failures = case when f.window_started_at <= (case f.scope when 'customer' then $5 else $6 end)::timestamptz
         then 1 else f.failures + 1 end,
       window_started_at = case when f.window_started_at <= (case f.scope when 'customer' then $5 else $6 end)::timestamptz
         then excluded.window_started_at else f.window_started_at end
     returning f.scope, f.failures, f.window_started_at`,
    [workspaceId, customerRef, now, ip ? ipSubject(ip) : null, windowStart('customer'), windowStart('ip')],
  );
  // The counts as this attempt found them, before its own failure.
  return blockedByRows(rows, now, 1);
}

/**
 * The guessing counters as they are now, for a success about to be answered: the facts it was decided
 * on were read before the failures of concurrent attempts were counted.
 */
export async function currentBlock(
  deps: Deps,
  sql: Sql,
  workspaceId: string,
  customerId: string,
  ipSubjectDigest: string | null,
): Promise<GuessingBlockedError | undefined> {
  const rows = await sql.query<CounterRow>(
    `select scope, failures, window_started_at from promotion_failures
     where workspace_id = $1 and ((scope = 'customer' and subject = $2) or (scope = 'ip' and subject = $3))`,
    [workspaceId, customerId, ipSubjectDigest],
  );
  return blockedByRows(rows, deps.clock.now());
}

/**
 * The refusal for a write that promo_assert_guessing refused (SQLSTATE PRX06, whose detail is the
 * counter's scope and its window's start in epoch milliseconds), or undefined for any other failure.
 */
export function guessingWriteError(err: unknown, now: Date): GuessingBlockedError | undefined {
  const e = err as { code?: unknown; detail?: unknown } | null;
  if (e?.code !== 'PRX06') return undefined;
  const [scope, started] = String(e.detail).split(' ');
  const rows: CounterRow[] =
    scope === 'customer' || scope === 'ip'
      ? [{ scope, failures: FAILURE_LIMITS[scope].failures, window_started_at: new Date(Number(started)) }]
      : [];
  // The window may have ended since the statement ran: a second's wait then.
  return (
    blockedByRows(rows, now) ?? new GuessingBlockedError('too many failed code attempts; retry after 1 s', 1)
  );
}

/**
 * Deletes counters whose window is over: they no longer limit anything (the next failure starts a new
 * window). Keeps the table the size of the last hour's failures. Returns how many were deleted.
 */
export async function pruneFailureCounters(deps: Deps): Promise<number> {
  const longest = Math.max(...Object.values(FAILURE_LIMITS).map((l) => l.window_ms));
  const before = new Date(deps.clock.now().getTime() - longest);
  const rows = await deps.db.query(
    'delete from promotion_failures where window_started_at <= $1 returning 1',
    [before],
  );
  return rows.length;
}

/** How often a server deletes the counters whose window is over. */
export const FAILURE_PRUNE_INTERVAL_MS = 10 * 60_000;

/** Runs pruneFailureCounters every `interval_ms`, first at once; see startPeriodic. */
export function startFailurePruner(
  deps: Deps,
  interval_ms = FAILURE_PRUNE_INTERVAL_MS,
  onError?: (err: unknown) => void,
): Periodic {
  return startPeriodic(
    async () => {
      await pruneFailureCounters(deps);
      return false;
    },
    interval_ms,
    onError,
  );
}
