/**
 * Signed Stripe webhooks accepted per second through POST /v1/stripe/webhook/{workspace} (signature
 * verification with the official SDK, the event stored first, then mapped and applied), at 64
 * connections on PostgreSQL, against the same run's bare provider-neutral ingestion: the same facts
 * sent as single events to POST /v1/events at 64 connections, on a server and database of its own.
 *
 * Both sides get the same facts for 3,000 customers: 70% paid invoices (invoice.paid ->
 * payment.succeeded), 15% card attachments (payment_method.attached -> card.attached) and 15%
 * subscription updates (customer.subscription.updated -> subscription.updated). The Stripe side sends
 * them as Stripe sends them: full objects shaped like Stripe's published examples, pretty-printed,
 * each signed with a Stripe-Signature made at send time. Both sides end with the same rows, which is
 * checked, and the Stripe side has one stored Stripe event per request.
 */
import {
  invoice,
  newSigningSecret,
  paymentMethod,
  signed,
  stripeEvent,
  subscription,
} from '../test/stripe/fixtures.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  countRows,
  createBenchDatabase,
  type LoadResult,
  load,
  type RunningServer,
  scaled,
  seededRandom,
  startServer,
} from './lib.js';

const CUSTOMERS = 3_000;
const CONNECTIONS = 64;
const WARMUP = scaled(500, 64);
const EVENTS = scaled(6_000, 64);
const SEED = 20_261_121;
const EPOCH_S = Date.parse('2026-01-01T00:00:00Z') / 1000;
const DAY_S = 86_400;
const TABLES = ['events', 'customers', 'payments', 'payment_methods', 'subscriptions'] as const;

interface Fact {
  kind: 'payment' | 'card' | 'subscription';
  i: number;
  customer: string;
  subscription: string;
  interval: 'month' | 'year';
  amount: number;
  units: number;
  at_s: number;
  period_start_s: number;
  period_end_s: number;
  fingerprint: string;
  status: 'active' | 'past_due';
}

function fact(i: number): Fact {
  const random = seededRandom(SEED + i * 7_919);
  const c = Math.floor(random() * CUSTOMERS);
  const interval = c % 10 === 0 ? 'year' : 'month';
  const at_s = EPOCH_S + i;
  const period_start_s = at_s - (at_s % DAY_S);
  const roll = random();
  return {
    kind: roll < 0.7 ? 'payment' : roll < 0.85 ? 'card' : 'subscription',
    i,
    customer: `cus_bench_${String(c).padStart(5, '0')}`,
    subscription: `sub_bench_${c}`,
    interval,
    amount: interval === 'year' ? 29_000 : 2_900,
    units: 10_000,
    at_s,
    period_start_s,
    period_end_s: period_start_s + (interval === 'year' ? 365 : 30) * DAY_S,
    fingerprint: `fp_${c}_${random() < 0.8 ? 0 : 1}`,
    status: random() < 0.95 ? 'active' : 'past_due',
  };
}

function stripeBody(f: Fact): Record<string, unknown> {
  const id = `evt_bench_${String(f.i).padStart(7, '0')}`;
  switch (f.kind) {
    case 'payment': {
      const inv = invoice(`in_bench_${f.i}`, f.customer, {
        subscription: f.subscription,
        status: 'paid',
        amount: f.amount,
        payment_intent: `pi_bench_${f.i}`,
        interval: f.interval,
        start: f.period_start_s,
      });
      (inv.lines as { data: { period: unknown }[] }).data[0]!.period = {
        start: f.period_start_s,
        end: f.period_end_s,
      };
      return stripeEvent('invoice.paid', inv, { id, created: f.at_s });
    }
    case 'card':
      return stripeEvent(
        'payment_method.attached',
        paymentMethod(`pm_bench_${f.i}`, f.customer, f.fingerprint),
        {
          id,
          created: f.at_s,
        },
      );
    case 'subscription': {
      const sub = subscription(f.subscription, f.customer, {
        status: f.status,
        units: String(f.units),
        interval: f.interval,
        start: f.period_start_s,
        unit_amount: f.amount,
      });
      sub.current_period_end = f.period_end_s;
      return stripeEvent('customer.subscription.updated', sub, { id, created: f.at_s });
    }
  }
}

const iso = (s: number) => new Date(s * 1000).toISOString();

/** The same fact as a provider-neutral event. */
function neutralBody(f: Fact): Record<string, unknown> {
  const base = { id: `evt_bench_${String(f.i).padStart(7, '0')}`, occurred_at: iso(f.at_s) };
  switch (f.kind) {
    case 'payment':
      return {
        ...base,
        type: 'payment.succeeded',
        data: {
          customer: f.customer,
          payment: {
            id: `pi_bench_${f.i}`,
            amount: f.amount,
            currency: 'usd',
            interval: f.interval,
            period_start: iso(f.period_start_s),
            period_end: iso(f.period_end_s),
            subscription: f.subscription,
          },
        },
      };
    case 'card':
      return {
        ...base,
        type: 'card.attached',
        data: {
          customer: f.customer,
          payment_method: { id: `pm_bench_${f.i}`, fingerprint: f.fingerprint, brand: 'visa', last4: '4242' },
        },
      };
    case 'subscription':
      return {
        ...base,
        type: 'subscription.updated',
        data: {
          customer: f.customer,
          subscription: {
            id: f.subscription,
            plan_id: 'price_1MoS37LgUG5tbmjcCA3GTNX8',
            plan_units: f.units,
            interval: f.interval,
            status: f.status,
            current_period_start: iso(f.period_start_s),
            current_period_end: iso(f.period_end_s),
            amount: f.amount,
            currency: 'usd',
          },
        },
      };
  }
}

async function run(
  ctx: BenchContext,
  name: string,
  prepare: (
    server: RunningServer,
  ) => Promise<(f: Fact) => { path: string; body: string; headers: Record<string, string> }>,
): Promise<{ load: LoadResult; counts: Record<string, number>; stripeEvents: number }> {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(database.url);
    try {
      const shape = await prepare(server);
      const send = (from: number, count: number) =>
        load({
          url: server.url,
          key: server.key,
          connections: CONNECTIONS,
          requests: count,
          setupRequest: (k) => ({ method: 'POST', ...shape(fact(from + k)) }),
        });
      await send(0, WARMUP);
      const timed = await send(WARMUP, EVENTS);
      ctx.log(
        `${name}: ${timed.requestsPerSecond.toFixed(0)} events/s, p50 ${timed.latencyP50_ms} ms, p99 ${timed.latencyP99_ms} ms`,
      );
      const counts = await countRows(database.url, TABLES);
      const stripeEvents = (await countRows(database.url, ['stripe_events'])).stripe_events!;
      return { load: timed, counts, stripeEvents };
    } catch (err) {
      throw new Error(`${(err as Error).message}\nserver output:\n${server.output()}`, { cause: err });
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

export default async function stripeWebhooks(ctx: BenchContext): Promise<BenchResult[]> {
  const baseline = await run(ctx, 'POST /v1/events (baseline)', async () => (f) => ({
    path: '/v1/events',
    body: JSON.stringify(neutralBody(f)),
    headers: { 'content-type': 'application/json' },
  }));
  const stripe = await run(ctx, 'POST /v1/stripe/webhook', async (server) => {
    const secret = newSigningSecret();
    const res = await fetch(`${server.url}/v1/stripe/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ webhook_secrets: [secret] }),
    });
    if (res.status !== 200)
      throw new Error(`PUT /v1/stripe/settings answered ${res.status}: ${await res.text()}`);
    return (f) => {
      // Stripe sends its pretty-printed JSON; the signature is made when the request is sent.
      const body = JSON.stringify(stripeBody(f), null, 2);
      const request = signed(body, secret, { timestamp: Math.floor(Date.now() / 1000) });
      return {
        path: `/v1/stripe/webhook/${server.workspaceId}`,
        body: request.body,
        headers: request.headers,
      };
    };
  });
  const total = WARMUP + EVENTS;
  for (const table of TABLES) {
    if (stripe.counts[table] !== baseline.counts[table]) {
      throw new Error(
        `the Stripe side and the baseline wrote different rows: ${JSON.stringify(stripe.counts)} vs ${JSON.stringify(baseline.counts)}`,
      );
    }
  }
  if (stripe.stripeEvents !== total || stripe.counts.events !== total) {
    throw new Error(
      `expected ${total} stored events, found ${stripe.stripeEvents} Stripe events and ${stripe.counts.events} events`,
    );
  }
  return [
    benchResult({
      name: `POST /v1/stripe/webhook, signed Stripe events, ${CONNECTIONS} connections`,
      unit: 'events/s',
      value: stripe.load.requestsPerSecond,
      baseline: {
        name: `POST /v1/events, the same facts as provider-neutral events, ${CONNECTIONS} connections`,
        value: baseline.load.requestsPerSecond,
      },
      target: '>= 0.5x the provider-neutral ingestion',
      met: stripe.load.requestsPerSecond >= 0.5 * baseline.load.requestsPerSecond,
      notes:
        `Stripe: p50 ${stripe.load.latencyP50_ms} ms, p99 ${stripe.load.latencyP99_ms} ms; ` +
        `provider-neutral: p50 ${baseline.load.latencyP50_ms} ms, p99 ${baseline.load.latencyP99_ms} ms`,
    }),
  ];
}
