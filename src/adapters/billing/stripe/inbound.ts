import { createHash } from 'node:crypto';
import { type EventResult, ingestEvents } from '../../../app/events.js';
import { emitWebhookEvent } from '../../../app/outbox_webhooks.js';
import type { Deps, Sql } from '../../../app/ports.js';
import {
  deferredEvents,
  insertStripeEvent,
  markStripeEvent,
  requireStripeEvent,
  type StripeEventInput,
  type StripeEventOutcome,
  type StripeEventRow,
  type StripeEventStatus,
  stripeEventView,
} from '../../../app/stripe_events.js';
import {
  DEFAULT_PLAN_UNITS_KEY,
  getStripeSettings,
  type StripeSettingsRow,
} from '../../../app/stripe_settings.js';
import { isPerksError, PerksError } from '../../../core/errors.js';
import { stripeWebhooks as verifier } from './client.js';
import { HANDLERS } from './handlers/index.js';
import { type HandlerContext, StripeShapeError } from './mapping.js';
import { stripeWebhooks as counter } from './metrics.js';
import { stripeEventEnvelope } from './shapes.js';

/**
 * The inbound side of the Stripe integration: verify the signature over the raw body, let through
 * only the event types Perks handles, store each event first (keyed permanently by Stripe's event
 * id), then map it to provider-neutral events and apply them in the same transaction. A handled
 * event that cannot be applied is stored as failed with the reason and never blocks other events.
 */

/** Stripe's own default: a signature older than this is refused, and so is one as far in the future. */
export const SIGNATURE_TOLERANCE_S = 300;

type Settings = Pick<StripeSettingsRow, 'api_key' | 'plan_units_key' | 'webhook_secrets'>;

export interface Receipt {
  object: 'stripe_webhook_receipt';
  received: true;
  /** The stored event (sevt_...), or null for a type Perks does not handle. */
  id: string | null;
  stripe_event_id: string | null;
  type: string | null;
  status: StripeEventStatus | 'unhandled';
  duplicate: boolean;
  reason: string | null;
}

function signatureInvalid(message: string): PerksError {
  return new PerksError('stripe_signature_invalid', message, 'Stripe-Signature');
}

/**
 * Checks the Stripe-Signature header with the official SDK against each of the workspace's signing
 * secrets (several while one is rotated); any `v1` signature in the header may match. The SDK refuses
 * a timestamp older than the tolerance; one further in the future than the tolerance is refused here.
 */
export function verifySignature(
  raw: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  now: Date,
): unknown {
  if (secrets.length === 0)
    throw signatureInvalid('no Stripe signing secret is configured for this endpoint');
  if (!header) throw signatureInvalid('the Stripe-Signature header is missing');
  let tooOld = false;
  let event: unknown;
  for (const secret of secrets) {
    try {
      event = verifier.constructEvent(raw, header, secret, SIGNATURE_TOLERANCE_S, undefined, now.getTime());
      break;
    } catch (err) {
      if (err instanceof SyntaxError) {
        throw new PerksError('body_malformed', `the signed body is not valid JSON: ${err.message}`);
      }
      if (/tolerance/i.test((err as Error).message)) tooOld = true;
    }
  }
  if (event === undefined) {
    throw signatureInvalid(
      tooOld
        ? `the Stripe-Signature timestamp is more than ${SIGNATURE_TOLERANCE_S} s old`
        : 'no signature in the Stripe-Signature header matches the body with a signing secret of this endpoint',
    );
  }
  const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(header)?.[1]);
  if (timestamp - Math.floor(now.getTime() / 1000) > SIGNATURE_TOLERANCE_S) {
    throw signatureInvalid(
      `the Stripe-Signature timestamp is more than ${SIGNATURE_TOLERANCE_S} s in the future`,
    );
  }
  return event;
}

function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export async function receiveStripeWebhook(
  deps: Deps,
  workspaceId: string,
  raw: Buffer,
  header: string | undefined,
): Promise<Receipt> {
  const settings = await getStripeSettings(deps.db, workspaceId);
  let event: unknown;
  try {
    event = verifySignature(raw, header, settings?.webhook_secrets ?? [], deps.clock.now());
  } catch (err) {
    counter.inc({ type: 'unknown', outcome: 'rejected' });
    throw err;
  }
  const fields = objectOf(event);
  const type = typeof fields.type === 'string' ? fields.type.slice(0, 255) : null;
  if (type !== null && !HANDLERS.has(type)) {
    counter.inc({ type: type.slice(0, 100), outcome: 'unhandled' });
    return {
      object: 'stripe_webhook_receipt',
      received: true,
      id: null,
      stripe_event_id: typeof fields.id === 'string' ? fields.id : null,
      type,
      status: 'unhandled',
      duplicate: false,
      reason: `Perks does not handle '${type}' events`,
    };
  }
  const { row, duplicate } = await storeAndApply(
    deps,
    workspaceId,
    envelopeInput(deps, event, raw),
    settings,
  );
  counter.inc({ type: row.type.slice(0, 100), outcome: duplicate ? 'duplicate' : row.status });
  return {
    object: 'stripe_webhook_receipt',
    received: true,
    id: row.id,
    stripe_event_id: row.stripe_event_id,
    type: row.type,
    status: row.status,
    duplicate,
    reason: row.reason,
  };
}

type EnvelopeInput = StripeEventInput & { envelope_error?: string };

/**
 * The stored form of a verified event. An event whose envelope is unusable is still stored, as
 * failed: under its id when it has one, else under the hash of its body, so a redelivery is a duplicate.
 */
export function envelopeInput(deps: Deps, event: unknown, raw: Buffer | string): EnvelopeInput {
  const parsed = stripeEventEnvelope.safeParse(event);
  if (parsed.success) {
    const e = parsed.data;
    return {
      stripe_event_id: e.id,
      type: e.type,
      api_version: e.api_version ?? null,
      livemode: e.livemode,
      // Stripe's clock, not the sender's: a verified event cannot come from the future except by
      // clock skew, so it is taken as received now rather than failed (its fact would be lost until
      // retried) or applied ahead of time (rules would act early and later facts would turn stale).
      occurred_at: new Date(Math.min(e.created * 1000, deps.clock.now().getTime())),
      payload: event,
    };
  }
  const fields = objectOf(event);
  const issue = parsed.error.issues[0]!;
  const id =
    typeof fields.id === 'string' && fields.id.length > 0 && fields.id.length <= 255 ? fields.id : null;
  return {
    stripe_event_id: id ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    type: typeof fields.type === 'string' && fields.type.length > 0 ? fields.type.slice(0, 255) : 'unknown',
    api_version: null,
    livemode: fields.livemode === true,
    occurred_at: deps.clock.now(),
    payload: event,
    envelope_error: `the event does not have the shape of a Stripe event: ${issue.path.map(String).join('.') || 'event'}: ${issue.message}`,
  };
}

/** Stores the event and applies it, in one transaction. A duplicate answers the stored row. */
export async function storeAndApply(
  deps: Deps,
  workspaceId: string,
  input: EnvelopeInput,
  settings: Settings | undefined,
): Promise<{ row: StripeEventRow; duplicate: boolean }> {
  const { envelope_error, ...stored } = input;
  return deps.db.transaction(async (tx) => {
    const row = await insertStripeEvent(deps, tx, workspaceId, stored);
    if (!row) {
      return { row: await requireStripeEvent(tx, workspaceId, input.stripe_event_id), duplicate: true };
    }
    if (envelope_error) {
      return {
        row: await finish(deps, tx, row, { status: 'failed', reason: envelope_error }),
        duplicate: false,
      };
    }
    return { row: await applyStored(deps, tx, row, settings, 0, input.payload), duplicate: false };
  });
}

/** Deferred events applied in a chain (a refund waiting for a payment...) stop at this depth. */
const MAX_DEPTH = 3;

/**
 * Maps and applies a stored event inside a savepoint. A failure that is the event's (a shape Perks
 * cannot read, a refusal by a use case, data the store refuses) rolls back to the savepoint and marks
 * the event failed with the reason; a failure of the store itself (a lost connection, a serialization
 * failure) propagates so that the whole transaction is retried or the request fails and Stripe
 * delivers the event again.
 */
export async function applyStored(
  deps: Deps,
  tx: Sql,
  row: StripeEventRow,
  settings: Settings | undefined,
  depth = 0,
  /** The event as received, when it is at hand; else the stored payload is read from the row. */
  payload?: unknown,
): Promise<StripeEventRow> {
  const ws = row.workspace_id;
  const handler = HANDLERS.get(row.type);
  const envelope = stripeEventEnvelope.safeParse(payload ?? row.payload);
  if (!handler || !envelope.success) {
    return finish(deps, tx, row, {
      status: 'failed',
      reason: handler
        ? 'the stored event does not have the shape of a Stripe event'
        : `Perks does not handle '${row.type}' events`,
    });
  }
  const ctx: HandlerContext = {
    deps,
    tx,
    workspaceId: ws,
    event: { id: row.stripe_event_id, type: row.type, occurred_at: row.occurred_at },
    settings: {
      api_key: settings?.api_key ?? null,
      plan_units_key: settings?.plan_units_key ?? DEFAULT_PLAN_UNITS_KEY,
    },
  };
  const savepoint = `stripe_event_${depth}`;
  await tx.query(`savepoint ${savepoint}`);
  let outcome: StripeEventOutcome;
  try {
    const decided = await handler.handle(ctx, envelope.data.data.object);
    if (decided.kind === 'ignore') outcome = { status: 'ignored', reason: decided.reason };
    else if (decided.kind === 'defer')
      outcome = { status: 'deferred', reason: decided.reason, waiting_key: decided.key };
    else {
      const applied: EventResult[] = decided.events.length
        ? await ingestEvents(deps, tx, ws, 'stripe', decided.events)
        : [];
      const extra = decided.after ? await decided.after() : undefined;
      const resolved: { id: string; status: string }[] = [];
      if (depth < MAX_DEPTH) {
        for (const key of decided.resolves ?? []) {
          for (const waiting of await deferredEvents(tx, ws, key)) {
            const done = await applyStored(deps, tx, waiting, settings, depth + 1);
            resolved.push({ id: done.stripe_event_id, status: done.status });
          }
        }
      }
      outcome = {
        status: 'processed',
        result: {
          billing_events: applied.map((r) => ({
            id: r.id,
            type: r.type,
            outcome: r.outcome,
            duplicate: r.duplicate,
            ...(r.referral ? { referral: r.referral } : {}),
          })),
          ...extra,
          ...(resolved.length ? { resolved } : {}),
        },
      };
    }
    // The savepoint is left to end with the transaction: releasing it would cost a round trip and change nothing.
  } catch (err) {
    if (isStoreFailure(err)) throw err;
    await tx.query(`rollback to savepoint ${savepoint}`);
    await tx.query(`release savepoint ${savepoint}`);
    outcome = { status: 'failed', reason: describeFailure(err) };
  }
  return finish(deps, tx, row, outcome);
}

async function finish(deps: Deps, tx: Sql, row: StripeEventRow, outcome: StripeEventOutcome) {
  const marked = await markStripeEvent(deps, tx, row.workspace_id, row.id, outcome);
  if (marked.status === 'failed') {
    await emitWebhookEvent(deps, tx, row.workspace_id, 'stripe_event.failed', stripeEventView(marked));
  }
  return marked;
}

/**
 * SQLSTATE classes that say the store, not the event, failed: connection (08), resources (53),
 * operator intervention (57), system (58), serialization failure and deadlock (40001, 40P01). Errors
 * with a non-SQL code (ECONNRESET, ...) are the network to the store.
 */
function isStoreFailure(err: unknown): boolean {
  if (isPerksError(err) || err instanceof StripeShapeError) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (!/^[0-9A-Z]{5}$/.test(code)) return true;
  return ['08', '53', '57', '58'].includes(code.slice(0, 2)) || code === '40001' || code === '40P01';
}

function describeFailure(err: unknown): string {
  if (isPerksError(err)) return `${err.code}: ${err.message}`.slice(0, 1000);
  if (err instanceof StripeShapeError) return err.message.slice(0, 1000);
  const code = (err as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message ?? String(err)}`.slice(
    0,
    1000,
  );
}

/**
 * Applies a failed, ignored or deferred event again from its stored payload, with the workspace's
 * current settings: the way to recover once the cause is fixed.
 */
export async function retryStripeEvent(deps: Deps, tx: Sql, workspaceId: string, ref: string) {
  const row = await requireStripeEvent(tx, workspaceId, ref, true);
  if (row.status === 'processed' || row.status === 'received') {
    throw new PerksError(
      'stripe_event_not_retryable',
      `Stripe event '${ref}' is ${row.status}; only a failed, ignored or deferred event can be retried`,
      'id',
    );
  }
  const settings = await getStripeSettings(tx, workspaceId);
  return stripeEventView(await applyStored(deps, tx, row, settings));
}
