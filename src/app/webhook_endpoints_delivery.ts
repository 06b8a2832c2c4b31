import { cancelOutbox, failOutbox, type OutboxRow, retryDelay_ms } from './outbox.js';
import { emitWebhookEvent } from './outbox_webhooks.js';
import type { Deps, Sql } from './ports.js';
import { type EndpointRow, endpointView } from './webhook_endpoints.js';
import { markDisabled } from './webhook_endpoints_disable.js';

/**
 * The delivery side of webhook endpoints: what the worker records after each attempt. An endpoint is
 * disabled when a delivery has used all its attempts (about three days of retries) without the
 * endpoint answering any delivery successfully in that time.
 */

export interface AttemptRecord {
  started_at: Date;
  duration_ms: number;
  /** The HTTP status, or null when no response came. */
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

const RESPONSE_EXCERPT_CHARS = 1000;

/** The secrets that sign a delivery now: the current one, and the previous one during its grace period. */
export function signingSecrets(endpoint: EndpointRow, now: Date): string[] {
  const secrets = [endpoint.secret];
  if (
    endpoint.previous_secret !== null &&
    endpoint.previous_secret_expires_at !== null &&
    endpoint.previous_secret_expires_at.getTime() > now.getTime()
  ) {
    secrets.push(endpoint.previous_secret);
  }
  return secrets;
}

/**
 * The endpoints the claimed deliveries go to, in one query. A delivery whose endpoint was deleted or
 * disabled since it was written is canceled instead of sent.
 */
export async function deliveryTargets(
  deps: Deps,
  rows: readonly OutboxRow[],
): Promise<Map<string, EndpointRow>> {
  if (rows.length === 0) return new Map();
  const found = await deps.db.query<EndpointRow>(
    'select * from webhook_endpoints where workspace_id = any($1::text[]) and id = any($2::text[])',
    [[...new Set(rows.map((r) => r.workspace_id))], [...new Set(rows.map((r) => r.endpoint_id ?? ''))]],
  );
  const byId = new Map(found.map((e) => [`${e.workspace_id}/${e.id}`, e]));
  const targets = new Map<string, EndpointRow>();
  for (const row of rows) {
    const endpoint = byId.get(`${row.workspace_id}/${row.endpoint_id}`);
    if (endpoint?.status === 'enabled') {
      targets.set(row.id, endpoint);
      continue;
    }
    const reason = endpoint ? 'the endpoint is disabled' : 'the endpoint was deleted';
    await deps.db.transaction((tx) => cancelOutbox(deps, tx, row, reason));
  }
  return targets;
}

/**
 * Logs the attempt and moves the delivery on: succeeded, due again after a backoff with jitter, or
 * failed; a failed delivery may disable its endpoint. Answers the delivery's status, or undefined
 * when another worker had claimed the delivery again meanwhile.
 *
 * A success, by far the common case, is one statement: the attempt, the delivery and the endpoint
 * change together (a single statement is atomic) in one round trip to the store.
 */
export async function recordDeliveryAttempt(
  deps: Deps,
  row: OutboxRow,
  attempt: AttemptRecord,
  jitter: number,
): Promise<'succeeded' | 'pending' | 'failed' | undefined> {
  const ok = attempt.status_code !== null && attempt.status_code >= 200 && attempt.status_code < 300;
  const attemptValues = [
    row.workspace_id,
    deps.ids.id('wha'),
    row.id,
    row.endpoint_id,
    row.attempts,
    attempt.started_at,
    attempt.duration_ms,
    attempt.status_code,
    attempt.error,
    attempt.response_body?.slice(0, RESPONSE_EXCERPT_CHARS) ?? null,
  ];
  const insertAttempt = `insert into webhook_attempts (workspace_id, id, delivery_id, endpoint_id, attempt, started_at,
       duration_ms, status_code, error, response_body)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
  if (ok) {
    // Deliveries to one endpoint succeed many times a second; the endpoint row is written only when
    // it was failing or its last success is a second old, so they do not queue on its row lock.
    const [done] = await deps.db.query<{ n: number }>(
      `with attempt as (${insertAttempt}),
       done as (
         update outbox set status = 'succeeded', completed_at = $11, result = $12, last_error = null
         where workspace_id = $1 and id = $3 and attempts = $5 and status = 'pending' returning id),
       endpoint as (
         update webhook_endpoints set last_success_at = greatest(coalesce(last_success_at, $6), $6),
           failing_since = null
         where workspace_id = $1 and id = $4 and exists (select 1 from done)
           and (failing_since is not null or last_success_at is null
                or last_success_at < $6::timestamptz - interval '1 second')
         returning id)
       select (select count(*) from done)::int8 as n`,
      [...attemptValues, deps.clock.now(), JSON.stringify({ status_code: attempt.status_code })],
    );
    return done!.n > 0 ? 'succeeded' : undefined;
  }
  return deps.db.transaction(async (tx) => {
    await tx.query(insertAttempt, attemptValues);
    const error = attempt.error ?? `the endpoint answered HTTP ${attempt.status_code}`;
    const status = await failOutbox(deps, tx, row, {
      error,
      permanent: false,
      delay_ms: retryDelay_ms('webhook', row.attempts, jitter),
    });
    if (status === undefined) return undefined;
    const [endpoint] = await tx.query<EndpointRow>(
      `update webhook_endpoints set failing_since = coalesce(failing_since, $3)
       where workspace_id = $1 and id = $2 returning *`,
      [row.workspace_id, row.endpoint_id, attempt.started_at],
    );
    if (status === 'failed' && endpoint) await maybeDisable(deps, tx, endpoint, row, error);
    return status === 'failed' ? 'failed' : 'pending';
  });
}

async function maybeDisable(deps: Deps, tx: Sql, endpoint: EndpointRow, row: OutboxRow, error: string) {
  if (endpoint.status !== 'enabled') return;
  if (endpoint.last_success_at !== null && endpoint.last_success_at.getTime() >= row.created_at.getTime())
    return;
  const now = deps.clock.now();
  const since = endpoint.failing_since ?? row.created_at;
  const reason =
    `every delivery attempt since ${since.toISOString()} failed; delivery ${row.id} gave up after ` +
    `${row.attempts} attempts. Last error: ${error}`.slice(0, 1000);
  const disabled = await markDisabled(tx, endpoint.workspace_id, endpoint.id, reason, now);
  if (!disabled) return;
  await emitWebhookEvent(
    deps,
    tx,
    endpoint.workspace_id,
    'webhook_endpoint.disabled',
    endpointView(disabled, now),
  );
}
