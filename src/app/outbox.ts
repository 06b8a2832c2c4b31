import { PerksError } from '../core/errors.js';
import type { Db, Deps, Sql } from './ports.js';

/**
 * The outbox: work for the outside world written in the same transaction as the decision that needs
 * it, and sent afterwards by workers. A worker claims due rows with FOR UPDATE SKIP LOCKED and, in
 * the same statement, pushes their next_attempt_at forward by a lease; it then works without holding
 * a lock or a connection. If the process dies mid-send, the lease runs out and another worker sends
 * again, which is why every send is idempotent on the receiving side (Stripe's Idempotency-Key, the
 * webhook-id header).
 */

export type OutboxKind = 'stripe_call' | 'webhook';
export type OutboxStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export interface OutboxRow {
  workspace_id: string;
  id: string;
  kind: OutboxKind;
  dedupe_key: string | null;
  endpoint_id: string | null;
  event_id: string | null;
  event_type: string | null;
  payload: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_error: string | null;
  result: Record<string, unknown> | null;
  replay_of: string | null;
  created_at: Date;
  completed_at: Date | null;
}

export interface OutboxInput {
  kind: OutboxKind;
  /** Writing a second row with the same key in the workspace is a no-op. */
  dedupe_key?: string | undefined;
  endpoint_id?: string | undefined;
  event_id?: string | undefined;
  event_type?: string | undefined;
  payload: Record<string, unknown>;
  max_attempts: number;
  /** Rows are due at once unless written canceled (e.g. for a disabled endpoint). */
  status?: 'pending' | 'canceled' | undefined;
  last_error?: string | undefined;
  replay_of?: string | undefined;
}

/** Writes rows in one statement; answers the rows written (those whose dedupe key was new). */
export async function enqueue(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  inputs: readonly OutboxInput[],
  idPrefix = 'obx',
): Promise<OutboxRow[]> {
  if (inputs.length === 0) return [];
  const now = deps.clock.now();
  const columns = [
    'workspace_id',
    'id',
    'kind',
    'dedupe_key',
    'endpoint_id',
    'event_id',
    'event_type',
    'payload',
    'status',
    'max_attempts',
    'next_attempt_at',
    'last_error',
    'replay_of',
    'created_at',
  ];
  const params: unknown[] = [];
  const tuples = inputs.map((input) => {
    const values = [
      workspaceId,
      deps.ids.id(idPrefix),
      input.kind,
      input.dedupe_key ?? null,
      input.endpoint_id ?? null,
      input.event_id ?? null,
      input.event_type ?? null,
      JSON.stringify(input.payload),
      input.status ?? 'pending',
      input.max_attempts,
      now,
      input.last_error ?? null,
      input.replay_of ?? null,
      now,
    ];
    const start = params.length;
    params.push(...values);
    return `(${values.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  return tx.query<OutboxRow>(
    `insert into outbox (${columns.join(', ')}) values ${tuples.join(', ')}
     on conflict (workspace_id, dedupe_key) where dedupe_key is not null do nothing returning *`,
    params,
  );
}

/**
 * Claims up to `limit` due rows of one kind across workspaces and leases them for `lease_ms`: their
 * attempt count goes up and they are not due again until the lease ends. Rows another worker is
 * claiming at this instant are skipped, not waited for.
 */
export async function claimDue(
  deps: Deps,
  db: Db,
  kind: OutboxKind,
  limit: number,
  lease_ms: number,
): Promise<OutboxRow[]> {
  const now = deps.clock.now();
  return db.query<OutboxRow>(
    `update outbox o set attempts = o.attempts + 1, last_attempt_at = $2, next_attempt_at = $3
     from (select workspace_id, id from outbox
           where kind = $1 and status = 'pending' and next_attempt_at <= $2
           order by next_attempt_at limit $4 for update skip locked) due
     where o.workspace_id = due.workspace_id and o.id = due.id
     returning o.*`,
    [kind, now, new Date(now.getTime() + lease_ms), limit],
  );
}

/**
 * The updates after an attempt are fenced on the attempt count the worker claimed: if its lease ran
 * out and another worker claimed the row again, the late answer changes nothing.
 */
export async function completeOutbox(
  deps: Deps,
  tx: Sql,
  row: OutboxRow,
  result: Record<string, unknown> | null,
): Promise<boolean> {
  const rows = await tx.query(
    `update outbox set status = 'succeeded', completed_at = $4, result = $5, last_error = null
     where workspace_id = $1 and id = $2 and attempts = $3 and status = 'pending' returning id`,
    [
      row.workspace_id,
      row.id,
      row.attempts,
      deps.clock.now(),
      result === null ? null : JSON.stringify(result),
    ],
  );
  return rows.length > 0;
}

/**
 * Records a failed attempt: due again after `delay_ms`, or given up (failed) when the attempts are
 * spent or the error is permanent. Answers the status the row ended in, or undefined when fenced out.
 */
export async function failOutbox(
  deps: Deps,
  tx: Sql,
  row: OutboxRow,
  failure: {
    error: string;
    permanent: boolean;
    delay_ms: number;
    result?: Record<string, unknown> | undefined;
  },
): Promise<OutboxStatus | undefined> {
  const now = deps.clock.now();
  const giveUp = failure.permanent || row.attempts >= row.max_attempts;
  const rows = await tx.query<{ status: OutboxStatus }>(
    `update outbox set status = $4, last_error = $5, next_attempt_at = $6, completed_at = $7,
       result = coalesce($8::jsonb, result)
     where workspace_id = $1 and id = $2 and attempts = $3 and status = 'pending' returning status`,
    [
      row.workspace_id,
      row.id,
      row.attempts,
      giveUp ? 'failed' : 'pending',
      failure.error.slice(0, 2000),
      giveUp ? now : new Date(now.getTime() + failure.delay_ms),
      giveUp ? now : null,
      failure.result ? JSON.stringify(failure.result) : null,
    ],
  );
  return rows[0]?.status;
}

/** Ends a pending row without sending it (its endpoint was deleted or disabled). */
export async function cancelOutbox(deps: Deps, tx: Sql, row: OutboxRow, reason: string): Promise<void> {
  await tx.query(
    `update outbox set status = 'canceled', last_error = $4, completed_at = $5
     where workspace_id = $1 and id = $2 and attempts = $3 and status = 'pending'`,
    [row.workspace_id, row.id, row.attempts, reason, deps.clock.now()],
  );
}

/**
 * Webhook retries: about three days in all (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h,
 * 12 h, 16 h, 24 h after the attempts before them: 67.7 hours before jitter), then the delivery fails.
 */
export const WEBHOOK_RETRY_DELAYS_S = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 57600, 86400];
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_S.length + 1;

/** Stripe calls: 1 s doubling up to 1 h between attempts, 20 attempts (about 9 hours) in all. */
export const STRIPE_CALL_MAX_ATTEMPTS = 20;
const STRIPE_CALL_MAX_DELAY_S = 3600;

/**
 * The delay before the next attempt, given the attempts made so far (at least 1). `jitter` is a number
 * in [0, 1) drawn by the worker; it spreads the delay over plus or minus 20% so that deliveries that
 * failed together do not all come back at the same instant.
 */
export function retryDelay_ms(kind: OutboxKind, attempts: number, jitter: number): number {
  const base_s =
    kind === 'webhook'
      ? WEBHOOK_RETRY_DELAYS_S[Math.min(attempts, WEBHOOK_RETRY_DELAYS_S.length) - 1]!
      : Math.min(2 ** (attempts - 1), STRIPE_CALL_MAX_DELAY_S);
  return Math.round(base_s * 1000 * (0.8 + 0.4 * jitter));
}

export async function findOutboxRow(
  sql: Sql,
  workspaceId: string,
  kind: OutboxKind,
  id: string,
  forUpdate = false,
): Promise<OutboxRow | undefined> {
  const rows = await sql.query<OutboxRow>(
    `select * from outbox where workspace_id = $1 and id = $2 and kind = $3 ${forUpdate ? 'for update' : ''}`,
    [workspaceId, id, kind],
  );
  return rows[0];
}

export function notRetryable(what: string, status: OutboxStatus): PerksError {
  return new PerksError(
    'outbox_item_not_retryable',
    `${what} is ${status}; only a failed or canceled one can be retried`,
    'id',
  );
}
