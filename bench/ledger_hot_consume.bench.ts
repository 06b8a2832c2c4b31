/**
 * One hot customer: POST /v1/customers/{id}/consumptions on a single customer's minutes through the
 * HTTP API at 64 connections, against the naive way to do it in SQL: in one transaction, SELECT the
 * customer's open lots in burn-down order FOR UPDATE, update the lots taken, insert their entries and
 * update the balance. Perks instead locks the one account row, reads the open lots without locking
 * them, and writes everything in one statement.
 *
 * Both sides start from the same 60 lots (a third never expire, the rest expire in 10 to 40 days),
 * consume 1 to 9 minutes per request, and must end with the same rows and balance. The baseline runs
 * 20 transactions in flight, the server's default pool. Target: Perks at least as fast as the baseline.
 */
import { BaselineLedger, customerName, ledgerCounts, SERVER_POOL, seedServer } from './ledger_fixtures.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  inParallel,
  load,
  scaled,
  startServer,
  timed,
} from './lib.js';

const CONNECTIONS = 64;
const LOTS = 60;
const LOT_MINUTES = 100_000;
const CONSUMES = { warmup: scaled(500, 64), timed: scaled(5_000, 64) };
const ASSETS = [{ key: 'minutes', kind: 'units' as const, unit: 'minutes', purpose: 'credit' as const }];
const DAY_MS = 86_400_000;

const amountOf = (i: number) => 1 + ((i * 7) % 9);
const expiryOf = (lot: number, now: number) =>
  lot % 3 === 0 ? null : new Date(now + (10 + (lot % 31)) * DAY_MS);

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const serverDb = await createBenchDatabase(ctx.databaseUrl);
  const baselineDb = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(serverDb.url);
    const baseline = await BaselineLedger.open(baselineDb.url, SERVER_POOL, ASSETS, 1);
    try {
      await seedServer(server, ASSETS, 1);
      const now = Date.now();
      const hot = customerName(0);
      await load({
        url: server.url,
        key: server.key,
        connections: 1,
        requests: LOTS,
        method: 'POST',
        path: `/v1/customers/${hot}/grants`,
        setupRequest: (lot) => {
          const at = expiryOf(lot, now);
          return {
            body: JSON.stringify({
              asset: 'minutes',
              amount: LOT_MINUTES,
              reason: 'bonus minutes',
              reference: `lot_${lot}`,
              source: { type: 'program', id: 'bench' },
              expires: at ? { type: 'at', at: at.toISOString() } : { type: 'never' },
            }),
          };
        },
      });
      const clients = await Promise.all(Array.from({ length: SERVER_POOL }, () => baseline.pool.connect()));
      try {
        for (let lot = 0; lot < LOTS; lot++) {
          await baseline.grant(clients[0]!, 0, 'minutes', LOT_MINUTES, `lot_${lot}`, expiryOf(lot, now));
        }
        const http = (count: number, from: number) =>
          load({
            url: server.url,
            key: server.key,
            connections: CONNECTIONS,
            requests: count,
            method: 'POST',
            path: `/v1/customers/${hot}/consumptions`,
            setupRequest: (k) => ({ body: JSON.stringify({ asset: 'minutes', amount: amountOf(from + k) }) }),
          });
        const sql = (count: number, from: number) =>
          timed(() =>
            inParallel(
              Array.from({ length: count }, (_, k) => from + k),
              SERVER_POOL,
              (i, slot) => baseline.consumeNaive(clients[slot]!, 0, 'minutes', amountOf(i)),
            ),
          );
        ctx.log(`hot customer: ${CONSUMES.warmup} warm-up, ${CONSUMES.timed} timed consumptions, each side`);
        await http(CONSUMES.warmup, 0);
        const perks = await http(CONSUMES.timed, CONSUMES.warmup);
        await sql(CONSUMES.warmup, 0);
        const naive = await sql(CONSUMES.timed, CONSUMES.warmup);

        const a = await ledgerCounts(serverDb.url, server.workspaceId);
        const b = await ledgerCounts(baselineDb.url, baseline.ws);
        if (
          a.customer_balance_total !== b.customer_balance_total ||
          a.accounts_out_of_step + b.accounts_out_of_step > 0
        ) {
          throw new Error(
            `Perks and the baseline disagree on the balance: ${JSON.stringify({ perks: a, naive: b })}`,
          );
        }
        ctx.log(
          `both sides end at ${a.customer_balance_total} minutes; entries ${a.ledger_entries} vs ${b.ledger_entries}`,
        );
        const baselineRate = CONSUMES.timed / naive.seconds;
        return [
          benchResult({
            name: `POST /v1/customers/{id}/consumptions, one hot customer, ${CONNECTIONS} connections`,
            unit: 'consumes/s',
            value: perks.requestsPerSecond,
            baseline: {
              name: `SQL, naive SELECT ... FOR UPDATE of the lots, ${SERVER_POOL} connections`,
              value: baselineRate,
            },
            target: '>= 1.00× baseline',
            met: perks.requestsPerSecond >= baselineRate,
            notes: `latency p50 ${perks.latencyP50_ms} ms, p99 ${perks.latencyP99_ms} ms`,
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
