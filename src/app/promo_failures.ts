import { createHash } from 'node:crypto';
import { PerksError } from '../core/errors.js';
import { blockedFor, FAILURE_LIMITS, type FailureCount, type FailureScope } from '../core/promo/guessing.js';
import { findCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';

/**
 * Counters of failed validate/redeem attempts, kept in the database so every server process shares
 * them (the embedded store has one process anyway). IP addresses are stored as sha256 digests only.
 */

export function ipSubject(ip: string): string {
  return createHash('sha256').update(ip.trim().toLowerCase()).digest('hex');
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

async function bump(sql: Sql, workspaceId: string, scope: FailureScope, subject: string, now: Date) {
  const windowStart = new Date(now.getTime() - FAILURE_LIMITS[scope].window_ms);
  await sql.query(
    `insert into promotion_failures (workspace_id, scope, subject, failures, window_started_at)
     values ($1, $2, $3, 1, $4)
     on conflict (workspace_id, scope, subject) do update set
       failures = case when promotion_failures.window_started_at <= $5 then 1 else promotion_failures.failures + 1 end,
       window_started_at = case when promotion_failures.window_started_at <= $5 then $4
         else promotion_failures.window_started_at end`,
    [workspaceId, scope, subject, now, windowStart],
  );
}

/**
 * Counts one failed attempt against the customer (when it exists) and the client IP. Runs after the
 * request's transaction has rolled back, as statements of its own, so the count survives the rollback.
 */
export async function recordFailure(
  deps: Deps,
  workspaceId: string,
  customerRef: string,
  ip: string | undefined,
): Promise<void> {
  const now = deps.clock.now();
  const customer = await findCustomer(deps.db, workspaceId, customerRef);
  if (customer) await bump(deps.db, workspaceId, 'customer', customer.id, now);
  if (ip) await bump(deps.db, workspaceId, 'ip', ipSubject(ip), now);
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
