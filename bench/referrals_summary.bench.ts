/**
 * The referral summary of a referrer with 100,000 referrals: GET /v1/customers/{id}/referral_summary
 * latency at p99, one request at a time (target: under 20 ms).
 *
 * Setup (not timed): one referrer with REFERRALS rewarded referrals written with plain SQL, with the
 * counters and reward totals the API keeps beside them (the summary reads those, never the referrals).
 *
 * Baseline: the same figures computed the straightforward way, with plain SQL aggregates over the
 * referrer's referrals (count by status) from one pg client, p99 per query. Lower is better
 * for both; a ratio under 1 means the summary answers faster over HTTP than the aggregate does in SQL.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { systemIds } from '../src/adapters/system.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  inParallel,
  load,
  percentile,
  scaled,
  startServer,
} from './lib.js';

const REFERRALS = scaled(100_000, 1_000);
const REQUESTS = scaled(3_000, 200);
// Latency is measured one request at a time: with several in flight on a 2-core machine the figure
// would be the queue, not the summary.
const CONNECTIONS = 1;
const PROGRAM = 'credit-on-first-card';

async function seed(url: string, workspaceId: string, referrerId: string, log: (line: string) => void) {
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
    for (let start = 0; start < REFERRALS; start += chunk) {
      const n = Math.min(chunk, REFERRALS - start);
      const referees = Array.from({ length: n }, () => ids.id('cus'));
      await client.query('begin');
      await client.query(
        `insert into customers (workspace_id, id, external_id, created_at, updated_at)
         select $1, id, 'team_' || id, now(), now() from unnest($2::text[]) as id`,
        [workspaceId, referees],
      );
      await client.query(
        `insert into referrals (workspace_id, id, program_id, program_version, referrer_customer_id,
           referee_customer_id, method, source, status, referee_claim, attributed_at, qualified_at, rewarded_at,
           created_at, updated_at)
         select $1, u.ref, $2, 1, $3, u.referee, 'code', 'event', 'rewarded', true, now(), now(), now(), now(), now()
         from unnest($4::text[], $5::text[]) as u(ref, referee)`,
        [workspaceId, program!.id, referrerId, referees.map(() => ids.id('ref')), referees],
      );
      await client.query('commit');
    }
    await client.query(
      `update referrers set referred = $4::bigint, signups = $4::bigint, qualified = $4::bigint, clicks = $4::bigint * 3
       where workspace_id = $1 and program_id = $2 and customer_id = $3`,
      [workspaceId, program!.id, referrerId, REFERRALS],
    );
    await client.query(
      `insert into referral_reward_totals (workspace_id, program_id, customer_id, asset, granted, reversed)
       values ($1, $2, $3, 'usd_credit', $4, 0)`,
      [workspaceId, program!.id, referrerId, REFERRALS * 2500],
    );
    await client.query('analyze');
    log(`seeded ${REFERRALS.toLocaleString('en-US')} referrals of one referrer`);
    return program!.id;
  } finally {
    await client.end();
  }
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(database.url);
    let perksP99 = 0;
    let perksP50 = 0;
    let referrerId = '';
    let programId = '';
    try {
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json() as Promise<Record<string, unknown>>;
      };
      await api('POST', '/v1/programs/from_template', { template: PROGRAM });
      const at = new Date().toISOString();
      await api('POST', '/v1/events', {
        events: [
          {
            id: 'e1',
            type: 'customer.created',
            occurred_at: at,
            data: { customer: { external_id: 'big_referrer' } },
          },
          {
            id: 'e2',
            type: 'card.attached',
            occurred_at: at,
            data: { customer: 'big_referrer', payment_method: { fingerprint: 'fp_big' } },
          },
        ],
      });
      await api('POST', '/v1/customers/big_referrer/referral_code', { program: PROGRAM });
      referrerId = (await api('GET', '/v1/customers/big_referrer')).id as string;
      programId = await seed(database.url, server.workspaceId, referrerId, ctx.log);
      const summary = await api('GET', `/v1/customers/big_referrer/referral_summary?program=${PROGRAM}`);
      const figures = (summary.programs as { referred_customers: number }[])[0]!;
      if (figures.referred_customers !== REFERRALS) {
        throw new Error(`the summary counts ${figures.referred_customers} referrals, expected ${REFERRALS}`);
      }
      const path = `/v1/customers/big_referrer/referral_summary?program=${PROGRAM}`;
      await load({ url: server.url, key: server.key, connections: CONNECTIONS, requests: 500, path });
      const result = await load({
        url: server.url,
        key: server.key,
        connections: CONNECTIONS,
        requests: REQUESTS,
        path,
      });
      perksP99 = result.latencyP99_ms;
      perksP50 = result.latencyP50_ms;
      ctx.log(
        `Perks: ${REQUESTS} summaries, ${Math.round(result.requestsPerSecond)}/s, p50 ${perksP50} ms, p99 ${perksP99} ms`,
      );
    } finally {
      await server.stop();
    }

    const pool = new pg.Pool({ connectionString: database.url, max: CONNECTIONS });
    const latencies: number[] = [];
    try {
      const aggregate = async () => {
        const start = performance.now();
        await pool.query(
          `select status, count(*) from referrals where workspace_id = $1 and referrer_customer_id = $2
             and program_id = $3 group by status`,
          [server.workspaceId, referrerId, programId],
        );
        latencies.push(performance.now() - start);
      };
      const warm = Array.from({ length: 50 }, (_, i) => i);
      await inParallel(warm, CONNECTIONS, aggregate);
      latencies.length = 0;
      const count = Math.max(200, Math.round(REQUESTS / 10));
      await inParallel(
        Array.from({ length: count }, (_, i) => i),
        CONNECTIONS,
        aggregate,
      );
    } finally {
      await pool.end();
    }
    latencies.sort((a, b) => a - b);
    const baselineP99 = percentile(latencies, 99);
    ctx.log(
      `baseline: ${latencies.length} aggregates, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${baselineP99.toFixed(1)} ms`,
    );
    return [
      benchResult({
        name: `GET /v1/customers/{id}/referral_summary, ${REFERRALS.toLocaleString('en-US')} referrals, ${CONNECTIONS} connection, p99`,
        unit: 'ms (lower is better)',
        value: Math.max(perksP99, 0.1),
        baseline: {
          name: `SQL count of the referrals by status, ${CONNECTIONS} connection, p99`,
          value: Math.max(baselineP99, 0.1),
        },
        target: 'p99 < 20 ms',
        met: perksP99 < 20,
        notes: `${REQUESTS.toLocaleString('en-US')} requests after 500 warm-up; Perks p50 ${perksP50} ms`,
      }),
    ];
  } finally {
    await database.drop();
  }
}
