/**
 * Event ingestion through POST /v1/events on PostgreSQL, against a plain SQL script that writes the
 * same rows (the events rows and the customers, payments, payment_methods and subscriptions rows those
 * events produce) from one process with the pg client.
 *
 * (a) single events, one per request, at 64 concurrent connections.
 *     Baseline: one transaction per event (begin; insert customer if new; insert event; insert or
 *     upsert the state row; commit), 20 transactions in flight, which is the server's default
 *     DATABASE_POOL_SIZE, so PostgreSQL sees the same concurrency from both.
 * (b) batches of 1,000 events, one batch per request, one request at a time.
 *     Baseline: one transaction per 1,000-event batch with one multi-row INSERT per table (unnest of
 *     arrays; customers, cards and subscriptions deduplicated within the batch and sorted, so batches
 *     would lock rows in one order if several ran at once), one batch at a time.
 *
 * Both sides get the same synthetic events: 70% payment.succeeded, 15% card.attached and 15%
 * subscription.updated, for 3,000 customers, with unique event ids and increasing occurred_at. Each
 * side runs a warm-up share of the events first, untimed, and both end with the same row counts,
 * which is checked.
 */
import pg from 'pg';
import { systemIds } from '../src/adapters/system.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  countRows,
  createBenchDatabase,
  inParallel,
  LoadFailedError,
  type LoadResult,
  load,
  scaled,
  seededRandom,
  startServer,
  timed,
} from './lib.js';

const CUSTOMERS = 3_000;
const SINGLE = {
  connections: 64,
  baselineConnections: 20,
  warmupEvents: scaled(1_000, 64),
  events: scaled(10_000, 64),
};
// Batches go one at a time: concurrent batches that name the same new customers in different orders
// currently deadlock in PostgreSQL (see docs/benchmarks.md), and a benchmark must not count failures.
const BATCH = { connections: 1, size: 1_000, warmupBatches: scaled(2, 1), batches: scaled(12, 2) };
const STATE_TABLES = ['events', 'customers', 'payments', 'payment_methods', 'subscriptions'] as const;
const SEED = 20_260_101;
const EPOCH_MS = Date.parse('2026-01-01T00:00:00Z');
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------------
// The synthetic events: event i is a pure function of (scenario, i), so the HTTP side and the
// baseline see exactly the same ones.

interface Customer {
  external_id: string;
}

type BenchEvent =
  | {
      id: string;
      type: 'payment.succeeded';
      occurred_at: string;
      data: {
        customer: string;
        payment: {
          id: string;
          amount: number;
          currency: string;
          interval: 'month' | 'year';
          period_start: string;
          period_end: string;
          subscription: string;
        };
      };
    }
  | {
      id: string;
      type: 'card.attached';
      occurred_at: string;
      data: {
        customer: string;
        payment_method: { id: string; fingerprint: string; brand: string; last4: string };
      };
    }
  | {
      id: string;
      type: 'subscription.updated';
      occurred_at: string;
      data: {
        customer: string;
        subscription: {
          id: string;
          plan_id: string;
          plan_units: number;
          interval: 'month' | 'year';
          status: 'active' | 'past_due';
          current_period_start: string;
          current_period_end: string;
          amount: number;
          currency: string;
        };
      };
    };

const PLANS = [
  { id: 'starter', units: 1_000, month: 900, year: 9_000 },
  { id: 'pro', units: 10_000, month: 2_900, year: 29_000 },
  { id: 'team', units: 50_000, month: 9_900, year: 99_000 },
] as const;
const BRANDS = ['visa', 'mastercard', 'amex'] as const;

const iso = (ms: number) => new Date(ms).toISOString();

function makeEvent(scenario: string, i: number): BenchEvent {
  const random = seededRandom(SEED + i * 7_919 + scenario.charCodeAt(0));
  const c = Math.floor(random() * CUSTOMERS);
  const customer = `team_${String(c).padStart(5, '0')}`;
  const interval = c % 10 === 0 ? 'year' : 'month';
  const plan = PLANS[c % PLANS.length]!;
  const at = EPOCH_MS + i * 1_000;
  const periodStart = at - (at % DAY_MS);
  const periodEnd = periodStart + (interval === 'year' ? 365 : 30) * DAY_MS;
  const id = `evt_${scenario}_${String(i).padStart(7, '0')}`;
  const roll = random();
  if (roll < 0.7) {
    return {
      id,
      type: 'payment.succeeded',
      occurred_at: iso(at),
      data: {
        customer,
        payment: {
          id: `pi_${scenario}_${i}`,
          amount: plan[interval],
          currency: 'usd',
          interval,
          period_start: iso(periodStart),
          period_end: iso(periodEnd),
          subscription: `sub_${customer}`,
        },
      },
    };
  }
  if (roll < 0.85) {
    // Most teams attach one card and sometimes re-attach it; some attach a second one.
    const k = random() < 0.8 ? 0 : 1;
    return {
      id,
      type: 'card.attached',
      occurred_at: iso(at),
      data: {
        customer,
        payment_method: {
          id: `pm_${scenario}_${i}`,
          fingerprint: `fp_${c}_${k}`,
          brand: BRANDS[(c + k) % BRANDS.length]!,
          last4: String((c * 7 + k) % 10_000).padStart(4, '0'),
        },
      },
    };
  }
  return {
    id,
    type: 'subscription.updated',
    occurred_at: iso(at),
    data: {
      customer,
      subscription: {
        id: `sub_${customer}`,
        plan_id: plan.id,
        plan_units: plan.units,
        interval,
        status: random() < 0.95 ? 'active' : 'past_due',
        current_period_start: iso(periodStart),
        current_period_end: iso(periodEnd),
        amount: plan[interval],
        currency: 'usd',
      },
    },
  };
}

function makeEvents(scenario: string, from: number, count: number): BenchEvent[] {
  return Array.from({ length: count }, (_, k) => makeEvent(scenario, from + k));
}

function customerOf(e: BenchEvent): Customer {
  return { external_id: e.data.customer };
}

// ---------------------------------------------------------------------------------------------------
// The baseline: plain SQL from one process

/** What a hand-written loader would keep in memory: the ids it gave to customers. */
class Baseline {
  private readonly ids = systemIds();
  private readonly customerIds = new Map<string, string>();

  constructor(
    readonly pool: pg.Pool,
    readonly workspaceId: string,
  ) {}

  static async open(url: string, connections: number): Promise<Baseline> {
    const pool = new pg.Pool({ connectionString: url, max: connections });
    pool.on('error', () => {});
    const ids = systemIds();
    const workspaceId = ids.id('ws');
    await pool.query('insert into workspaces (workspace_id, name, created_at) values ($1, $2, now())', [
      workspaceId,
      'baseline',
    ]);
    return new Baseline(pool, workspaceId);
  }

  customerId(c: Customer): string {
    let id = this.customerIds.get(c.external_id);
    if (!id) {
      id = this.ids.id('cus');
      this.customerIds.set(c.external_id, id);
    }
    return id;
  }

  /** One transaction per event, as many statements as a straightforward script would send. */
  async insertOne(client: pg.PoolClient, e: BenchEvent): Promise<void> {
    const ws = this.workspaceId;
    const now = new Date();
    const customerId = this.customerId(customerOf(e));
    await client.query('begin');
    try {
      await client.query(
        `insert into customers (workspace_id, id, external_id, state_as_of, created_at, updated_at)
         values ($1, $2, $3, null, $4, $4) on conflict (workspace_id, external_id) do nothing`,
        [ws, customerId, e.data.customer, now],
      );
      await client.query(
        `insert into events (workspace_id, source, event_id, id, type, occurred_at, payload, outcome, received_at)
         values ($1, 'api', $2, $3, $4, $5, $6, 'applied', $7)`,
        [ws, e.id, this.ids.id('evt'), e.type, e.occurred_at, JSON.stringify(e), now],
      );
      switch (e.type) {
        case 'payment.succeeded': {
          const p = e.data.payment;
          await client.query(
            `insert into payments (workspace_id, id, external_id, customer_id, subscription_external_id, amount,
               currency, interval, period_start, period_end, status, amount_refunded, paid_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'succeeded', 0, $11, $12, $12)`,
            [
              ws,
              this.ids.id('pay'),
              p.id,
              customerId,
              p.subscription,
              p.amount,
              p.currency,
              p.interval,
              p.period_start,
              p.period_end,
              e.occurred_at,
              now,
            ],
          );
          break;
        }
        case 'card.attached': {
          const pm = e.data.payment_method;
          await client.query(
            `insert into payment_methods (workspace_id, id, customer_id, external_id, fingerprint, brand, last4,
               attached_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (workspace_id, customer_id, fingerprint) do update set
               attached_at = least(payment_methods.attached_at, excluded.attached_at),
               brand = coalesce(excluded.brand, payment_methods.brand),
               last4 = coalesce(excluded.last4, payment_methods.last4),
               external_id = coalesce(payment_methods.external_id, excluded.external_id)`,
            [ws, this.ids.id('pm'), customerId, pm.id, pm.fingerprint, pm.brand, pm.last4, e.occurred_at],
          );
          break;
        }
        case 'subscription.updated': {
          const s = e.data.subscription;
          await client.query(
            `insert into subscriptions (workspace_id, id, external_id, customer_id, plan_id, plan_units, interval,
               status, current_period_start, current_period_end, amount, currency, state_as_of, created_at,
               updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
             on conflict (workspace_id, external_id) do update set
               plan_id = excluded.plan_id, plan_units = excluded.plan_units, interval = excluded.interval,
               status = excluded.status, current_period_start = excluded.current_period_start,
               current_period_end = excluded.current_period_end, amount = excluded.amount,
               currency = excluded.currency, state_as_of = excluded.state_as_of, updated_at = excluded.updated_at
             where subscriptions.state_as_of <= excluded.state_as_of`,
            [
              ws,
              this.ids.id('sub'),
              s.id,
              customerId,
              s.plan_id,
              s.plan_units,
              s.interval,
              s.status,
              s.current_period_start,
              s.current_period_end,
              s.amount,
              s.currency,
              e.occurred_at,
              now,
            ],
          );
          break;
        }
      }
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  }

  /** Runs single-event transactions with `connections` in flight. */
  async insertSingles(events: readonly BenchEvent[], connections: number): Promise<void> {
    const clients = await Promise.all(Array.from({ length: connections }, () => this.pool.connect()));
    try {
      await inParallel(events, connections, (e, slot) => this.insertOne(clients[slot]!, e));
    } finally {
      for (const client of clients) client.release();
    }
  }

  /**
   * One transaction per batch and one INSERT per table. Rows that the same batch touches twice (a
   * card re-attached, a subscription updated twice) are merged first, because one INSERT ... ON
   * CONFLICT DO UPDATE may not touch a row twice; the merge keeps what the server would end with.
   */
  async insertBatch(client: pg.PoolClient, batch: readonly BenchEvent[]): Promise<void> {
    const ws = this.workspaceId;
    const now = new Date();
    const customers = new Map<string, string>();
    const events = { event_id: [] as string[], id: [] as string[], type: [] as string[], at: [] as string[] };
    const payloads: string[] = [];
    const payments = {
      id: [] as string[],
      external_id: [] as string[],
      customer_id: [] as string[],
      subscription: [] as string[],
      amount: [] as number[],
      currency: [] as string[],
      interval: [] as string[],
      period_start: [] as string[],
      period_end: [] as string[],
      paid_at: [] as string[],
    };
    const cards = new Map<
      string,
      { customerId: string; e: Extract<BenchEvent, { type: 'card.attached' }> }
    >();
    const subs = new Map<
      string,
      { customerId: string; e: Extract<BenchEvent, { type: 'subscription.updated' }> }
    >();
    for (const e of batch) {
      const customerId = this.customerId(customerOf(e));
      customers.set(e.data.customer, customerId);
      events.event_id.push(e.id);
      events.id.push(this.ids.id('evt'));
      events.type.push(e.type);
      events.at.push(e.occurred_at);
      payloads.push(JSON.stringify(e));
      if (e.type === 'payment.succeeded') {
        const p = e.data.payment;
        payments.id.push(this.ids.id('pay'));
        payments.external_id.push(p.id);
        payments.customer_id.push(customerId);
        payments.subscription.push(p.subscription);
        payments.amount.push(p.amount);
        payments.currency.push(p.currency);
        payments.interval.push(p.interval);
        payments.period_start.push(p.period_start);
        payments.period_end.push(p.period_end);
        payments.paid_at.push(e.occurred_at);
      } else if (e.type === 'card.attached') {
        // Events come in occurred_at order, so the first attachment of a card is the earliest.
        const key = `${customerId} ${e.data.payment_method.fingerprint}`;
        if (!cards.has(key)) cards.set(key, { customerId, e });
      } else {
        subs.set(e.data.subscription.id, { customerId, e });
      }
    }
    const sortedCustomers = [...customers.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const sortedCards = [...cards.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    const sortedSubs = [...subs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);

    await client.query('begin');
    try {
      await client.query(
        `insert into customers (workspace_id, id, external_id, state_as_of, created_at, updated_at)
         select $1, u.id, u.external_id, null, $4, $4 from unnest($2::text[], $3::text[]) as u(id, external_id)
         on conflict (workspace_id, external_id) do nothing`,
        [ws, sortedCustomers.map(([, id]) => id), sortedCustomers.map(([ext]) => ext), now],
      );
      await client.query(
        `insert into events (workspace_id, source, event_id, id, type, occurred_at, payload, outcome, received_at)
         select $1, 'api', u.event_id, u.id, u.type, u.at, u.payload::jsonb, 'applied', $7
         from unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
           as u(event_id, id, type, at, payload)`,
        [ws, events.event_id, events.id, events.type, events.at, payloads, now],
      );
      if (payments.id.length > 0) {
        await client.query(
          `insert into payments (workspace_id, id, external_id, customer_id, subscription_external_id, amount,
             currency, interval, period_start, period_end, status, amount_refunded, paid_at, created_at, updated_at)
           select $1, u.id, u.external_id, u.customer_id, u.subscription, u.amount, u.currency, u.interval,
             u.period_start, u.period_end, 'succeeded', 0, u.paid_at, $12, $12
           from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
             $9::timestamptz[], $10::timestamptz[], $11::timestamptz[])
             as u(id, external_id, customer_id, subscription, amount, currency, interval, period_start,
               period_end, paid_at)`,
          [
            ws,
            payments.id,
            payments.external_id,
            payments.customer_id,
            payments.subscription,
            payments.amount,
            payments.currency,
            payments.interval,
            payments.period_start,
            payments.period_end,
            payments.paid_at,
            now,
          ],
        );
      }
      if (sortedCards.length > 0) {
        await client.query(
          `insert into payment_methods (workspace_id, id, customer_id, external_id, fingerprint, brand, last4,
             attached_at)
           select $1, u.id, u.customer_id, u.external_id, u.fingerprint, u.brand, u.last4, u.attached_at
           from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
             as u(id, customer_id, external_id, fingerprint, brand, last4, attached_at)
           on conflict (workspace_id, customer_id, fingerprint) do update set
             attached_at = least(payment_methods.attached_at, excluded.attached_at),
             brand = coalesce(excluded.brand, payment_methods.brand),
             last4 = coalesce(excluded.last4, payment_methods.last4),
             external_id = coalesce(payment_methods.external_id, excluded.external_id)`,
          [
            ws,
            sortedCards.map(() => this.ids.id('pm')),
            sortedCards.map((v) => v.customerId),
            sortedCards.map((v) => v.e.data.payment_method.id),
            sortedCards.map((v) => v.e.data.payment_method.fingerprint),
            sortedCards.map((v) => v.e.data.payment_method.brand),
            sortedCards.map((v) => v.e.data.payment_method.last4),
            sortedCards.map((v) => v.e.occurred_at),
          ],
        );
      }
      if (sortedSubs.length > 0) {
        const s = sortedSubs.map((v) => v.e.data.subscription);
        await client.query(
          `insert into subscriptions (workspace_id, id, external_id, customer_id, plan_id, plan_units, interval,
             status, current_period_start, current_period_end, amount, currency, state_as_of, created_at,
             updated_at)
           select $1, u.id, u.external_id, u.customer_id, u.plan_id, u.plan_units, u.interval, u.status,
             u.period_start, u.period_end, u.amount, u.currency, u.state_as_of, $14, $14
           from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
             $9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::text[], $13::timestamptz[])
             as u(id, external_id, customer_id, plan_id, plan_units, interval, status, period_start, period_end,
               amount, currency, state_as_of)
           on conflict (workspace_id, external_id) do update set
             plan_id = excluded.plan_id, plan_units = excluded.plan_units, interval = excluded.interval,
             status = excluded.status, current_period_start = excluded.current_period_start,
             current_period_end = excluded.current_period_end, amount = excluded.amount,
             currency = excluded.currency, state_as_of = excluded.state_as_of, updated_at = excluded.updated_at
           where subscriptions.state_as_of <= excluded.state_as_of`,
          [
            ws,
            s.map(() => this.ids.id('sub')),
            s.map((x) => x.id),
            sortedSubs.map((v) => v.customerId),
            s.map((x) => x.plan_id),
            s.map((x) => x.plan_units),
            s.map((x) => x.interval),
            s.map((x) => x.status),
            s.map((x) => x.current_period_start),
            s.map((x) => x.current_period_end),
            s.map((x) => x.amount),
            s.map((x) => x.currency),
            sortedSubs.map((v) => v.e.occurred_at),
            now,
          ],
        );
      }
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  }

  async insertBatches(batches: readonly BenchEvent[][], connections: number): Promise<void> {
    const clients = await Promise.all(Array.from({ length: connections }, () => this.pool.connect()));
    try {
      await inParallel(batches, connections, (b, slot) => this.insertBatch(clients[slot]!, b));
    } finally {
      for (const client of clients) client.release();
    }
  }

  close() {
    return this.pool.end();
  }
}

// ---------------------------------------------------------------------------------------------------
// The two scenarios

interface Measured {
  eventsPerSecond: number;
  latencyP50_ms: number;
  latencyP99_ms: number;
  counts: Record<string, number>;
  stale: number;
}

/** Sends `bodies` (one request each) through the real server: first the warm-up ones, then the timed ones. */
async function throughServer(
  ctx: BenchContext,
  label: string,
  warmup: readonly string[],
  timedBodies: readonly string[],
  eventsPerRequest: number,
  connections: number,
): Promise<Measured> {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(database.url);
    try {
      const send = (bodies: readonly string[], timeout_s: number) =>
        load({
          url: server.url,
          key: server.key,
          connections: Math.min(connections, bodies.length),
          requests: bodies.length,
          method: 'POST',
          path: '/v1/events',
          timeout_s,
          // autocannon asks for one body per request sent. It asks for more only when it resends after a
          // connection error, and then load() fails the run, so wrapping around cannot inflate a figure.
          setupRequest: (i) => ({ body: bodies[i % bodies.length]! }),
        });
      const timeout_s = eventsPerRequest > 1 ? 120 : 30;
      let result: LoadResult;
      try {
        await send(warmup, timeout_s);
        result = await send(timedBodies, timeout_s);
      } catch (err) {
        if (err instanceof LoadFailedError) err.message += `\nserver output:\n${server.output()}`;
        throw err;
      }
      const eventsPerSecond = result.requestsPerSecond * eventsPerRequest;
      ctx.log(
        `${label} through HTTP: ${result.ok} requests in ${result.elapsed_s.toFixed(2)} s, ` +
          `${Math.round(eventsPerSecond)} events/s, p50 ${result.latencyP50_ms} ms, p99 ${result.latencyP99_ms} ms`,
      );
      const counts = await countRows(database.url, STATE_TABLES);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const stale = await client
        .query<{ n: string }>(`select count(*) as n from events where outcome = 'stale'`)
        .finally(() => client.end());
      return {
        eventsPerSecond,
        latencyP50_ms: result.latencyP50_ms,
        latencyP99_ms: result.latencyP99_ms,
        counts,
        stale: Number(stale.rows[0]!.n),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

async function throughSql(
  ctx: BenchContext,
  label: string,
  connections: number,
  run: (baseline: Baseline, phase: 'warmup' | 'timed') => Promise<number>,
): Promise<{ eventsPerSecond: number; counts: Record<string, number> }> {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const baseline = await Baseline.open(database.url, connections);
    try {
      await run(baseline, 'warmup');
      const { result: events, seconds } = await timed(() => run(baseline, 'timed'));
      const eventsPerSecond = events / seconds;
      ctx.log(
        `${label} baseline: ${events} events in ${seconds.toFixed(2)} s, ${Math.round(eventsPerSecond)} events/s`,
      );
      return { eventsPerSecond, counts: await countRows(database.url, STATE_TABLES) };
    } finally {
      await baseline.close();
    }
  } finally {
    await database.drop();
  }
}

function sameRows(label: string, perks: Record<string, number>, sql: Record<string, number>, events: number) {
  const differences = STATE_TABLES.filter((t) => perks[t] !== sql[t]);
  if (perks.events !== events || differences.length > 0) {
    throw new Error(
      `${label}: Perks and the baseline did not write the same rows (expected ${events} events): ` +
        `Perks ${JSON.stringify(perks)}, baseline ${JSON.stringify(sql)}`,
    );
  }
}

const connectionsLabel = (n: number) => (n === 1 ? '1 connection' : `${n} connections`);

const rowSummary = (counts: Record<string, number>) =>
  STATE_TABLES.map((t) => `${counts[t]!.toLocaleString('en-US')} ${t}`).join(', ');

async function singleEvents(ctx: BenchContext): Promise<BenchResult> {
  const label = 'single events';
  const warmup = makeEvents('a', 0, SINGLE.warmupEvents);
  const measured = makeEvents('a', SINGLE.warmupEvents, SINGLE.events);
  const perks = await throughServer(
    ctx,
    label,
    warmup.map((e) => JSON.stringify(e)),
    measured.map((e) => JSON.stringify(e)),
    1,
    SINGLE.connections,
  );
  const sql = await throughSql(ctx, label, SINGLE.baselineConnections, async (baseline, phase) => {
    const events = phase === 'warmup' ? warmup : measured;
    await baseline.insertSingles(events, SINGLE.baselineConnections);
    return events.length;
  });
  const total = SINGLE.warmupEvents + SINGLE.events;
  sameRows(label, perks.counts, sql.counts, total);
  return benchResult({
    name: `POST /v1/events, 1 event per request, ${SINGLE.connections} connections`,
    unit: 'events/s',
    value: perks.eventsPerSecond,
    baseline: {
      name: `SQL, 1 transaction per event, ${SINGLE.baselineConnections} connections`,
      value: sql.eventsPerSecond,
    },
    notes:
      `${SINGLE.events.toLocaleString('en-US')} timed events after ${SINGLE.warmupEvents.toLocaleString('en-US')} ` +
      `warm-up; latency p50 ${perks.latencyP50_ms} ms, p99 ${perks.latencyP99_ms} ms; ` +
      `both wrote ${rowSummary(perks.counts)}; ${perks.stale} late subscription updates kept as stale`,
  });
}

async function batches(ctx: BenchContext): Promise<BenchResult> {
  const label = 'batches';
  const batchOf = (n: number) => makeEvents('b', n * BATCH.size, BATCH.size);
  const warmup = Array.from({ length: BATCH.warmupBatches }, (_, n) => batchOf(n));
  const measured = Array.from({ length: BATCH.batches }, (_, n) => batchOf(BATCH.warmupBatches + n));
  const body = (events: BenchEvent[]) => JSON.stringify({ events });
  const perks = await throughServer(
    ctx,
    label,
    warmup.map(body),
    measured.map(body),
    BATCH.size,
    BATCH.connections,
  );
  const sql = await throughSql(ctx, label, BATCH.connections, async (baseline, phase) => {
    const list = phase === 'warmup' ? warmup : measured;
    await baseline.insertBatches(list, BATCH.connections);
    return list.length * BATCH.size;
  });
  const total = (BATCH.warmupBatches + BATCH.batches) * BATCH.size;
  sameRows(label, perks.counts, sql.counts, total);
  return benchResult({
    name: `POST /v1/events, batches of ${BATCH.size.toLocaleString('en-US')}, ${connectionsLabel(BATCH.connections)}`,
    unit: 'events/s',
    value: perks.eventsPerSecond,
    baseline: {
      name: `SQL, 1 transaction and 1 multi-row INSERT per table per batch, ${connectionsLabel(BATCH.connections)}`,
      value: sql.eventsPerSecond,
    },
    notes:
      `${BATCH.batches} timed batches after ${BATCH.warmupBatches} warm-up; request latency p50 ` +
      `${perks.latencyP50_ms} ms, p99 ${perks.latencyP99_ms} ms; both wrote ${rowSummary(perks.counts)}; ` +
      `${perks.stale} late subscription updates kept as stale`,
  });
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  return [await singleEvents(ctx), await batches(ctx)];
}
