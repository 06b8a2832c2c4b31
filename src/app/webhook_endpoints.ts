import { PerksError } from '../core/errors.js';
import { enqueue, type OutboxRow, WEBHOOK_MAX_ATTEMPTS } from './outbox.js';
import type { Deps, Sql } from './ports.js';

/**
 * Webhook endpoints of the user's product. The URL is checked by the HTTP adapter (it may not resolve
 * to a private address) before these use cases run; the secret is generated here and shown once.
 */

export const MAX_ENDPOINTS_PER_WORKSPACE = 20;
/** How long the previous secret still signs after a rotation, by default and at most. */
export const DEFAULT_ROTATION_GRACE_S = 24 * 3600;
export const MAX_ROTATION_GRACE_S = 7 * 24 * 3600;
/** A recovery re-queues at most this many deliveries; older ones can be replayed one by one. */
export const MAX_RECOVERED_DELIVERIES = 10_000;

export interface EndpointRow {
  workspace_id: string;
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  metadata: Record<string, string>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  disabled_at: Date | null;
  last_success_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface EndpointInput {
  url: string;
  event_types: string[];
  description?: string | null | undefined;
  metadata?: Record<string, string> | undefined;
}

/**
 * A Standard Webhooks secret: `whsec_` and the base64 of the key. 32 base62 characters are valid
 * base64 for 24 bytes and carry 190 bits of randomness.
 */
function newSecret(deps: Deps): string {
  return deps.ids.secret('whsec', 190);
}

export function endpointView(r: EndpointRow, now: Date) {
  const rotating =
    r.previous_secret !== null &&
    r.previous_secret_expires_at !== null &&
    r.previous_secret_expires_at.getTime() > now.getTime();
  return {
    object: 'webhook_endpoint' as const,
    id: r.id,
    url: r.url,
    description: r.description,
    event_types: r.event_types,
    metadata: r.metadata,
    status: r.status,
    disabled_reason: r.disabled_reason,
    disabled_at: r.disabled_at?.toISOString() ?? null,
    last_success_at: r.last_success_at?.toISOString() ?? null,
    failing_since: r.failing_since?.toISOString() ?? null,
    previous_secret_expires_at: rotating ? r.previous_secret_expires_at!.toISOString() : null,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
export type EndpointView = ReturnType<typeof endpointView>;

export async function findEndpoint(
  sql: Sql,
  workspaceId: string,
  id: string,
  forUpdate = false,
): Promise<EndpointRow | undefined> {
  const rows = await sql.query<EndpointRow>(
    `select * from webhook_endpoints where workspace_id = $1 and id = $2 ${forUpdate ? 'for update' : ''}`,
    [workspaceId, id],
  );
  return rows[0];
}

export async function requireEndpoint(sql: Sql, workspaceId: string, id: string, forUpdate = false) {
  const row = await findEndpoint(sql, workspaceId, id, forUpdate);
  if (!row) throw new PerksError('resource_not_found', `no webhook endpoint '${id}'`, 'id');
  return row;
}

export async function createEndpoint(deps: Deps, tx: Sql, workspaceId: string, input: EndpointInput) {
  // The workspace row is the lock that makes the count and the insert one step.
  await tx.query('select 1 from workspaces where workspace_id = $1 for update', [workspaceId]);
  const [count] = await tx.query<{ n: number }>(
    'select count(*)::int8 as n from webhook_endpoints where workspace_id = $1',
    [workspaceId],
  );
  if (count!.n >= MAX_ENDPOINTS_PER_WORKSPACE) {
    throw new PerksError(
      'webhook_endpoint_limit_reached',
      `a workspace can have at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints; delete one first`,
      undefined,
      { limit: MAX_ENDPOINTS_PER_WORKSPACE },
    );
  }
  const now = deps.clock.now();
  const secret = newSecret(deps);
  const [row] = await tx.query<EndpointRow>(
    `insert into webhook_endpoints (workspace_id, id, url, description, event_types, metadata, secret, status,
       created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, 'enabled', $8, $8) returning *`,
    [
      workspaceId,
      deps.ids.id('we'),
      input.url,
      input.description ?? null,
      JSON.stringify(input.event_types),
      input.metadata ?? {},
      secret,
      now,
    ],
  );
  return { ...endpointView(row!, now), secret };
}

export async function listEndpoints(
  deps: Deps,
  sql: Sql,
  workspaceId: string,
  page: { limit: number; starting_after?: string | undefined },
) {
  const rows = await sql.query<EndpointRow>(
    `select * from webhook_endpoints where workspace_id = $1 and ($2::text is null or id < $2)
     order by id desc limit $3`,
    [workspaceId, page.starting_after ?? null, page.limit + 1],
  );
  const now = deps.clock.now();
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map((r) => endpointView(r, now)),
    has_more: rows.length > page.limit,
  };
}

export async function updateEndpoint(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  id: string,
  input: Partial<EndpointInput>,
) {
  await requireEndpoint(tx, workspaceId, id, true);
  const now = deps.clock.now();
  const [row] = await tx.query<EndpointRow>(
    `update webhook_endpoints set
       url = coalesce($3, url),
       event_types = coalesce($4::jsonb, event_types),
       description = case when $5::boolean then $6 else description end,
       metadata = coalesce($7::jsonb, metadata),
       updated_at = $8
     where workspace_id = $1 and id = $2 returning *`,
    [
      workspaceId,
      id,
      input.url ?? null,
      input.event_types === undefined ? null : JSON.stringify(input.event_types),
      input.description !== undefined,
      input.description ?? null,
      input.metadata === undefined ? null : JSON.stringify(input.metadata),
      now,
    ],
  );
  return endpointView(row!, now);
}

/** Deletes the endpoint; its pending deliveries are canceled, its delivery log stays in the store. */
export async function deleteEndpoint(deps: Deps, tx: Sql, workspaceId: string, id: string) {
  await requireEndpoint(tx, workspaceId, id, true);
  await tx.query(
    `update outbox set status = 'canceled', last_error = 'the endpoint was deleted', completed_at = $3
     where workspace_id = $1 and endpoint_id = $2 and kind = 'webhook' and status = 'pending'`,
    [workspaceId, id, deps.clock.now()],
  );
  await tx.query('delete from webhook_endpoints where workspace_id = $1 and id = $2', [workspaceId, id]);
  return { object: 'webhook_endpoint' as const, id, deleted: true as const };
}

/**
 * A new secret, shown once. The current one keeps signing beside it until the grace period ends, so
 * the product can switch its verifier without losing a delivery.
 */
export async function rotateSecret(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  id: string,
  grace_s: number = DEFAULT_ROTATION_GRACE_S,
) {
  const current = await requireEndpoint(tx, workspaceId, id, true);
  const now = deps.clock.now();
  const secret = newSecret(deps);
  const [row] = await tx.query<EndpointRow>(
    `update webhook_endpoints set secret = $3, previous_secret = $4, previous_secret_expires_at = $5, updated_at = $6
     where workspace_id = $1 and id = $2 returning *`,
    [
      workspaceId,
      id,
      secret,
      grace_s > 0 ? current.secret : null,
      grace_s > 0 ? new Date(now.getTime() + grace_s * 1000) : null,
      now,
    ],
  );
  return { ...endpointView(row!, now), secret };
}

/**
 * Re-enables a disabled endpoint. With `recover`, the deliveries that failed or were canceled since
 * it started failing are queued again (at most MAX_RECOVERED_DELIVERIES, oldest first).
 */
export async function enableEndpoint(deps: Deps, tx: Sql, workspaceId: string, id: string, recover: boolean) {
  const current = await requireEndpoint(tx, workspaceId, id, true);
  const now = deps.clock.now();
  let recovered = 0;
  if (recover) {
    const since = current.failing_since ?? current.disabled_at ?? now;
    const rows = await tx.query(
      `update outbox set status = 'pending', attempts = 0, next_attempt_at = $3, completed_at = null,
         last_error = null
       where workspace_id = $1 and (workspace_id, id) in (
         select workspace_id, id from outbox
         where workspace_id = $1 and endpoint_id = $2 and kind = 'webhook' and status in ('failed', 'canceled')
           and created_at >= $4
         order by id limit $5)
       returning id`,
      [workspaceId, id, now, since, MAX_RECOVERED_DELIVERIES],
    );
    recovered = rows.length;
  }
  const [row] = await tx.query<EndpointRow>(
    `update webhook_endpoints set status = 'enabled', disabled_reason = null, disabled_at = null,
       failing_since = null, updated_at = $3
     where workspace_id = $1 and id = $2 returning *`,
    [workspaceId, id, now],
  );
  return { ...endpointView(row!, now), recovered_deliveries: recovered };
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

function deliveryView(r: OutboxRow, attempts: AttemptRow[]) {
  return {
    object: 'webhook_delivery' as const,
    id: r.id,
    endpoint: r.endpoint_id,
    event_id: r.event_id,
    event_type: r.event_type,
    status: r.status,
    attempts: r.attempts,
    max_attempts: r.max_attempts,
    next_attempt_at: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    last_error: r.last_error,
    replay_of: r.replay_of,
    created_at: r.created_at.toISOString(),
    completed_at: r.completed_at?.toISOString() ?? null,
    payload: JSON.parse(String(r.payload.body)) as unknown,
    attempt_log: attempts.map((a) => ({
      attempt: a.attempt,
      started_at: a.started_at.toISOString(),
      duration_ms: a.duration_ms,
      status_code: a.status_code,
      error: a.error,
      response_body: a.response_body,
    })),
  };
}
export type DeliveryView = ReturnType<typeof deliveryView>;

/** The endpoint's deliveries, newest first, each with every attempt made. */
export async function listDeliveries(
  sql: Sql,
  workspaceId: string,
  endpointId: string,
  page: { limit: number; starting_after?: string | undefined },
  status?: string,
) {
  await requireEndpoint(sql, workspaceId, endpointId);
  const rows = await sql.query<OutboxRow>(
    `select * from outbox where workspace_id = $1 and endpoint_id = $2 and kind = 'webhook'
       and ($3::text is null or id < $3) and ($4::text is null or status = $4)
     order by id desc limit $5`,
    [workspaceId, endpointId, page.starting_after ?? null, status ?? null, page.limit + 1],
  );
  const shown = rows.slice(0, page.limit);
  const attempts = await sql.query<AttemptRow>(
    `select delivery_id, attempt, started_at, duration_ms, status_code, error, response_body from webhook_attempts
     where workspace_id = $1 and delivery_id = any($2::text[]) order by id`,
    [workspaceId, shown.map((r) => r.id)],
  );
  return {
    object: 'list' as const,
    data: shown.map((r) =>
      deliveryView(
        r,
        attempts.filter((a) => a.delivery_id === r.id),
      ),
    ),
    has_more: rows.length > page.limit,
  };
}

/**
 * Sends a delivery again as a new delivery with the same message: the same webhook-id and body, so a
 * receiver that already processed it recognises it.
 */
export async function replayDelivery(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  endpointId: string,
  deliveryId: string,
) {
  const endpoint = await requireEndpoint(tx, workspaceId, endpointId);
  const [original] = await tx.query<OutboxRow>(
    `select * from outbox where workspace_id = $1 and id = $2 and endpoint_id = $3 and kind = 'webhook'`,
    [workspaceId, deliveryId, endpointId],
  );
  if (!original) {
    throw new PerksError(
      'resource_not_found',
      `no delivery '${deliveryId}' for endpoint '${endpointId}'`,
      'id',
    );
  }
  if (endpoint.status === 'disabled') {
    throw new PerksError(
      'outbox_item_not_retryable',
      `endpoint '${endpointId}' is disabled; re-enable it before replaying its deliveries`,
      'endpoint_id',
    );
  }
  if (original.status === 'pending') {
    throw new PerksError(
      'outbox_item_not_retryable',
      `delivery '${deliveryId}' is still pending; replay it once it has succeeded, failed or been canceled`,
      'id',
    );
  }
  const [row] = await enqueue(
    deps,
    tx,
    workspaceId,
    [
      {
        kind: 'webhook',
        endpoint_id: endpointId,
        event_id: original.event_id ?? undefined,
        event_type: original.event_type ?? undefined,
        payload: original.payload,
        max_attempts: WEBHOOK_MAX_ATTEMPTS,
        replay_of: original.id,
      },
    ],
    'whd',
  );
  return deliveryView(row!, []);
}
