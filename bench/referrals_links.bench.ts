/**
 * Referral links: GET /r/{code} redirects per second at 64 connections, each recording the click
 * (hashed IP and user agent), setting the click cookie and redirecting to the program's landing page
 * with the code and a signed click id.
 *
 * Baseline: a bare Node HTTP server (node:http, no framework, no store) in its own process answering
 * every request with the same kind of 302 and cookie, driven the same way in the same run.
 *
 * Check: after the server stops (which writes the last batch of clicks), the store holds one click
 * row per redirect Perks answered (autocannon's count, plus the few requests still in flight when it
 * stopped counting).
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  load,
  type LoadResult,
  scaled,
  startServer,
} from './lib.js';

const CONNECTIONS = 64;
const DURATION_S = scaled(15, 3);
const WARMUP_S = scaled(3, 1);
const PROGRAM = 'free-days-or-commission';

/** Redirects per second from a load whose every answer must be a 302. */
function redirectsPerSecond(label: string, result: LoadResult): number {
  const redirects = result.statusCodes['302'] ?? 0;
  const others = Object.entries(result.statusCodes).filter(([code]) => code !== '302');
  if (result.errors > 0 || others.length > 0 || redirects === 0) {
    throw new Error(
      `${label}: expected only 302 answers, got ${JSON.stringify(result.statusCodes)} and ${result.errors} errors; ` +
        `first failures: ${result.failureSamples.join(' | ')}`,
    );
  }
  return redirects / result.elapsed_s;
}

const drive = (url: string, path: string, duration_s: number) =>
  load({
    url,
    connections: CONNECTIONS,
    duration_s,
    method: 'GET',
    path,
    headers: { 'user-agent': 'Mozilla/5.0 (bench)' },
    allowFailures: true,
  });

async function throughPerks(ctx: BenchContext) {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const server = await startServer(database.url);
    let redirects = 0;
    let perSecond = 0;
    let p99 = 0;
    let healthPerSecond = 0;
    try {
      const api = (path: string, body: unknown) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (res) => {
          if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
          return res.json() as Promise<Record<string, unknown>>;
        });
      await api('/v1/programs/from_template', {
        template: PROGRAM,
        landing_url: 'https://example.com/signup',
      });
      await api('/v1/customers', { external_id: 'partner' });
      const code = (await api('/v1/customers/partner/referral_code', { program: PROGRAM })).code as string;
      // For context only: the same server's cheapest route, which no store work or redirect slows down.
      const health = await load({
        url: server.url,
        connections: CONNECTIONS,
        duration_s: WARMUP_S,
        path: '/healthz',
      });
      healthPerSecond = health.requestsPerSecond;
      const warm = await drive(server.url, `/r/${code}`, WARMUP_S);
      redirects += warm.statusCodes['302'] ?? 0;
      const result = await drive(server.url, `/r/${code}`, DURATION_S);
      perSecond = redirectsPerSecond('Perks', result);
      redirects += result.statusCodes['302'] ?? 0;
      p99 = result.latencyP99_ms;
      ctx.log(`Perks: ${Math.round(perSecond)} redirects/s, p50 ${result.latencyP50_ms} ms, p99 ${p99} ms`);
    } finally {
      await server.stop();
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const stored = Number(
      (
        await client
          .query<{ n: string }>('select count(*) as n from referral_clicks')
          .finally(() => client.end())
      ).rows[0]!.n,
    );
    // autocannon stops counting at the end of each run while up to one request per connection is still
    // in flight; those are answered (and stored) but not counted.
    const inFlight = 2 * CONNECTIONS;
    if (stored < redirects || stored > redirects + inFlight) {
      throw new Error(
        `Perks answered ${redirects} counted redirects (+ up to ${inFlight} in flight) but stored ${stored} clicks`,
      );
    }
    return { perSecond, p99, stored, healthPerSecond };
  } finally {
    await database.drop();
  }
}

const BARE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  res.writeHead(302, {
    location: 'https://example.com/signup?ref=CODE&perks_click=clk_0000',
    'set-cookie': 'perks_click=clk_0000; Max-Age=5184000; Path=/; SameSite=Lax; HttpOnly',
    'cache-control': 'no-store',
    'content-length': '0',
  });
  res.end();
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

async function throughBareNode(ctx: BenchContext) {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        const match = /listening (\d+)/.exec(chunk);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    await drive(url, '/r/CODE', WARMUP_S);
    const result = await drive(url, '/r/CODE', DURATION_S);
    const perSecond = redirectsPerSecond('bare Node', result);
    ctx.log(`bare Node: ${Math.round(perSecond)} redirects/s, p99 ${result.latencyP99_ms} ms`);
    return perSecond;
  } finally {
    child.kill('SIGTERM');
  }
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const perks = await throughPerks(ctx);
  const bare = await throughBareNode(ctx);
  const ratio = perks.perSecond / bare;
  return [
    benchResult({
      name: `GET /r/{code}, ${CONNECTIONS} connections`,
      unit: 'redirects/s',
      value: perks.perSecond,
      baseline: { name: `bare Node HTTP server answering a 302, ${CONNECTIONS} connections`, value: bare },
      target: '>= 0.50× the baseline',
      met: ratio >= 0.5,
      notes:
        `${DURATION_S} s timed after ${WARMUP_S} s warm-up; Perks p99 ${perks.p99} ms; ` +
        `the same server's GET /healthz answered ${Math.round(perks.healthPerSecond)}/s; ` +
        `${perks.stored.toLocaleString('en-US')} clicks stored, one per redirect answered`,
    }),
  ];
}
