import type Stripe from 'stripe';
import { claimDue, completeOutbox, failOutbox, type OutboxRow, retryDelay_ms } from '../../../app/outbox.js';
import { emitWebhookEvent } from '../../../app/outbox_webhooks.js';
import type { Deps } from '../../../app/ports.js';
import {
  recordSentAfterCancel,
  type StripeCall,
  type StripeCallPayload,
  stripeCallSendable,
  stripeCallView,
} from '../../../app/stripe_calls.js';
import { getStripeSettings } from '../../../app/stripe_settings.js';
import { stripeClients } from './client.js';

export interface StripeCallWorkerOptions {
  apiBase?: string | undefined;
  /** How long one call to Stripe may take (default 30 s). */
  timeout_ms?: number | undefined;
  batch?: number | undefined;
  random?: (() => number) | undefined;
  log?: ((message: string, err?: unknown) => void) | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** The lease outlasts the SDK's timeout, so one call is never in flight twice at once. */
const LEASE_MARGIN_MS = 15_000;

/**
 * Sends one call with the official SDK and the row's Idempotency-Key; answers the id of what Stripe
 * created or deleted.
 */
async function perform(stripe: Stripe, call: StripeCall, idempotencyKey: string): Promise<{ id: string }> {
  switch (call.operation) {
    case 'invoiceItems.create': {
      const item = await stripe.invoiceItems.create(call.params, { idempotencyKey });
      return { id: item.id };
    }
    case 'invoiceItems.del': {
      // Stripe keeps no Idempotency-Key for a DELETE: a deletion sent again after a lost answer finds
      // the item gone (404 resource_missing), which is the outcome asked for.
      try {
        const deleted = await stripe.invoiceItems.del(call.params.id, {}, { idempotencyKey });
        return { id: deleted.id };
      } catch (err) {
        const e = err as { statusCode?: number; code?: string };
        if (e.statusCode === 404 && e.code === 'resource_missing') return { id: call.params.id };
        throw err;
      }
    }
  }
}

interface Classified {
  message: string;
  /** A 4xx other than 409 and 429: sending it again would get the same answer. */
  permanent: boolean;
  status_code: number | null;
}

/**
 * Network errors, timeouts, 5xx, 429 (rate limited) and 409 (the same Idempotency-Key is still being
 * processed) are worth retrying; any other 4xx is Stripe refusing the call, which retrying cannot fix.
 */
export function classifyStripeError(err: unknown): Classified {
  const e = err as { statusCode?: number; type?: string; message?: string; code?: string };
  const status = typeof e.statusCode === 'number' ? e.statusCode : null;
  const message = `${e.type ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
  const transient = status === null || status >= 500 || status === 429 || status === 409;
  return { message, permanent: !transient, status_code: status };
}

export async function sendDueStripeCalls(deps: Deps, options: StripeCallWorkerOptions): Promise<number> {
  const timeout_ms = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const rows = await claimDue(deps, deps.db, 'stripe_call', options.batch ?? 8, timeout_ms + LEASE_MARGIN_MS);
  const client = clientsFor(options.apiBase, timeout_ms);
  await Promise.all(
    rows.map((row) =>
      sendOne(deps, row, client, options).catch((err: unknown) =>
        options.log?.(`Stripe call ${row.id} could not be recorded; it will be sent again`, err),
      ),
    ),
  );
  return rows.length;
}

const clientCaches = new Map<string, (apiKey: string) => Stripe>();
function clientsFor(apiBase: string | undefined, timeout_ms: number) {
  const key = `${apiBase ?? ''} ${timeout_ms}`;
  let clients = clientCaches.get(key);
  if (!clients) {
    clients = stripeClients(apiBase, timeout_ms);
    clientCaches.set(key, clients);
  }
  return clients;
}

async function sendOne(
  deps: Deps,
  row: OutboxRow,
  clients: (apiKey: string) => Stripe,
  options: StripeCallWorkerOptions,
) {
  const payload = row.payload as StripeCallPayload;
  // A call canceled since the claim (its settlement voided) is not sent.
  if (!(await stripeCallSendable(deps, row))) return;
  const settings = await getStripeSettings(deps.db, row.workspace_id);
  const random = options.random ?? Math.random;
  let outcome: { ok: true; id: string } | { ok: false; failure: Classified };
  if (!settings?.api_key) {
    outcome = {
      ok: false,
      failure: {
        message: 'no Stripe API key is configured for this workspace (PUT /v1/stripe/settings)',
        permanent: false,
        status_code: null,
      },
    };
  } else {
    try {
      const created = await perform(clients(settings.api_key), payload.call, payload.idempotency_key);
      outcome = { ok: true, id: created.id };
    } catch (err) {
      outcome = { ok: false, failure: classifyStripeError(err) };
    }
  }
  await deps.db.transaction(async (tx) => {
    if (outcome.ok) {
      const result = { id: outcome.id };
      // Fenced out: another claim owns the row, or a void canceled it while it was sent.
      if (!(await completeOutbox(deps, tx, row, result))) await recordSentAfterCancel(deps, tx, row, result);
      return;
    }
    const { failure } = outcome;
    const status = await failOutbox(deps, tx, row, {
      error: failure.message,
      permanent: failure.permanent,
      delay_ms: retryDelay_ms('stripe_call', row.attempts, random()),
      result: { permanent: failure.permanent, status_code: failure.status_code },
    });
    if (status === 'failed') {
      const [failed] = await tx.query<OutboxRow>('select * from outbox where workspace_id = $1 and id = $2', [
        row.workspace_id,
        row.id,
      ]);
      await emitWebhookEvent(deps, tx, row.workspace_id, 'stripe_call.failed', stripeCallView(failed!));
    }
  });
}
