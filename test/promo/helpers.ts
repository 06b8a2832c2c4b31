import assert from 'node:assert/strict';
import type { Harness, Reply } from '../helpers/harness.js';

/** Shared set-up for the promotion tests: promotions, codes and customers through the public API. */

export async function createPromotion(h: Harness, body: Record<string, unknown>, key?: string) {
  const res = await h.request('POST', '/v1/promotions', {
    body: { name: 'Promo', ...body },
    ...(key ? { key } : {}),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; [k: string]: unknown };
}

export async function createCode(h: Harness, body: Record<string, unknown>, key?: string) {
  const res = await h.request('POST', '/v1/promotion_codes', { body, ...(key ? { key } : {}) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; code: string; times_redeemed: number; [k: string]: unknown };
}

export async function createCustomer(h: Harness, externalId: string, key?: string) {
  const res = await h.request('POST', '/v1/customers', {
    body: { external_id: externalId },
    ...(key ? { key } : {}),
  });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body as { id: string; external_id: string };
}

/** Many customers at once, straight into the store (the API path is covered elsewhere). */
export async function seedCustomers(h: Harness, prefix: string, n: number, workspaceId = h.workspaceId) {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
  await h.db.query(
    `insert into customers (workspace_id, id, external_id, created_at, updated_at)
     select $1, 'cus_' || x, x, now(), now() from unnest($2::text[]) as x`,
    [workspaceId, ids],
  );
  return ids;
}

export function redeem(h: Harness, body: Record<string, unknown>, headers?: Record<string, string>) {
  return h.request('POST', '/v1/promotion_codes/redeem', { body, ...(headers ? { headers } : {}) });
}

export function validate(h: Harness, body: Record<string, unknown>) {
  return h.request('POST', '/v1/promotion_codes/validate', { body });
}

export function errorCode(res: Reply): string | undefined {
  return res.body?.error?.code;
}

/** Sends a billing event through POST /v1/events. */
export async function sendEvent(h: Harness, event: Record<string, unknown>) {
  const res = await h.request('POST', '/v1/events', { body: event });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

let serial = 0;
export function uniqueId(prefix: string): string {
  serial += 1;
  return `${prefix}_${process.pid}_${serial}`;
}

export async function subscriptionEvent(
  h: Harness,
  customer: string,
  subscription: string,
  fields: {
    plan_id?: string;
    interval?: 'month' | 'year';
    amount?: number;
    currency?: string;
    current_period_start: string;
    current_period_end: string;
    occurred_at?: string;
  },
) {
  return sendEvent(h, {
    id: uniqueId('evt_sub'),
    type: 'subscription.updated',
    // By default the event happens as its period starts, or now if that is later than now: an
    // event from the future is refused.
    occurred_at:
      fields.occurred_at ??
      new Date(Math.min(Date.parse(fields.current_period_start), h.clock.now().getTime())).toISOString(),
    data: {
      customer,
      subscription: {
        id: subscription,
        plan_id: fields.plan_id ?? 'pro',
        interval: fields.interval ?? 'month',
        status: 'active',
        current_period_start: fields.current_period_start,
        current_period_end: fields.current_period_end,
        amount: fields.amount ?? 2900,
        currency: fields.currency ?? 'usd',
      },
    },
  });
}

export async function paymentEvent(
  h: Harness,
  customer: string,
  fields: {
    /** The payment's id; a new one when absent. */
    id?: string;
    subscription?: string;
    amount?: number;
    period_start?: string;
    period_end?: string;
    occurred_at: string;
  },
) {
  return sendEvent(h, {
    id: uniqueId('evt_pay'),
    type: 'payment.succeeded',
    occurred_at: fields.occurred_at,
    data: {
      customer,
      payment: {
        id: fields.id ?? uniqueId('pay'),
        amount: fields.amount ?? 2900,
        currency: 'usd',
        ...(fields.subscription ? { subscription: fields.subscription } : {}),
        ...(fields.period_start ? { period_start: fields.period_start } : {}),
        ...(fields.period_end ? { period_end: fields.period_end } : {}),
      },
    },
  });
}

/** Refunds `amount_refunded` of the payment `paymentId` (all of it when absent). */
export async function refundEvent(
  h: Harness,
  customer: string,
  paymentId: string,
  fields: { amount_refunded?: number; occurred_at: string },
) {
  return sendEvent(h, {
    id: uniqueId('evt_refund'),
    type: 'payment.refunded',
    occurred_at: fields.occurred_at,
    data: {
      customer,
      payment: {
        id: paymentId,
        ...(fields.amount_refunded === undefined ? {} : { amount_refunded: fields.amount_refunded }),
      },
    },
  });
}

/** The Perks id (sub_...) of the subscription the caller calls `externalId`. */
export async function subscriptionPerksId(h: Harness, externalId: string): Promise<string> {
  const [row] = await h.db.query<{ id: string }>(
    'select id from subscriptions where workspace_id = $1 and external_id = $2',
    [h.workspaceId, externalId],
  );
  if (!row) throw new Error(`no subscription '${externalId}'`);
  return row.id;
}

/**
 * A new customer with a monthly subscription whose current period, [start, end), is already paid
 * (paid five minutes after it started): a code redeemed for it now discounts the next period.
 */
export async function paidSubscription(
  h: Harness,
  customer: string,
  subscription: string,
  period: { start: string; end: string },
) {
  await createCustomer(h, customer);
  await subscriptionEvent(h, customer, subscription, {
    current_period_start: period.start,
    current_period_end: period.end,
  });
  await paymentEvent(h, customer, {
    subscription,
    period_start: period.start,
    period_end: period.end,
    occurred_at: new Date(Date.parse(period.start) + 5 * 60_000).toISOString(),
  });
}
