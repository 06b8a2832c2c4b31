import assert from 'node:assert/strict';
import type { Harness, Reply } from '../helpers/harness.js';
import { customer, newSigningSecret, signed, stripeEvent, subscription, uniqueId } from './fixtures.js';

/** A workspace of the harness set up for Stripe: a signing secret and, optionally, an API key. */
export interface StripeWorkspace {
  workspaceId: string;
  key: string;
  secret: string;
  /** Sends a Stripe event to the workspace's webhook URL, signed with its secret (or `secrets`). */
  send(
    event: Record<string, any> | string,
    options?: { secrets?: string[]; timestamp?: number },
  ): Promise<Reply>;
}

export async function stripeWorkspace(
  h: Harness,
  options: {
    apiKey?: string | null;
    planUnitsKey?: string;
    tenant?: { key: string; workspaceId: string };
  } = {},
): Promise<StripeWorkspace> {
  const tenant = options.tenant ?? (await h.newWorkspace('stripe'));
  const secret = newSigningSecret();
  const put = await h.request('PUT', '/v1/stripe/settings', {
    key: tenant.key,
    body: {
      webhook_secrets: [secret],
      ...(options.apiKey === undefined ? {} : { api_key: options.apiKey }),
      ...(options.planUnitsKey ? { plan_units_key: options.planUnitsKey } : {}),
    },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  return {
    ...tenant,
    secret,
    send(event, sendOptions = {}) {
      const { body, headers } = signed(event, sendOptions.secrets ?? secret, {
        timestamp: sendOptions.timestamp ?? Math.floor(h.clock.now().getTime() / 1000),
      });
      return h.request('POST', `/v1/stripe/webhook/${tenant.workspaceId}`, {
        key: null,
        rawBody: body,
        headers,
      });
    },
  };
}

/** Sends and asserts a 200 receipt with the given status. */
export async function expectReceipt(reply: Reply, status: string, what = ''): Promise<Reply> {
  assert.equal(reply.status, 200, `${what}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.status, status, `${what}: ${JSON.stringify(reply.body)}`);
  return reply;
}

/** A promotion with `terms` and one code for it (a new one starting with `prefix`); answers the code. */
export async function promotionCode(
  h: Harness,
  ws: StripeWorkspace,
  terms: Record<string, unknown>,
  prefix: string,
): Promise<string> {
  const promotion = await h.request('POST', '/v1/promotions', {
    key: ws.key,
    body: { name: prefix, ...terms },
  });
  assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
  const code = uniqueId(prefix);
  const made = await h.request('POST', '/v1/promotion_codes', {
    key: ws.key,
    body: { promotion: promotion.body.id, code },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return code;
}

/** A customer with an active monthly subscription from T0, both from Stripe events. */
export async function subscribedCustomer(ws: StripeWorkspace): Promise<{ cus: string; sub: string }> {
  const cus = uniqueId('cus');
  const sub = uniqueId('sub');
  await expectReceipt(await ws.send(stripeEvent('customer.created', customer(cus))), 'processed');
  await expectReceipt(
    await ws.send(stripeEvent('customer.subscription.created', subscription(sub, cus))),
    'processed',
  );
  return { cus, sub };
}

/** A subscribed customer (from Stripe events) with `credit_cents` of usd credit. */
export async function creditedCustomer(h: Harness, ws: StripeWorkspace, credit_cents: number) {
  const { cus, sub } = await subscribedCustomer(ws);
  const asset = await h.request('POST', '/v1/assets', {
    key: ws.key,
    body: { key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit' },
  });
  assert.ok(asset.status === 201 || asset.status === 200, JSON.stringify(asset.body));
  const grant = await h.request('POST', `/v1/customers/${cus}/grants`, {
    key: ws.key,
    body: {
      asset: 'usd_credit',
      amount: credit_cents,
      reason: 'welcome',
      reference: uniqueId('grant'),
      source: { type: 'manual', actor: 'ops@example.com' },
    },
  });
  assert.equal(grant.status, 201, JSON.stringify(grant.body));
  return { cus, sub };
}

/** A subscribed customer (from Stripe events) who redeemed a 50% `once` code for the subscription. */
export async function halfOffOnce(h: Harness, ws: StripeWorkspace) {
  const { cus, sub } = await subscribedCustomer(ws);
  const code = await promotionCode(h, ws, { percent_off_bps: 5000, duration: 'once' }, 'HALF');
  const redeemed = await h.request('POST', '/v1/promotion_codes/redeem', {
    key: ws.key,
    body: { code, customer: cus, subscription: sub },
  });
  assert.equal(redeemed.status, 201, JSON.stringify(redeemed.body));
  return { cus, sub, redemption: redeemed.body.id as string };
}
