import { enqueue, type OutboxInput, WEBHOOK_MAX_ATTEMPTS } from './outbox.js';
import type { Deps, Sql } from './ports.js';

/**
 * Outbound webhooks to the user's product. A use case that wants the product told about something
 * calls `emitWebhookEvent` inside its own transaction: the delivery rows commit with the decision or
 * not at all, and the delivery worker sends them afterwards, signed, at least once.
 */

/** Every event type Perks sends, with what it means. `data` is the resource as the API shows it. */
export const WEBHOOK_EVENTS = {
  'referral.created': 'A referral was attributed (data: the referral).',
  'referral.qualified': 'A referral met its program’s conditions; rewards follow (data: the referral).',
  'referral.rejected': 'A referral was refused, e.g. self-referral or a fraud rule (data: the referral).',
  'referral.reassigned': 'Support moved a referral to another referrer (data: the referral).',
  'reward.granted': 'A reward was granted to a referrer or a referee (data: the grant).',
  'reward.reversed': 'A reward was taken back, e.g. after a refund or dispute (data: the reversal).',
  'credits.applied': 'Credit was applied to an invoice (data: the invoice settlement).',
  'credits.expired': 'Unused credit expired (data: the customer, asset and amount).',
  'invoice.voided': 'A settled invoice was voided and its credit given back (data: the settlement).',
  'payout.requested': 'A commission withdrawal was requested (data: the payout).',
  'payout.approved': 'A payout was approved and paid (data: the payout).',
  'payout.rejected': 'A payout was rejected; the amount is back in the balance (data: the payout).',
  'payout.canceled': 'A payout was canceled by the customer (data: the payout).',
  'promotion_code.redeemed': 'A promotion code was redeemed (data: the redemption).',
  'redemption.voided': 'A redemption was voided (data: the redemption).',
  'referrer.suspended':
    'A referrer was suspended, e.g. after a year without new referrals (data: the customer).',
  'referrer.reinstated': 'A suspended referrer was reinstated (data: the customer).',
  'stripe_event.failed':
    'A Stripe event could not be applied; retry it after a fix (data: the Stripe event).',
  'stripe_call.failed': 'Perks gave up on a call to Stripe (data: the call and its error).',
  'webhook_endpoint.disabled': 'Another endpoint was disabled after failing for days (data: the endpoint).',
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as WebhookEventType[];

export interface EmittedWebhook {
  /** The message id, sent as the webhook-id header; null when no endpoint subscribes to the type. */
  id: string | null;
  deliveries: string[];
}

/** What deciding who gets an event needs to know of an endpoint. */
export interface WebhookSubscriber {
  id: string;
  event_types: string[];
  status: 'enabled' | 'disabled';
}

/** The one rule for who gets an event: the endpoints subscribed to its type, or to every type. */
export function subscribes(endpoint: WebhookSubscriber, type: WebhookEventType): boolean {
  return endpoint.event_types.includes('*') || endpoint.event_types.includes(type);
}

/**
 * The outbox rows that deliver one event to the endpoints subscribed to its type, one per endpoint,
 * all under one message id. Endpoints that are disabled get their delivery written as canceled, so it
 * shows in their delivery log and can be recovered when they are re-enabled. Writing the rows is the
 * caller's: `emitWebhookEvent` does it in a statement of its own, a ledger operation with its other
 * writes (see ledger_posting.ts).
 */
export function webhookDeliveries(
  deps: Deps,
  endpoints: readonly WebhookSubscriber[],
  type: WebhookEventType,
  data: unknown,
): { id: string | null; rows: OutboxInput[] } {
  const subscribed = endpoints.filter((e) => subscribes(e, type));
  if (subscribed.length === 0) return { id: null, rows: [] };
  const id = deps.ids.id('msg');
  const body = JSON.stringify({ id, type, timestamp: deps.clock.now().toISOString(), data });
  return {
    id,
    rows: subscribed.map((endpoint) => ({
      kind: 'webhook' as const,
      endpoint_id: endpoint.id,
      event_id: id,
      event_type: type,
      payload: { body },
      max_attempts: WEBHOOK_MAX_ATTEMPTS,
      ...(endpoint.status === 'disabled'
        ? { status: 'canceled' as const, last_error: 'the endpoint was disabled when the event happened' }
        : {}),
    })),
  };
}

/** The prefix of a delivery's id (its outbox row). */
export const DELIVERY_ID_PREFIX = 'whd';

/**
 * Queues one delivery of the event per endpoint subscribed to its type, in the caller's transaction.
 */
export async function emitWebhookEvent(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  type: WebhookEventType,
  data: unknown,
): Promise<EmittedWebhook> {
  const endpoints = await tx.query<WebhookSubscriber>(
    'select id, event_types, status from webhook_endpoints where workspace_id = $1',
    [workspaceId],
  );
  const { id, rows } = webhookDeliveries(deps, endpoints, type, data);
  if (rows.length === 0) return { id: null, deliveries: [] };
  const written = await enqueue(deps, tx, workspaceId, rows, DELIVERY_ID_PREFIX);
  return { id, deliveries: written.map((r) => r.id) };
}
