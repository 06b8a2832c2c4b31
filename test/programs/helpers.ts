import assert from 'node:assert/strict';
import type { Harness } from '../helpers/harness.js';

/**
 * Drives the HTTP API the way a billing integration does: events through POST /v1/events, each at
 * the harness clock's current time unless told otherwise.
 */

export const DAY_MS = 86_400_000;
let counter = 0;
const nextId = (prefix: string) => `${prefix}_${process.pid}_${++counter}`;

export interface Events {
  send(events: object | object[], key?: string): Promise<any>;
  customerCreated(
    externalId: string,
    extra?: Record<string, unknown>,
    customer?: Record<string, unknown>,
  ): object;
  cardAttached(customer: string, fingerprint: string, extra?: Record<string, unknown>): object;
  subscription(
    customer: string,
    sub: {
      id: string;
      plan_units?: number;
      interval?: 'month' | 'year';
      status?: string;
      amount?: number;
      plan_id?: string;
    },
  ): object;
  canceled(customer: string, subscription: string): object;
  payment(
    customer: string,
    payment: {
      id: string;
      amount: number;
      interval?: 'month' | 'year';
      period_start?: string;
      subscription?: string;
      currency?: string;
    },
  ): object;
  refunded(customer: string, payment: string, amount_refunded?: number): object;
  disputed(customer: string, payment: string): object;
}

export function events(h: Harness): Events {
  const at = () => h.clock.now().toISOString();
  const base = (type: string, data: object) => ({ id: nextId('evt'), type, occurred_at: at(), data });
  return {
    async send(list, key) {
      const body = Array.isArray(list) ? { events: list } : list;
      const res = await h.request('POST', '/v1/events', { body, ...(key ? { key } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    customerCreated: (externalId, extra = {}, customer = {}) =>
      base('customer.created', { customer: { external_id: externalId, ...customer }, ...extra }),
    cardAttached: (customer, fingerprint, extra = {}) =>
      base('card.attached', { customer, payment_method: { fingerprint }, ...extra }),
    subscription: (customer, sub) => {
      const start = h.clock.now();
      const interval = sub.interval ?? 'month';
      const end = new Date(start);
      if (interval === 'month') end.setUTCMonth(end.getUTCMonth() + 1);
      else end.setUTCFullYear(end.getUTCFullYear() + 1);
      return base('subscription.updated', {
        customer,
        subscription: {
          id: sub.id,
          plan_id: sub.plan_id ?? 'plan',
          ...(sub.plan_units !== undefined ? { plan_units: sub.plan_units } : {}),
          interval,
          status: sub.status ?? 'active',
          current_period_start: start.toISOString(),
          current_period_end: end.toISOString(),
          amount: sub.amount ?? 2900,
          currency: 'usd',
        },
      });
    },
    canceled: (customer, subscription) =>
      base('subscription.canceled', { customer, subscription: { id: subscription } }),
    payment: (customer, p) => base('payment.succeeded', { customer, payment: { currency: 'usd', ...p } }),
    refunded: (customer, payment, amount_refunded) =>
      base('payment.refunded', {
        customer,
        payment: { id: payment, ...(amount_refunded !== undefined ? { amount_refunded } : {}) },
      }),
    disputed: (customer, payment) => base('payment.disputed', { customer, payment: { id: payment } }),
  };
}

/** The customer's available balance of an asset (0 when it has no account for it). */
export async function balance(h: Harness, customer: string, asset: string, key?: string): Promise<number> {
  const res = await h.request(
    'GET',
    `/v1/customers/${encodeURIComponent(customer)}/balances`,
    key ? { key } : {},
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.find((b: { asset: string }) => b.asset === asset)?.available ?? 0;
}

export async function balanceDetail(h: Harness, customer: string, asset: string) {
  const res = await h.request('GET', `/v1/customers/${encodeURIComponent(customer)}/balances`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.find((b: { asset: string }) => b.asset === asset);
}

export async function fromTemplate(h: Harness, template: string, key?: string) {
  const res = await h.request('POST', '/v1/programs/from_template', {
    body: { template, landing_url: 'https://app.example.com/signup' },
    ...(key ? { key } : {}),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

export async function codeFor(h: Harness, customer: string, program: string, key?: string): Promise<string> {
  const res = await h.request('POST', `/v1/customers/${encodeURIComponent(customer)}/referral_code`, {
    body: { program },
    ...(key ? { key } : {}),
  });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body.code;
}

export async function referralsOf(h: Harness, customer: string, query = '') {
  const res = await h.request(
    'GET',
    `/v1/customers/${encodeURIComponent(customer)}/referrals?limit=100${query}`,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as any[];
}

export async function summaryOf(h: Harness, customer: string, program: string) {
  const res = await h.request(
    'GET',
    `/v1/customers/${encodeURIComponent(customer)}/referral_summary?program=${program}`,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.programs[0];
}

export async function referral(h: Harness, id: string) {
  const res = await h.request('GET', `/v1/referrals/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

export const unique = (prefix: string) => nextId(prefix);
