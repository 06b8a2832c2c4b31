/**
 * Promo-code redemptions through POST /v1/promotion_codes/redeem on PostgreSQL, at 64 concurrent
 * HTTP connections, against pgbench running the naive redemption transaction in the same run, on the
 * same tables:
 *
 *   BEGIN; SELECT times_redeemed, max_redemptions FROM promotion_codes ... FOR UPDATE;
 *   (check in the client) INSERT INTO redemptions ...; UPDATE promotion_codes SET times_redeemed + 1;
 *   COMMIT;
 *
 * pgbench writes into a copy of the redemptions table with the same indexes and foreign key (to the
 * customer) but without Perks's commit-time trigger, runs 20 clients (the server's default pool, so PostgreSQL sees
 * as many transactions in flight from both sides), and runs before the server starts, so together
 * they never exceed the shared server's max_connections.
 *
 * (a) over distinct codes: every Perks request redeems another single-use code for another customer;
 *     pgbench picks codes at random from 200,000 (so its transactions rarely meet on a row either).
 *     Target: at least 50% of pgbench's rate, with p99 under 25 ms, both of the run with every
 *     connection always busy. Its latency is mostly the queue (64 / rate), so the p99 is also measured
 *     serving half of pgbench's rate over the same 64 connections, each request timed from when it was
 *     due, and compared with pgbench's p99 at that rate (its own row, target under 25 ms too).
 * (b) all on one hot code with a high limit, each request for another customer. The naive
 *     transaction holds the code's row lock from its SELECT ... FOR UPDATE across three more round
 *     trips to the COMMIT; Perks takes the code's counter in a trigger deferred to the end of its one
 *     write statement, so the lock is held for the commit alone, once for all the redemptions that
 *     statement carries. Target: faster than pgbench.
 *
 * Perks does more than the naive transaction in each redemption (API key, customer lookup, the
 * guessing counters, the per-customer limit, the subscription slot, the time window), all of which is
 * included in its figure. Requests carry no Idempotency-Key and the workspace has no webhook
 * endpoint, so each is two statements: the facts, then the write as one statement (its own
 * transaction), which the redemptions accepted while the previous write was in flight share; the API
 * key comes from the server's short cache after the first request.
 *
 * (c) generating 100,000 codes (one batch: the request, then the worker's chunks of 5,000, as the
 *     server's background worker runs them), against one INSERT ... SELECT of 100,000 random codes
 *     with ON CONFLICT DO NOTHING. Target: under 10 s.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { openPostgres } from '../src/adapters/db/db.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import type { Deps } from '../src/app/ports.js';
import { requestGeneration, workCodeBatches } from '../src/app/promo_batches.js';
import { createPromotion } from '../src/app/promo_promotions.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  load,
  type LoadResult,
  paced,
  latencySummary,
  scaled,
  settleDatabase,
  startServer,
  timed,
} from './lib.js';

const run = promisify(execFile);

const CONNECTIONS = 64;
/**
 * pgbench's clients: the server's default DATABASE_POOL_SIZE, so PostgreSQL sees as many
 * transactions in flight from both sides (and the shared server's max_connections is not exceeded).
 */
const PGBENCH_CLIENTS = 20;
const DURATION_S = scaled(15, 2);
const WARMUP_S = scaled(3, 1);
/** Codes and customers seeded for Perks: more than it can use in the run. */
const PERKS_POOL = scaled(250_000, 40_000);
/** Codes and customers pgbench picks from at random in (a). */
const PGBENCH_POOL = 200_000;
const GENERATE_COUNT = 100_000;
const PGBENCH_WORKSPACE = 'ws_pgbench';

async function sql(url: string, text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A promotion (never limited, one use per customer) with customers, inserted straight into the tables. */
async function seedPromotion(url: string, ws: string, promotionId: string, customers: number) {
  await sql(
    url,
    `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, max_per_customer,
       created_at)
     values ($1, $2, $2, 1000, 'once', 'UTC', 1, now())`,
    [ws, promotionId],
  );
  await sql(
    url,
    `insert into customers (workspace_id, id, external_id, created_at, updated_at)
     select $1, 'cus_bc_' || i, 'bc_' || i, now(), now() from generate_series(0, $2 - 1) as i
     on conflict do nothing`,
    [ws, customers],
  );
}

/** `count` codes `<prefix><i>` with ids `pcode_<prefix><i>`. */
async function seedCodes(
  url: string,
  ws: string,
  promotionId: string,
  prefix: string,
  count: number,
  max: number,
) {
  await sql(
    url,
    `insert into promotion_codes (workspace_id, id, promotion_id, code, max_redemptions, created_at)
     select $1, 'pcode_' || $3 || i, $2, $3 || i, $5, now() from generate_series(0, $4 - 1) as i`,
    [ws, promotionId, prefix, count, max],
  );
}

/**
 * pgbench's own workspace and tables. It writes to a copy of the redemptions table with the same
 * indexes and foreign keys, but without Perks's commit-time trigger, which would take the code's
 * counter a second time.
 */
async function seedPgbench(url: string) {
  await sql(url, `insert into workspaces (workspace_id, name) values ($1, 'pgbench')`, [PGBENCH_WORKSPACE]);
  await seedPromotion(url, PGBENCH_WORKSPACE, 'promo_pgbench', PGBENCH_POOL);
  await seedCodes(url, PGBENCH_WORKSPACE, 'promo_pgbench', 'PA', PGBENCH_POOL, 1_000_000);
  await seedCodes(url, PGBENCH_WORKSPACE, 'promo_pgbench', 'PGHOT', 1, 1_000_000_000);
  await sql(url, 'create table naive_redemptions (like redemptions including all)');
  await sql(
    url,
    `alter table naive_redemptions
       add foreign key (workspace_id, customer_id) references customers (workspace_id, id)`,
  );
  await settleDatabase(url);
}

/** The naive transaction as a pgbench script; `code` is an SQL expression for the code's text. */
function naiveScript(code: string): string {
  const ws = PGBENCH_WORKSPACE;
  return `\\set n random(0, ${PGBENCH_POOL - 1})
\\set c random(0, ${PGBENCH_POOL - 1})
BEGIN;
SELECT times_redeemed AS used, max_redemptions AS lim FROM promotion_codes
  WHERE workspace_id = '${ws}' AND code = ${code} FOR UPDATE \\gset
\\if :used < :lim
INSERT INTO naive_redemptions (workspace_id, id, promotion_id, promotion_code_id, code, customer_id,
  subscription_id, slot_key, stackable, periods_total, applies_from, metadata, redeemed_at)
  VALUES ('${ws}', 'redm_pgb_' || gen_random_uuid(), 'promo_pgbench', 'pcode_' || ${code}, ${code},
  'cus_bc_' || :c, 'sub_' || :c, 'sub:sub_' || :c, false, 1, NULL, '{}', now());
UPDATE promotion_codes SET times_redeemed = times_redeemed + 1
  WHERE workspace_id = '${ws}' AND id = 'pcode_' || ${code};
\\endif
COMMIT;
`;
}

interface PgbenchRun {
  tps: number;
  /** With a rate: each transaction's latency from when it was due, as pgbench logs it. */
  latency?: { p50_ms: number; p99_ms: number; max_ms: number };
}

/**
 * pgbench with 20 clients for `seconds`: as fast as it goes, or at `rate` transactions per second
 * (`-R`, an offered load: a transaction's latency counts from when it was due), logging every
 * transaction's latency. At a rate, it first runs `warmupSeconds` more at the same rate, whose
 * transactions are not counted in the latency, as the paced Perks run does: pgbench's schedule starts
 * while its clients are still connecting, and the first seconds' backlog is not the latency of serving
 * the rate.
 */
async function pgbench(
  url: string,
  script: string,
  seconds: number,
  log: (line: string) => void,
  rate?: number,
  warmupSeconds = 0,
): Promise<PgbenchRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'perks-pgbench-'));
  try {
    const file = path.join(dir, 'naive.sql');
    writeFileSync(file, script);
    const paced =
      rate === undefined ? [] : ['-R', String(rate), '-l', `--log-prefix=${path.join(dir, 'txn')}`];
    const total_s = seconds + (rate === undefined ? 0 : warmupSeconds);
    const { stdout } = await run(
      'pgbench',
      ['-n', '-c', String(PGBENCH_CLIENTS), '-j', '2', '-T', String(total_s), ...paced, '-f', file, url],
      { maxBuffer: 1 << 20 },
    );
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    const average = /latency average = ([\d.]+) ms/.exec(stdout);
    if (!tps) throw new Error(`could not read pgbench's rate from:\n${stdout}`);
    if (failed && Number(failed[1]) > 0) throw new Error(`pgbench reported failed transactions:\n${stdout}`);
    const result: PgbenchRun = { tps: Number(tps[1]) };
    if (rate !== undefined) {
      // One line per transaction: client, transaction number, latency in µs (from when it was due),
      // script, then when it ended in s and µs. It was due at its end less its latency.
      const transactions = readdirSync(dir)
        .filter((name) => name.startsWith('txn'))
        .flatMap((name) => readFileSync(path.join(dir, name), 'utf8').trim().split('\n'))
        .map((line) => {
          const f = line.split(' ').map(Number);
          const latency_ms = f[2]! / 1000;
          return { latency_ms, due_ms: f[4]! * 1000 + f[5]! / 1000 - latency_ms };
        });
      if (transactions.length === 0) throw new Error(`pgbench logged no transactions:\n${stdout}`);
      const measuredFrom =
        transactions.reduce((m, t) => Math.min(m, t.due_ms), Infinity) + warmupSeconds * 1000;
      const latencies = transactions.filter((t) => t.due_ms >= measuredFrom).map((t) => t.latency_ms);
      result.latency = latencySummary(latencies);
    }
    log(
      `pgbench${rate === undefined ? '' : ` at ${rate}/s offered`}: ${result.tps.toFixed(0)} tps, latency average ` +
        `${average?.[1] ?? '?'} ms${result.latency ? `, p50 ${result.latency.p50_ms} ms, p99 ${result.latency.p99_ms} ms` : ''}`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Requests numbered across every load on one sequence, so a request cut off at the end of the
 * warm-up never shares its code or customer with one of the measured run.
 */
function sequence(body: (i: number) => string) {
  let next = 0;
  return { body: () => body(next++), used: () => next };
}

async function redeemLoad(
  url: string,
  key: string,
  seq: ReturnType<typeof sequence>,
  seconds: number,
): Promise<LoadResult> {
  return load({
    url,
    key,
    connections: CONNECTIONS,
    duration_s: seconds,
    method: 'POST',
    path: '/v1/promotion_codes/redeem',
    setupRequest: () => ({ body: seq.body() }),
  });
}

export default async function runBench(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    // The baselines first, while no server holds connections.
    await seedPgbench(database.url);
    await pgbench(database.url, naiveScript(`'PA' || :n`), WARMUP_S, ctx.log);
    const baseA = (await pgbench(database.url, naiveScript(`'PA' || :n`), DURATION_S, ctx.log)).tps;
    // The rate (a)'s latency is measured at: half of pgbench's, the share the target names.
    const offered = Math.round(baseA * 0.5);
    const naiveAtRate = (
      await pgbench(database.url, naiveScript(`'PA' || :n`), DURATION_S, ctx.log, offered, WARMUP_S)
    ).latency!;
    const baseB = (await pgbench(database.url, naiveScript(`'PGHOT0'`), DURATION_S, ctx.log)).tps;

    const server = await startServer(database.url);
    try {
      const ws = server.workspaceId;
      await seedPromotion(database.url, ws, 'promo_bench_a', PERKS_POOL);
      await sql(
        database.url,
        `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, created_at)
         values ($1, 'promo_bench_b', 'hot', 1000, 'once', 'UTC', now())`,
        [ws],
      );
      await seedCodes(database.url, ws, 'promo_bench_a', 'BA', PERKS_POOL, 1);
      await seedCodes(database.url, ws, 'promo_bench_b', 'BHOT', 1, 1_000_000_000);
      await settleDatabase(database.url);
      ctx.log(`seeded ${PERKS_POOL} single-use codes and customers for Perks`);

      // (a) distinct codes: each request another single-use code, customer and subscription.
      const distinct = sequence((i) =>
        JSON.stringify({ code: `BA${i}`, customer: `bc_${i}`, subscription: `sub_a_${i}` }),
      );
      await redeemLoad(server.url, server.key, distinct, WARMUP_S);
      const a = await redeemLoad(server.url, server.key, distinct, DURATION_S);
      ctx.log(
        `Perks distinct codes: ${a.requestsPerSecond.toFixed(0)}/s, p50 ${a.latencyP50_ms} ms, p99 ${a.latencyP99_ms} ms`,
      );
      // The same requests offered at the rate the target asks for, half of pgbench's, still over 64
      // connections: the latency of serving that rate. With every connection always busy (above), the
      // latency is the queue's length over the rate (64 / rate), whatever the service time.
      const atRate = await paced({
        url: server.url,
        key: server.key,
        connections: CONNECTIONS,
        rate: offered,
        duration_s: DURATION_S,
        warmup_s: WARMUP_S,
        method: 'POST',
        path: '/v1/promotion_codes/redeem',
        body: () => distinct.body(),
      });
      if (distinct.used() > PERKS_POOL) throw new Error('the run used more codes than were seeded');
      ctx.log(
        `Perks distinct codes at ${offered}/s offered: ${atRate.answeredPerSecond.toFixed(0)}/s answered, ` +
          `p50 ${atRate.latencyP50_ms} ms, p99 ${atRate.latencyP99_ms} ms, max ${atRate.latencyMax_ms} ms`,
      );
      if (Object.keys(atRate.statusCodes).some((code) => !code.startsWith('2'))) {
        throw new Error(
          `the paced run expected only 2xx answers, got ${JSON.stringify(atRate.statusCodes)}: ` +
            atRate.failureSamples.join(' | '),
        );
      }
      // The offered rate must have been served, or its latency says nothing about that rate.
      const served = atRate.answeredPerSecond >= offered * 0.95;
      const ratioA = a.requestsPerSecond / baseA;
      results.push(
        benchResult({
          name: 'promo redeem, distinct codes (HTTP, 64 connections)',
          unit: 'redemptions/s',
          value: a.requestsPerSecond,
          baseline: {
            name: `pgbench naive redemption transaction, ${PGBENCH_CLIENTS} clients`,
            value: baseA,
          },
          target: '>= 50% of pgbench, p99 < 25 ms',
          met: ratioA >= 0.5 && a.latencyP99_ms < 25,
          notes: `p50 ${a.latencyP50_ms} ms, p99 ${a.latencyP99_ms} ms, every connection busy`,
        }),
      );
      results.push(
        benchResult({
          name: "promo redeem, distinct codes, p99 serving 50% of pgbench's rate (HTTP, 64 connections)",
          unit: 'ms',
          value: atRate.latencyP99_ms,
          baseline: {
            name: `pgbench naive redemption transaction at the same rate (-R ${offered})`,
            value: naiveAtRate.p99_ms,
          },
          target: '< 25 ms',
          met: served && atRate.latencyP99_ms < 25,
          notes:
            `offered ${offered}/s: ${Math.round(atRate.answeredPerSecond)}/s answered, p50 ` +
            `${atRate.latencyP50_ms} ms, max ${atRate.latencyMax_ms} ms; pgbench p50 ` +
            `${naiveAtRate.p50_ms} ms, max ${naiveAtRate.max_ms} ms; lower is better`,
        }),
      );

      // (b) one hot code with a high limit, each request for another customer and subscription.
      const hot = sequence((i) =>
        JSON.stringify({ code: 'BHOT0', customer: `bc_${i}`, subscription: `sub_b_${i}` }),
      );
      await redeemLoad(server.url, server.key, hot, WARMUP_S);
      const b = await redeemLoad(server.url, server.key, hot, DURATION_S);
      if (hot.used() > PERKS_POOL) throw new Error('the run used more customers than were seeded');
      ctx.log(
        `Perks hot code: ${b.requestsPerSecond.toFixed(0)}/s, p50 ${b.latencyP50_ms} ms, p99 ${b.latencyP99_ms} ms`,
      );
      results.push(
        benchResult({
          name: 'promo redeem, one hot code (HTTP, 64 connections)',
          unit: 'redemptions/s',
          value: b.requestsPerSecond,
          baseline: {
            name: `pgbench naive redemption transaction on one code, ${PGBENCH_CLIENTS} clients`,
            value: baseB,
          },
          target: '> pgbench (ratio > 1)',
          met: b.requestsPerSecond > baseB,
          notes: `p50 ${b.latencyP50_ms} ms, p99 ${b.latencyP99_ms} ms`,
        }),
      );
      const [counted] = await sql(
        database.url,
        `select (select times_redeemed from promotion_codes where workspace_id = $1 and id = 'pcode_BHOT0') as hot,
                (select count(*) from redemptions where workspace_id = $1 and promotion_code_id = 'pcode_BHOT0') as rows`,
        [ws],
      );
      if (Number(counted.hot) !== Number(counted.rows)) {
        throw new Error(`the hot code counts ${counted.hot} redemptions but ${counted.rows} were recorded`);
      }
    } finally {
      await server.stop();
    }
    // (c) bulk generation, in this process on the bench database, as the server's worker would run it.
    const db = await openPostgres(database.url, 4);
    try {
      const deps: Deps = { db, clock: systemClock, ids: systemIds() };
      const [{ workspace_id: ws }] = await sql(
        database.url,
        'select workspace_id from workspaces where workspace_id <> $1 limit 1',
        [PGBENCH_WORKSPACE],
      );
      const promotion = await db.transaction((tx) =>
        createPromotion(deps, tx, ws, { name: 'generated', percent_off_bps: 1000 }),
      );
      const generated = await timed(async () => {
        const { batch } = await db.transaction((tx) =>
          requestGeneration(deps, tx, ws, promotion.id, { count: GENERATE_COUNT }),
        );
        await workCodeBatches(deps);
        return batch.id;
      });
      const [made] = await sql(
        database.url,
        'select count(*)::int as n from promotion_codes where workspace_id = $1 and batch_id = $2',
        [ws, generated.result],
      );
      if (made.n !== GENERATE_COUNT) throw new Error(`generated ${made.n} codes, expected ${GENERATE_COUNT}`);
      ctx.log(`Perks generated ${GENERATE_COUNT} codes in ${generated.seconds.toFixed(2)} s`);
      const baseline = await timed(() =>
        sql(
          database.url,
          `insert into promotion_codes (workspace_id, id, promotion_id, code, max_redemptions, created_at)
           select $1, 'pcode_sql_' || i, $2, 'SQL' || upper(substr(md5(random()::text), 1, 12)), 1, now()
           from generate_series(1, $3) as i
           on conflict (workspace_id, code) do nothing`,
          [ws, promotion.id, GENERATE_COUNT],
        ),
      );
      ctx.log(`SQL baseline inserted ${GENERATE_COUNT} codes in ${baseline.seconds.toFixed(2)} s`);
      results.push(
        benchResult({
          name: 'generate 100,000 codes (one batch, chunks of 5,000)',
          unit: 's',
          value: generated.seconds,
          baseline: { name: 'one INSERT ... SELECT of 100,000 random codes', value: baseline.seconds },
          target: '< 10 s',
          met: generated.seconds < 10,
          notes: `${Math.round(GENERATE_COUNT / generated.seconds)} codes/s; lower is better`,
        }),
      );
    } finally {
      await db.close();
    }
  } finally {
    await database.drop();
  }
  return results;
}
