import { enqueue, findOutboxRow, notRetryable, type OutboxRow, STRIPE_CALL_MAX_ATTEMPTS } from './outbox.js';
import type { Deps, Sql } from './ports.js';
import { PerksError } from '../core/errors.js';

/**
 * Calls Perks makes to Stripe, queued in the outbox in the same transaction as the decision behind
 * them. Each carries its Idempotency-Key from the moment it is written, so a call sent again after a
 * crash or a timeout is applied by Stripe once.
 */

/**
 * The operations Perks performs on Stripe, each with the parameters Stripe's API takes. Settling a
 * draft invoice needs only invoice items; a new operation is a new member here and a case in the
 * worker.
 */
export type StripeCall = {
  operation: 'invoiceItems.create';
  params: {
    customer: string;
    invoice: string;
    /** Negative: a discount or a credit on the invoice. */
    amount: number;
    currency: string;
    description: string;
    metadata: Record<string, string>;
  };
};

export interface StripeCallPayload extends Record<string, unknown> {
  call: StripeCall;
  idempotency_key: string;
}

/**
 * Queues calls. `dedupe_key` makes queueing the same business step twice (a retried settlement) a
 * no-op. The Idempotency-Key is derived from the dedupe key, so it is the same for every attempt.
 */
export async function enqueueStripeCalls(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  calls: readonly { dedupe_key: string; call: StripeCall }[],
): Promise<OutboxRow[]> {
  return enqueue(
    deps,
    tx,
    workspaceId,
    calls.map(({ dedupe_key, call }) => ({
      kind: 'stripe_call' as const,
      dedupe_key,
      payload: { call, idempotency_key: `perks_${workspaceId}_${dedupe_key}` } satisfies StripeCallPayload,
      max_attempts: STRIPE_CALL_MAX_ATTEMPTS,
    })),
    'scall',
  );
}

export function stripeCallView(r: OutboxRow) {
  const payload = r.payload as StripeCallPayload;
  return {
    object: 'stripe_call' as const,
    id: r.id,
    operation: payload.call.operation,
    params: payload.call.params,
    idempotency_key: payload.idempotency_key,
    status: r.status,
    attempts: r.attempts,
    max_attempts: r.max_attempts,
    next_attempt_at: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    last_attempt_at: r.last_attempt_at?.toISOString() ?? null,
    last_error: r.last_error,
    result: r.result,
    created_at: r.created_at.toISOString(),
    completed_at: r.completed_at?.toISOString() ?? null,
  };
}
export type StripeCallView = ReturnType<typeof stripeCallView>;

export async function listStripeCalls(
  sql: Sql,
  workspaceId: string,
  page: { limit: number; starting_after?: string | undefined },
  status?: string,
) {
  const rows = await sql.query<OutboxRow>(
    `select * from outbox where workspace_id = $1 and kind = 'stripe_call' and ($2::text is null or id < $2)
       and ($3::text is null or status = $3)
     order by id desc limit $4`,
    [workspaceId, page.starting_after ?? null, status ?? null, page.limit + 1],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map(stripeCallView),
    has_more: rows.length > page.limit,
  };
}

export async function retrieveStripeCall(sql: Sql, workspaceId: string, id: string) {
  const row = await findOutboxRow(sql, workspaceId, 'stripe_call', id);
  if (!row) throw new PerksError('resource_not_found', `no Stripe call '${id}'`, 'id');
  return stripeCallView(row);
}

/**
 * Sends a failed call again from the first attempt. After a permanent (4xx) refusal Stripe keeps the
 * refusal under the old Idempotency-Key, so the retry gets a new key; after transient failures the
 * call may have reached Stripe, so the key stays and Stripe cannot apply it twice.
 */
export async function retryStripeCall(deps: Deps, tx: Sql, workspaceId: string, id: string) {
  const row = await findOutboxRow(tx, workspaceId, 'stripe_call', id, true);
  if (!row) throw new PerksError('resource_not_found', `no Stripe call '${id}'`, 'id');
  if (row.status !== 'failed') throw notRetryable(`Stripe call '${id}'`, row.status);
  const payload = row.payload as StripeCallPayload;
  const permanent = row.result?.permanent === true;
  const retries = typeof row.result?.manual_retries === 'number' ? row.result.manual_retries + 1 : 1;
  const key = permanent
    ? `${payload.idempotency_key.replace(/_retry\d+$/, '')}_retry${retries}`
    : payload.idempotency_key;
  const [updated] = await tx.query<OutboxRow>(
    `update outbox set status = 'pending', attempts = 0, next_attempt_at = $3, completed_at = null,
       payload = jsonb_set(payload, '{idempotency_key}', to_jsonb($4::text)),
       result = jsonb_build_object('manual_retries', $5::int)
     where workspace_id = $1 and id = $2 returning *`,
    [workspaceId, id, deps.clock.now(), key, retries],
  );
  return stripeCallView(updated!);
}
