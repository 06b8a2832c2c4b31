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
import type { Deps } from './ports.js';

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

/** Throws GuessingBlockedError, with the seconds to wait, when either counter is over its limit. */
export function assertNotBlocked(facts: FailureFacts, now: Date): void {
  for (const scope of ['customer', 'ip'] as const satisfies FailureScope[]) {
    const limit = FAILURE_LIMITS[scope];
    const wait_ms = blockedFor(facts[scope], limit, now);
    if (wait_ms === undefined) continue;
    const retryAfter = Math.max(1, Math.ceil(wait_ms / 1000));
    throw new GuessingBlockedError(
      `too many failed code attempts for this ${scope === 'ip' ? 'client IP' : 'customer'}: at most ${limit.failures} per ${limit.window_ms / 60_000} minutes; retry after ${retryAfter} s`,
      retryAfter,
    );
  }
}

/**
 * Counts one failed attempt against the customer (when it exists) and the client IP, in one statement.
 * Runs after the request's transaction has rolled back, on its own, so the count survives the
 * rollback. Each counter starts a new window when its previous one is over.
 */
export async function recordFailure(
  deps: Deps,
  workspaceId: string,
  customerRef: string,
  ip: string | undefined,
): Promise<void> {
  const now = deps.clock.now();
  const windowStart = (scope: FailureScope) => new Date(now.getTime() - FAILURE_LIMITS[scope].window_ms);
  await deps.db.query(
    `insert into promotion_failures as f (workspace_id, scope, subject, failures, window_started_at)
     (select $1, 'customer', c.id, 1, $3::timestamptz from customers c
       where c.workspace_id = $1 and (c.id = $2 or c.external_id = $2) order by (c.id = $2) desc limit 1)
     union all
     select $1, 'ip', $4::text, 1, $3::timestamptz where $4::text is not null
     on conflict (workspace_id, scope, subject) do update set
       failures = case when f.window_started_at <= (case f.scope when 'customer' then $5 else $6 end)::timestamptz
         then 1 else f.failures + 1 end,
       window_started_at = case when f.window_started_at <= (case f.scope when 'customer' then $5 else $6 end)::timestamptz
         then excluded.window_started_at else f.window_started_at end`,
    [workspaceId, customerRef, now, ip ? ipSubject(ip) : null, windowStart('customer'), windowStart('ip')],
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
