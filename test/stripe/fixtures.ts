import { readFileSync } from 'node:fs';
import { stripeClient } from '../../src/adapters/billing/stripe/client.js';

/**
 * Stripe payloads for tests, built from Stripe's published example objects (fixtures/stripe-objects.json)
 * with only the fields a scenario needs changed, and signed with the SDK's own test header helper.
 */

export type Json = Record<string, any>;

const resources: Record<string, Json> = JSON.parse(
  readFileSync(new URL('./fixtures/stripe-objects.json', import.meta.url), 'utf8'),
).resources;

const clone = <T>(value: T): T => structuredClone(value);

/** A deep copy of one of Stripe's example objects with `changes` merged in (objects merge, arrays replace). */
export function stripeObject(name: string, changes: Json = {}): Json {
  const base = resources[name];
  if (!base) throw new Error(`no Stripe example object '${name}'`);
  return merge(clone(base), changes);
}

function merge(target: Json, changes: Json): Json {
  for (const [key, value] of Object.entries(changes)) {
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      target[key] &&
      typeof target[key] === 'object'
    ) {
      target[key] = merge(target[key], value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z, in Unix seconds as Stripe sends times
const DAY = 86_400;

let serial = 0;
export const uniqueId = (prefix: string) => `${prefix}_${process.pid}x${(++serial).toString(36)}`;

/** A Stripe event envelope around `object`, shaped like Stripe's example event. */
export function stripeEvent(
  type: string,
  object: Json,
  options: { id?: string; created?: number } = {},
): Json {
  const event = stripeObject('event', {
    id: options.id ?? uniqueId('evt'),
    type,
    created: options.created ?? T0,
  });
  event.data = { object: clone(object) };
  return event;
}

export function customer(id: string, changes: Json = {}): Json {
  return stripeObject('customer', { id, email: `${id}@example.com`, name: `Team ${id}`, ...changes });
}

export function paymentMethod(id: string, customerId: string | null, fingerprint: string): Json {
  return stripeObject('payment_method', { id, customer: customerId, card: { fingerprint } });
}

/** A monthly subscription to one price, `units` stated in the price's metadata when given. */
export function subscription(
  id: string,
  customerId: string,
  options: { status?: string; units?: string; interval?: string; start?: number; unit_amount?: number } = {},
): Json {
  const sub = stripeObject('subscription', {
    id,
    customer: customerId,
    status: options.status ?? 'active',
    current_period_start: options.start ?? T0,
    current_period_end: (options.start ?? T0) + 30 * DAY,
  });
  const item = sub.items.data[0];
  item.subscription = id;
  item.price.recurring.interval = options.interval ?? 'month';
  item.price.unit_amount = options.unit_amount ?? 2000;
  item.price.metadata = options.units === undefined ? {} : { perks_plan_units: options.units };
  return sub;
}

/** An invoice for a subscription: a draft (invoice.created) or paid (invoice.paid). */
export function invoice(
  id: string,
  customerId: string,
  options: {
    subscription?: string | null;
    status?: 'draft' | 'paid';
    amount?: number;
    payment_intent?: string | null;
    interval?: string;
    start?: number;
  } = {},
): Json {
  const amount = options.amount ?? 2000;
  const paid = options.status === 'paid';
  const start = options.start ?? T0;
  const inv = stripeObject('invoice', {
    id,
    customer: customerId,
    subscription: options.subscription ?? null,
    status: options.status ?? 'draft',
    subtotal: amount,
    total: amount,
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    paid,
    payment_intent: options.payment_intent ?? null,
    period_start: start,
    period_end: start,
  });
  const line = inv.lines.data[0];
  line.amount = amount;
  line.subscription = options.subscription ?? null;
  line.type = options.subscription ? 'subscription' : 'invoiceitem';
  line.period = { start, end: start + 30 * DAY };
  line.price.recurring = options.subscription
    ? { interval: options.interval ?? 'month', interval_count: 1 }
    : null;
  line.price.type = options.subscription ? 'recurring' : 'one_time';
  return inv;
}

export function charge(
  id: string,
  options: { customer?: string | null; payment_intent?: string | null; refunded?: number },
) {
  return stripeObject('charge', {
    id,
    customer: options.customer ?? null,
    payment_intent: options.payment_intent ?? null,
    amount: 2000,
    amount_captured: 2000,
    amount_refunded: options.refunded ?? 0,
    refunded: (options.refunded ?? 0) > 0,
  });
}

export function dispute(id: string, chargeId: string, paymentIntent: string | null): Json {
  return stripeObject('dispute', { id, charge: chargeId, payment_intent: paymentIntent });
}

const signer = stripeClient('sk_test_fixtures').webhooks;

/** A signing secret as Stripe formats them. */
export const newSigningSecret = () => `whsec_${Buffer.from(uniqueId('secret')).toString('base64url')}test`;

/**
 * The body and headers Stripe would send: the JSON body and a Stripe-Signature made by the SDK's test
 * helper. `secrets` sign with several v1 signatures (as during a rotation); `timestamp` is in seconds.
 */
export function signed(
  event: Json | string,
  secrets: string | string[],
  options: { timestamp?: number } = {},
): { body: string; headers: Record<string, string> } {
  const body = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
  const list = Array.isArray(secrets) ? secrets : [secrets];
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers = list.map((secret) => signer.generateTestHeaderString({ payload: body, secret, timestamp }));
  // Several secrets: one t= and every v1= signature, as Stripe sends during a secret rotation.
  const signatures = headers.flatMap((h) => h.split(',').filter((part) => part.startsWith('v1=')));
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'stripe-signature': [`t=${timestamp}`, ...signatures].join(','),
    },
  };
}
