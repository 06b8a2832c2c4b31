import { PerksError } from '../core/errors.js';
import type { Deps, Sql } from './ports.js';

/**
 * The store of Stripe events. Each event is inserted first, keyed permanently by Stripe's event id,
 * and its status is set in the same transaction once it has been applied; a redelivered event finds
 * its row and changes nothing.
 */

export type StripeEventStatus = 'received' | 'processed' | 'failed' | 'ignored' | 'deferred';

export interface StripeEventRow {
  workspace_id: string;
  id: string;
  stripe_event_id: string;
  type: string;
  api_version: string | null;
  livemode: boolean;
  occurred_at: Date;
  received_at: Date;
  status: StripeEventStatus;
  reason: string | null;
  waiting_key: string | null;
  attempts: number;
  processed_at: Date | null;
  /** Only loaded where the event is applied from the store (retries, deferred events). */
  payload?: unknown;
  result: Record<string, unknown> | null;
}

/**
 * Every column but the payload: an event is applied from the object already in memory when it
 * arrives, so the payload (several kilobytes of JSON) is not sent back by the store on every write.
 */
const COLUMNS = `workspace_id, id, stripe_event_id, type, api_version, livemode, occurred_at, received_at, status,
  reason, waiting_key, attempts, processed_at, result`;

export interface StripeEventInput {
  stripe_event_id: string;
  type: string;
  api_version: string | null;
  livemode: boolean;
  occurred_at: Date;
  payload: unknown;
}

/** Inserts the event; answers undefined when this Stripe event id was stored before (a duplicate). */
export async function insertStripeEvent(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: StripeEventInput,
): Promise<StripeEventRow | undefined> {
  const rows = await tx.query<StripeEventRow>(
    `insert into stripe_events (workspace_id, id, stripe_event_id, type, api_version, livemode, occurred_at,
       received_at, status, payload)
     values ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9)
     on conflict (workspace_id, stripe_event_id) do nothing returning ${COLUMNS}`,
    [
      workspaceId,
      deps.ids.id('sevt'),
      input.stripe_event_id,
      input.type,
      input.api_version,
      input.livemode,
      input.occurred_at,
      deps.clock.now(),
      JSON.stringify(input.payload),
    ],
  );
  return rows[0];
}

export interface StripeEventOutcome {
  status: Exclude<StripeEventStatus, 'received'>;
  reason?: string | null | undefined;
  waiting_key?: string | null | undefined;
  result?: Record<string, unknown> | null | undefined;
}

export async function markStripeEvent(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  id: string,
  outcome: StripeEventOutcome,
): Promise<StripeEventRow> {
  const rows = await tx.query<StripeEventRow>(
    `update stripe_events set status = $3, reason = $4, waiting_key = $5, result = $6, attempts = attempts + 1,
       processed_at = $7
     where workspace_id = $1 and id = $2 returning ${COLUMNS}`,
    [
      workspaceId,
      id,
      outcome.status,
      outcome.reason ?? null,
      outcome.waiting_key ?? null,
      outcome.result === undefined || outcome.result === null ? null : JSON.stringify(outcome.result),
      deps.clock.now(),
    ],
  );
  return rows[0]!;
}

/** Finds an event by its Perks id (sevt_...) or by Stripe's event id. */
export async function findStripeEvent(
  sql: Sql,
  workspaceId: string,
  ref: string,
  options: { forUpdate?: boolean } = {},
): Promise<StripeEventRow | undefined> {
  const rows = await sql.query<StripeEventRow>(
    `select * from stripe_events where workspace_id = $1 and (id = $2 or stripe_event_id = $2)
     order by (id = $2) desc limit 1 ${options.forUpdate ? 'for update' : ''}`,
    [workspaceId, ref],
  );
  return rows[0];
}

export async function requireStripeEvent(sql: Sql, workspaceId: string, ref: string, forUpdate = false) {
  const row = await findStripeEvent(sql, workspaceId, ref, { forUpdate });
  if (!row) throw new PerksError('resource_not_found', `no Stripe event '${ref}'`, 'id');
  return row;
}

/** The deferred events waiting for `key`, locked, oldest first. */
export async function deferredEvents(tx: Sql, workspaceId: string, key: string): Promise<StripeEventRow[]> {
  return tx.query<StripeEventRow>(
    `select * from stripe_events where workspace_id = $1 and waiting_key = $2 and status = 'deferred'
     order by occurred_at, id for update`,
    [workspaceId, key],
  );
}

/**
 * Serialises the transactions that decide about one business key (a payment, a subscription): an
 * event that defers until the key is known and the event that makes it known then cannot miss each
 * other, because the second to take the lock sees what the first committed.
 */
export async function lockStripeKey(tx: Sql, workspaceId: string, key: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtextextended($1 || ':stripe:' || $2, 0))`, [
    workspaceId,
    key,
  ]);
}

export function stripeEventView(r: StripeEventRow) {
  return {
    object: 'stripe_event' as const,
    id: r.id,
    stripe_event_id: r.stripe_event_id,
    type: r.type,
    api_version: r.api_version,
    livemode: r.livemode,
    occurred_at: r.occurred_at.toISOString(),
    received_at: r.received_at.toISOString(),
    status: r.status,
    reason: r.reason,
    waiting_for: r.waiting_key,
    attempts: r.attempts,
    processed_at: r.processed_at?.toISOString() ?? null,
    result: r.result,
  };
}
export type StripeEventView = ReturnType<typeof stripeEventView>;

export async function listStripeEvents(
  sql: Sql,
  workspaceId: string,
  page: { limit: number; starting_after?: string | undefined },
  filter: { status?: string | undefined; type?: string | undefined },
) {
  const rows = await sql.query<StripeEventRow>(
    `select ${COLUMNS} from stripe_events where workspace_id = $1 and ($2::text is null or id < $2)
       and ($3::text is null or status = $3) and ($4::text is null or type = $4)
     order by id desc limit $5`,
    [workspaceId, page.starting_after ?? null, filter.status ?? null, filter.type ?? null, page.limit + 1],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map(stripeEventView),
    has_more: rows.length > page.limit,
  };
}
