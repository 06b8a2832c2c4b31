import {
  cancelOutbox,
  enqueue,
  findOutboxRow,
  notRetryable,
  type OutboxRow,
  STRIPE_CALL_MAX_ATTEMPTS,
} from './outbox.js';
import type { Deps, Sql } from './ports.js';
import { PerksError } from '../core/errors.js';

/**
 * Calls Perks makes to Stripe, queued in the outbox in the same transaction as the decision behind
 * them. Each carries its Idempotency-Key from the moment it is written, so a call sent again after a
 * crash or a timeout is applied by Stripe once.
 */

/**
 * The operations Perks performs on Stripe, each with the parameters Stripe's API takes. Settling a
 * draft invoice adds invoice items; voiding that settlement deletes the items already added. A new
 * operation is a new member here and a case in the worker.
 */
export type StripeCall =
  | {
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
    }
  | {
      operation: 'invoiceItems.del';
      /** Stripe takes the item's id only; the invoice is there for whoever reads the call. */
      params: { id: string; invoice: string };
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

/** The dedupe key of the call that adds line `index` of an invoice's settlement as an invoice item. */
export function invoiceItemCallKey(invoiceId: string, index: number): string {
  return `invoiceitem:${invoiceId}:${index}`;
}

/** The settlement an invoice item was queued for; null for calls that belong to no settlement. */
function settlementOf(call: StripeCall): string | null {
  return call.operation === 'invoiceItems.create' ? (call.params.metadata.perks_settlement ?? null) : null;
}

function voidedReason(settlementId: string, invoiceId: string): string {
  return `not sent: settlement '${settlementId}' of invoice '${invoiceId}' was voided`;
}

/**
 * The deletion of the item a create call added. Its dedupe key is derived from the create call's, so
 * it is queued once whether the void or the worker (whose answer came after the void) queues it.
 */
function deletionOf(row: OutboxRow, itemId: string): { dedupe_key: string; call: StripeCall } {
  const { call } = row.payload as StripeCallPayload;
  return {
    dedupe_key: `delete:${row.dedupe_key ?? row.id}`,
    call: { operation: 'invoiceItems.del', params: { id: itemId, invoice: call.params.invoice } },
  };
}

/** Queues the deletion of `row`'s item and notes the deletion's id in the create call's result. */
async function queueDeletion(deps: Deps, tx: Sql, row: OutboxRow, itemId: string): Promise<string | null> {
  const [written] = await enqueueStripeCalls(deps, tx, row.workspace_id, [deletionOf(row, itemId)]);
  if (!written) return null;
  await tx.query(
    `update outbox set result = coalesce(result, '{}'::jsonb) || jsonb_build_object('deletion', $3::text)
     where workspace_id = $1 and id = $2`,
    [row.workspace_id, row.id, written.id],
  );
  return written.id;
}

/**
 * The undo of the invoice items `settleDraftInvoice` queued, run by `voidInvoice` in the void's
 * transaction. Calls not sent (pending, or failed) are canceled; items Stripe added get a deletion
 * queued, which Stripe accepts while the invoice is a draft and refuses (a failed call, visible in
 * the API) once it is finalised. With `sentItems` 'leave' (Stripe voided the invoice, and its items
 * with it) they are left as they are. The rows are locked first: a worker's claim skips them until
 * the void commits, and a claim in progress finishes before. A call the worker is sending at this
 * moment is canceled too; when its answer comes, the worker records the item and queues its
 * deletion (`recordSentAfterCancel`).
 */
export async function revertInvoiceItemCalls(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  settlement: { id: string; invoice_id: string; line_count: number },
  sentItems: 'delete' | 'leave' = 'delete',
): Promise<{ canceled: string[]; deletions: string[] }> {
  if (settlement.line_count === 0) return { canceled: [], deletions: [] };
  const keys = Array.from({ length: settlement.line_count }, (_, i) =>
    invoiceItemCallKey(settlement.invoice_id, i),
  );
  const rows = await tx.query<OutboxRow>(
    `select * from outbox where workspace_id = $1 and kind = 'stripe_call' and dedupe_key = any($2::text[])
       and payload #>> '{call,params,metadata,perks_settlement}' = $3
     order by id for update`,
    [workspaceId, keys, settlement.id],
  );
  const reason = voidedReason(settlement.id, settlement.invoice_id);
  const unsent = rows.filter((r) => r.status === 'pending' || r.status === 'failed');
  const notes = unsent.map((r) => {
    if (r.attempts === 0) return reason;
    if (r.status === 'failed' && r.result?.permanent === true) {
      return `${reason} (Stripe had refused it: ${r.last_error ?? 'no error recorded'})`;
    }
    // An attempt under way is recorded when Stripe answers; one whose answer was lost may have added
    // an item whose id Perks never learnt.
    return `${reason} after ${r.attempts} attempt(s) (last error: ${r.last_error ?? 'none'}); an item added by an attempt whose answer was lost is not known to Perks: check the invoice in Stripe`;
  });
  const canceled =
    unsent.length === 0
      ? []
      : await tx.query<{ id: string }>(
          `update outbox o set status = 'canceled', completed_at = $4, last_error = left(c.note, 2000),
             result = case when $5 then coalesce(o.result, '{}'::jsonb) || '{"sent_items": "leave"}' else o.result end
           from unnest($2::text[], $3::text[]) as c(id, note)
           where o.workspace_id = $1 and o.id = c.id returning o.id`,
          [workspaceId, unsent.map((r) => r.id), notes, deps.clock.now(), sentItems === 'leave'],
        );
  const deletions: string[] = [];
  for (const row of sentItems === 'delete' ? rows : []) {
    if (row.status !== 'succeeded' || typeof row.result?.id !== 'string') continue;
    const deletion = await queueDeletion(deps, tx, row, row.result.id);
    if (deletion) deletions.push(deletion);
  }
  return { canceled: canceled.map((r) => r.id), deletions };
}

/**
 * Whether the worker may send a call it claimed: the row is still this claim's (not canceled, not
 * claimed again after the lease ran out) and the settlement it was queued for is not voided. A call of
 * a voided settlement still pending here is canceled. A void that commits after this check cancels
 * the call while it is sent; `recordSentAfterCancel` then deletes what Stripe added.
 */
export async function stripeCallSendable(deps: Deps, row: OutboxRow): Promise<boolean> {
  const { call } = row.payload as StripeCallPayload;
  const settlementId = settlementOf(call);
  const [current] = await deps.db.query<{
    status: string;
    attempts: number;
    settlement_status: string | null;
  }>(
    `select o.status, o.attempts, s.status as settlement_status from outbox o
       left join ledger_settlements s on s.workspace_id = o.workspace_id and s.id = $3
     where o.workspace_id = $1 and o.id = $2`,
    [row.workspace_id, row.id, settlementId],
  );
  if (!current || current.status !== 'pending' || current.attempts !== row.attempts) return false;
  if (current.settlement_status !== 'voided') return true;
  await cancelOutbox(deps, deps.db, row, voidedReason(settlementId!, call.params.invoice));
  return false;
}

/**
 * An invoice item Stripe added after a void canceled its call (the void committed while the call was
 * on its way): the item is recorded on the canceled row and its deletion queued, so the voided
 * settlement leaves nothing on the invoice. Answers whether the row was such a call.
 */
export async function recordSentAfterCancel(
  deps: Deps,
  tx: Sql,
  row: OutboxRow,
  result: { id: string },
): Promise<boolean> {
  if ((row.payload as StripeCallPayload).call.operation !== 'invoiceItems.create') return false;
  const [canceled] = await tx.query<OutboxRow>(
    `update outbox set result = coalesce(result, '{}'::jsonb) || $4::jsonb,
       last_error = left(coalesce(last_error, '') || case when result ->> 'sent_items' = 'leave'
         then '; Stripe added the item in the attempt under way; it went with the invoice Stripe voided'
         else '; Stripe added the item in the attempt under way, so its deletion is queued' end, 2000)
     where workspace_id = $1 and id = $2 and attempts = $3 and status = 'canceled' returning *`,
    [row.workspace_id, row.id, row.attempts, JSON.stringify(result)],
  );
  if (!canceled) return false;
  // Stripe voided the invoice itself: the item went with it, and Stripe would refuse its deletion.
  if (canceled.result?.sent_items === 'leave') return true;
  await queueDeletion(deps, tx, canceled, result.id);
  return true;
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
  const payload = row.payload as StripeCallPayload;
  // Checked first, so that a call the void canceled answers why. The void locks the call's row after
  // its settlement's, so a void that commits while this runs cancels the call once this commits.
  const settlementId = settlementOf(payload.call);
  if (settlementId !== null) {
    const [settlement] = await tx.query<{ status: string; invoice_id: string }>(
      'select status, invoice_id from ledger_settlements where workspace_id = $1 and id = $2',
      [workspaceId, settlementId],
    );
    if (settlement?.status === 'voided') {
      throw new PerksError(
        'outbox_item_not_retryable',
        `Stripe call '${id}' adds an invoice item for settlement '${settlementId}' of invoice '${settlement.invoice_id}', which was voided: the discount or credit it carried was given back, so it is not sent`,
        'id',
        { settlement: settlementId, settlement_status: 'voided' },
      );
    }
  }
  if (row.status !== 'failed') throw notRetryable(`Stripe call '${id}'`, row.status);
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
