import assert from 'node:assert/strict';
import type { Harness, Reply } from '../helpers/harness.js';
import { newSigningSecret, signed, uniqueId } from './fixtures.js';

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
