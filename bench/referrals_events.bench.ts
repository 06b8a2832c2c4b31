/**
 * Referral rewards under load: payment.succeeded events for referred customers through the batch
 * events endpoint, with the free-days-or-commission program on its cash option (10% commission,
 * contract signed), so every payment ends in a ledger grant to its referrer.
 *
 * Setup (not timed): REFERRERS referrers and as many referees (100,000 of each at PERKS_BENCH_SCALE=1),
 * one referral each, written with plain SQL in the state the API would leave them in (referrers on the
 * cash option with a signed contract, referrals qualified), because attributing 100,000 referrals
 * through HTTP would take longer than the benchmark itself.
 *
 * Perks: BATCHES batches of 1,000 payments (1,000,000 payments at PERKS_BENCH_SCALE=1) per request,
 * CONNECTIONS requests in flight; each payment is stored, applied, matched to its referral, decided by
 * the core (gates, option, amount), recorded under its business key and granted to the referrer's
 * commission account in the ledger. Every referee pays once per REFERRERS payments, so each referrer
 * gets BATCHES * BATCH / REFERRERS grants.
 * Baseline: the same ledger rows (the referrer's account created on first use with its balance kept,
 * one lot and one grant entry per payment) written by a plain SQL script, one single-row statement per
 * row, one transaction per 1,000 payments, with the same number of connections.
 *
 * Checks: both databases end with the same number of ledger lots and entries, one per payment, and
 * the same total commission.
 */
import pg from 'pg';
import { openPostgres } from '../src/adapters/db/db.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import { createAsset } from '../src/app/ledger_assets.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  inParallel,
  LoadFailedError,
  load,
  scaled,
  startServer,
  timed,
} from './lib.js';

/** The size at PERKS_BENCH_SCALE=1: 100,000 referrers and referees, 1,000,000 payments. */
const REFERRERS = scaled(100_000, 2_000);
const BATCH = 1_000;
const WARMUP_BATCHES = scaled(2, 1);
const BATCHES = scaled(1_000, 2);
const CONNECTIONS = 2;
const AMOUNT = 3_900;
const COMMISSION = 390;
const PROGRAM = 'free-days-or-commission';
const EPOCH_MS = Date.parse('2026-01-01T00:00:00Z');

const referee = (n: number) => `cli_${String(n).padStart(6, '0')}`;

/** Payment i goes to referee i mod REFERRERS: a batch never names a referee twice, nor does a concurrent one. */
function paymentEvent(i: number) {
  return {
    id: `evt_pay_${i}`,
    type: 'payment.succeeded',
    occurred_at: new Date(EPOCH_MS + i * 1_000).toISOString(),
    data: {
      customer: referee(i % REFERRERS),
      payment: { id: `pi_${i}`, amount: AMOUNT, currency: 'usd', interval: 'month' },
    },
  };
}

const batchBody = (n: number) =>
  JSON.stringify({ events: Array.from({ length: BATCH }, (_, k) => paymentEvent(n * BATCH + k)) });

/** Writes REFERRERS referrers and referees with one qualified referral each, in chunks. */
async function seedReferrals(url: string, workspaceId: string, log: (line: string) => void) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ids = systemIds();
  try {
    const [program] = (
      await client.query<{ id: string }>('select id from programs where workspace_id = $1 and key = $2', [
        workspaceId,
        PROGRAM,
      ])
    ).rows;
    const chunk = 10_000;
    for (let start = 0; start < REFERRERS; start += chunk) {
      const n = Math.min(chunk, REFERRERS - start);
      const referrerIds = Array.from({ length: n }, () => ids.id('cus'));
      const refereeIds = Array.from({ length: n }, () => ids.id('cus'));
      const referralIds = Array.from({ length: n }, () => ids.id('ref'));
      const index = Array.from({ length: n }, (_, k) => start + k);
      await client.query('begin');
      await client.query(
        `insert into customers (workspace_id, id, external_id, state_as_of, created_at, updated_at)
         select $1, u.id, u.ext, '2025-06-01', '2025-06-01', '2025-06-01'
         from unnest($2::text[], $3::text[]) as u(id, ext)`,
        [
          workspaceId,
          [...referrerIds, ...refereeIds],
          [...index.map((i) => `ptn_${String(i).padStart(6, '0')}`), ...index.map(referee)],
        ],
      );
      await client.query(
        `insert into referrers (workspace_id, program_id, customer_id, active_since, option, signups, referred,
           qualified, created_at, updated_at)
         select $1, $2, id, '2025-12-15', 'cash', 1, 1, 1, '2025-06-01', '2025-06-01' from unnest($3::text[]) as id`,
        [workspaceId, program!.id, referrerIds],
      );
      await client.query(
        `insert into referral_contracts (workspace_id, customer_id, signed_at, recorded_at)
         select $1, id, '2025-06-01', '2025-06-01' from unnest($2::text[]) as id`,
        [workspaceId, referrerIds],
      );
      await client.query(
        `insert into referrals (workspace_id, id, program_id, program_version, referrer_customer_id,
           referee_customer_id, method, source, status, referee_claim, attributed_at, qualified_at, created_at,
           updated_at)
         select $1, u.id, $2, 1, u.referrer, u.referee, 'code', 'api', 'qualified', true, '2025-12-15',
           '2025-12-15', '2025-12-15', '2025-12-15'
         from unnest($3::text[], $4::text[], $5::text[]) as u(id, referrer, referee)`,
        [workspaceId, program!.id, referralIds, referrerIds, refereeIds],
      );
      await client.query('commit');
    }
    await client.query('analyze');
    log(`seeded ${REFERRERS.toLocaleString('en-US')} referrers, referees and referrals`);
  } finally {
    await client.end();
  }
}

async function ledgerTotals(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ lots: string; entries: string; total: string | null }>(
      `select (select count(*) from ledger_lots) as lots, (select count(*) from ledger_entries) as entries,
         (select sum(amount) from ledger_lots) as total`,
    );
    return {
      lots: Number(rows[0]!.lots),
      entries: Number(rows[0]!.entries),
      total: Number(rows[0]!.total ?? 0),
    };
  } finally {
    await client.end();
  }
}

async function throughServer(ctx: BenchContext) {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(database.url);
    try {
      const created = await fetch(`${server.url}/v1/programs/from_template`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ template: PROGRAM }),
      });
      if (created.status !== 201) throw new Error(`creating the program failed: ${await created.text()}`);
      await seedReferrals(database.url, server.workspaceId, ctx.log);
      const send = (first: number, count: number) =>
        load({
          url: server.url,
          key: server.key,
          connections: Math.min(CONNECTIONS, count),
          requests: count,
          method: 'POST',
          path: '/v1/events',
          timeout_s: 300,
          setupRequest: (i) => ({ body: batchBody(first + i) }),
        });
      try {
        await send(0, WARMUP_BATCHES);
        const result = await send(WARMUP_BATCHES, BATCHES);
        const eventsPerSecond = result.requestsPerSecond * BATCH;
        ctx.log(
          `Perks: ${(BATCHES * BATCH).toLocaleString('en-US')} payments in ${result.elapsed_s.toFixed(1)} s, ` +
            `${Math.round(eventsPerSecond)} events/s, batch p50 ${result.latencyP50_ms} ms, p99 ${result.latencyP99_ms} ms`,
        );
        return { eventsPerSecond, p99: result.latencyP99_ms, totals: await ledgerTotals(database.url) };
      } catch (err) {
        if (err instanceof LoadFailedError) err.message += `\nserver output:\n${server.output()}`;
        throw err;
      }
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

/** The plain-SQL writer of the same ledger rows, one statement per row. */
async function throughSql(ctx: BenchContext) {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const db = await openPostgres(database.url, 1);
    const ids = systemIds();
    const workspaceId = ids.id('ws');
    const customers: string[] = [];
    let assetId = '';
    let expense = '';
    try {
      await db.query(
        "insert into workspaces (workspace_id, name, created_at) values ($1, 'baseline', now())",
        [workspaceId],
      );
      const asset = await db.transaction((tx) =>
        createAsset({ db, clock: systemClock, ids }, tx, workspaceId, {
          key: 'usd_commission',
          kind: 'money',
          currency: 'usd',
          purpose: 'commission',
          payout_minimum: 2000,
        }),
      );
      assetId = asset.asset.id;
      const [account] = await db.query<{ id: string }>(
        `select id from ledger_accounts where workspace_id = $1 and asset_id = $2 and kind = 'program_expense'`,
        [workspaceId, assetId],
      );
      expense = account!.id;
      for (let i = 0; i < REFERRERS; i++) customers.push(ids.id('cus'));
      await db.query(
        `insert into customers (workspace_id, id, external_id, created_at, updated_at)
         select $1, id, id, now(), now() from unnest($2::text[]) as id`,
        [workspaceId, customers],
      );
    } finally {
      await db.close();
    }

    const pool = new pg.Pool({ connectionString: database.url, max: CONNECTIONS });
    pool.on('error', () => {});
    const writeBatch = async (client: pg.PoolClient, n: number) => {
      const now = new Date();
      await client.query('begin');
      for (let k = 0; k < BATCH; k++) {
        const i = n * BATCH + k;
        const customer = customers[i % REFERRERS]!;
        const lot = ids.id('lot');
        const { rows } = await client.query<{ id: string }>(
          `insert into ledger_accounts (workspace_id, id, asset_id, kind, customer_id, balance, debt, created_at)
           values ($1, $2, $3, 'customer', $4, $5, 0, $6)
           on conflict (workspace_id, customer_id, asset_id) where kind = 'customer'
             do update set balance = ledger_accounts.balance + excluded.balance
           returning id`,
          [workspaceId, ids.id('acc'), assetId, customer, COMMISSION, now],
        );
        await client.query(
          `insert into ledger_lots (workspace_id, id, account_id, asset_id, customer_id, grant_id, amount, remaining,
             granted_at, source_type, source_id, reason, reference, expiry_policy, created_at)
           values ($1, $2, $3, $4, $5, $2, $6, $6, $7, 'referral', $8, 'commission', $9, '{"type":"never"}', $7)`,
          [workspaceId, lot, rows[0]!.id, assetId, customer, COMMISSION, now, `ref_${i}`, `rwd_${i}.0`],
        );
        await client.query(
          `insert into ledger_entries (workspace_id, id, asset_id, debit_account_id, credit_account_id, amount, kind,
             customer_id, lot_id, operation_id, reference, effective_at, created_at)
           values ($1, $2, $3, $4, $5, $6, 'grant', $7, $8, $8, $9, $10, $10)`,
          [
            workspaceId,
            ids.id('ent'),
            assetId,
            expense,
            rows[0]!.id,
            COMMISSION,
            customer,
            lot,
            `rwd_${i}.0`,
            now,
          ],
        );
      }
      await client.query('commit');
    };
    const run = async (first: number, count: number) => {
      const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.connect()));
      try {
        await inParallel(
          Array.from({ length: count }, (_, k) => first + k),
          CONNECTIONS,
          (n, slot) => writeBatch(clients[slot]!, n),
        );
      } finally {
        for (const c of clients) c.release();
      }
    };
    try {
      await run(0, WARMUP_BATCHES);
      const { seconds } = await timed(() => run(WARMUP_BATCHES, BATCHES));
      const eventsPerSecond = (BATCHES * BATCH) / seconds;
      ctx.log(
        `baseline: ${(BATCHES * BATCH).toLocaleString('en-US')} payments' ledger rows in ${seconds.toFixed(1)} s`,
      );
      return { eventsPerSecond, totals: await ledgerTotals(database.url) };
    } finally {
      await pool.end();
    }
  } finally {
    await database.drop();
  }
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const perks = await throughServer(ctx);
  const sql = await throughSql(ctx);
  const payments = (WARMUP_BATCHES + BATCHES) * BATCH;
  const expected = { lots: payments, entries: payments, total: payments * COMMISSION };
  for (const [side, totals] of [
    ['Perks', perks.totals],
    ['baseline', sql.totals],
  ] as const) {
    if (
      totals.lots !== expected.lots ||
      totals.entries !== expected.entries ||
      totals.total !== expected.total
    ) {
      throw new Error(`${side} wrote ${JSON.stringify(totals)}, expected ${JSON.stringify(expected)}`);
    }
  }
  const ratio = perks.eventsPerSecond / sql.eventsPerSecond;
  return [
    benchResult({
      name: `payment.succeeded under the commission program, batches of ${BATCH.toLocaleString('en-US')}, ${CONNECTIONS} connections`,
      unit: 'events/s',
      value: perks.eventsPerSecond,
      baseline: {
        name: `SQL writing the same ledger rows (account, lot, entry), 1 statement per row, ${CONNECTIONS} connections`,
        value: sql.eventsPerSecond,
      },
      target: '>= 0.40× the baseline',
      met: ratio >= 0.4,
      notes:
        `${REFERRERS.toLocaleString('en-US')} referrers and referees; ${(BATCHES * BATCH).toLocaleString('en-US')} ` +
        `timed payments after ${(WARMUP_BATCHES * BATCH).toLocaleString('en-US')} warm-up; batch p99 ${perks.p99} ms; ` +
        `both wrote ${expected.lots.toLocaleString('en-US')} lots and entries, ${expected.total / 100} USD commission`,
    }),
  ];
}
