/**
 * Ledger throughput through the HTTP API on PostgreSQL at 64 connections, against a plain SQL script
 * (bench/ledger_fixtures.ts) that writes the same ledger rows into its own database.
 *
 * (a) Grants: POST /v1/customers/{id}/grants, each to one of 1,000 customers, unique references.
 *     Baseline, per grant, one transaction: lock or create the account row (insert ... on conflict do
 *     update returning), insert the lot, insert the entry, update the balance.
 * (b) Settles: POST /v1/invoices/settle, each invoice of one of the same customers, applying credit
 *     from the lots the grants made (each settle takes 1 or 2 lots). Baseline, per invoice, one
 *     transaction: claim the invoice row, lock the account, read its open lots, update each lot taken
 *     and insert its entry, update the balance and the settlement.
 *
 * The baseline runs 20 transactions in flight, the server's default DATABASE_POOL_SIZE, so PostgreSQL
 * sees the same concurrency from both. Each side runs an untimed warm-up first; both must end with
 * the same row counts and balances, which is checked. Target: Perks at least 50% of the baseline.
 */
import { BaselineLedger, customerName, ledgerCounts, SERVER_POOL, seedServer } from './ledger_fixtures.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  inParallel,
  type LoadResult,
  load,
  scaled,
  startServer,
  timed,
} from './lib.js';

const CONNECTIONS = 64;
const CUSTOMERS = 1_000;
const GRANT_CENTS = 1_000;
const SETTLE_CENTS = 300;
const GRANTS = { warmup: scaled(1_000, 64), timed: scaled(8_000, 64) };
const SETTLES = { warmup: scaled(1_000, 64), timed: scaled(8_000, 64) };
const ASSETS = [{ key: 'usd_credit', kind: 'money' as const, currency: 'usd', purpose: 'credit' as const }];

const grantBody = (i: number) =>
  JSON.stringify({
    asset: 'usd_credit',
    amount: GRANT_CENTS,
    reason: 'referral reward',
    reference: `g_${i}`,
    source: { type: 'program', id: 'bench' },
  });
const customerOf = (i: number) => i % CUSTOMERS;
const settleBody = (i: number) =>
  JSON.stringify({
    invoice_id: `in_${i}`,
    customer: customerName(customerOf(i)),
    currency: 'usd',
    subtotal_cents: SETTLE_CENTS,
  });

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const serverDb = await createBenchDatabase(ctx.databaseUrl);
  const baselineDb = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(serverDb.url);
    const baseline = await BaselineLedger.open(baselineDb.url, SERVER_POOL, ASSETS, CUSTOMERS);
    try {
      ctx.log(`seeding ${CUSTOMERS} customers`);
      await seedServer(server, ASSETS, CUSTOMERS);
      const clients = await Promise.all(Array.from({ length: SERVER_POOL }, () => baseline.pool.connect()));
      const sql = async (count: number, from: number, op: (i: number, slot: number) => Promise<void>) => {
        const items = Array.from({ length: count }, (_, k) => from + k);
        return timed(() => inParallel(items, SERVER_POOL, (i, slot) => op(i, slot)));
      };
      const http = (count: number, from: number, path: (i: number) => string, body: (i: number) => string) =>
        load({
          url: server.url,
          key: server.key,
          connections: CONNECTIONS,
          requests: count,
          method: 'POST',
          setupRequest: (k) => ({ path: path(from + k), body: body(from + k) }),
        });

      try {
        // (a) grants
        const grantPath = (i: number) => `/v1/customers/${customerName(customerOf(i))}/grants`;
        const grant = (i: number, slot: number) =>
          baseline.grant(clients[slot]!, customerOf(i), 'usd_credit', GRANT_CENTS, `g_${i}`, null);
        ctx.log(`grants: ${GRANTS.warmup} warm-up, ${GRANTS.timed} timed, each side`);
        await http(GRANTS.warmup, 0, grantPath, grantBody);
        const grantsHttp: LoadResult = await http(GRANTS.timed, GRANTS.warmup, grantPath, grantBody);
        await sql(GRANTS.warmup, 0, grant);
        const grantsSql = await sql(GRANTS.timed, GRANTS.warmup, grant);

        // (b) settles
        const settle = (i: number, slot: number) =>
          baseline.settle(clients[slot]!, customerOf(i), `in_${i}`, SETTLE_CENTS);
        ctx.log(`settles: ${SETTLES.warmup} warm-up, ${SETTLES.timed} timed, each side`);
        await http(SETTLES.warmup, 0, () => '/v1/invoices/settle', settleBody);
        const settlesHttp = await http(
          SETTLES.timed,
          SETTLES.warmup,
          () => '/v1/invoices/settle',
          settleBody,
        );
        await sql(SETTLES.warmup, 0, settle);
        const settlesSql = await sql(SETTLES.timed, SETTLES.warmup, settle);

        const perks = await ledgerCounts(serverDb.url, server.workspaceId);
        const plain = await ledgerCounts(baselineDb.url, baseline.ws);
        if (JSON.stringify(perks) !== JSON.stringify(plain) || perks.accounts_out_of_step !== 0) {
          throw new Error(`Perks and the baseline wrote different rows: ${JSON.stringify({ perks, plain })}`);
        }
        ctx.log(`both sides: ${JSON.stringify(perks)}`);

        const grantsBaseline = GRANTS.timed / grantsSql.seconds;
        const settlesBaseline = SETTLES.timed / settlesSql.seconds;
        return [
          benchResult({
            name: `POST /v1/customers/{id}/grants, ${CONNECTIONS} connections`,
            unit: 'grants/s',
            value: grantsHttp.requestsPerSecond,
            baseline: {
              name: `SQL, 1 transaction per grant, ${SERVER_POOL} connections`,
              value: grantsBaseline,
            },
            target: '>= 0.50× baseline',
            met: grantsHttp.requestsPerSecond >= 0.5 * grantsBaseline,
            notes: `latency p50 ${grantsHttp.latencyP50_ms} ms, p99 ${grantsHttp.latencyP99_ms} ms`,
          }),
          benchResult({
            name: `POST /v1/invoices/settle, ${CONNECTIONS} connections`,
            unit: 'settles/s',
            value: settlesHttp.requestsPerSecond,
            baseline: {
              name: `SQL, 1 transaction per invoice, ${SERVER_POOL} connections`,
              value: settlesBaseline,
            },
            target: '>= 0.50× baseline',
            met: settlesHttp.requestsPerSecond >= 0.5 * settlesBaseline,
            notes: `latency p50 ${settlesHttp.latencyP50_ms} ms, p99 ${settlesHttp.latencyP99_ms} ms`,
          }),
        ];
      } finally {
        for (const c of clients) c.release();
      }
    } finally {
      await baseline.close();
      await server.stop();
    }
  } finally {
    await serverDb.drop();
    await baselineDb.drop();
  }
}
