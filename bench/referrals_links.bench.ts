/**
 * Referral links: GET /r/{code} redirects per second at 64 connections, each recording the click
 * (hashed IP and user agent), setting the click cookie and redirecting to the program's landing page
 * with the code and a signed click id.
 *
 * Baseline: a bare Node HTTP server (node:http, no framework, no store) in its own process answering
 * every request with the same kind of 302 and cookie, driven the same way in the same run, in rounds
 * that alternate with Perks' so that both see the same share of a busy machine.
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
  type BenchDatabase,
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
/**
 * The timed seconds of each side are split into rounds that alternate Perks and bare Node, so that
 * other work on a shared machine weighs on both sides alike rather than on whichever ran second.
 */
const ROUNDS = 3;
const PROGRAM = 'free-days-or-commission';

/** Redirects and seconds from a load whose every answer must be a 302. */
function redirects(label: string, result: LoadResult): { redirects: number; seconds: number } {
  const count = result.statusCodes['302'] ?? 0;
  const others = Object.entries(result.statusCodes).filter(([code]) => code !== '302');
  if (result.errors > 0 || others.length > 0 || count === 0) {
    throw new Error(
      `${label}: expected only 302 answers, got ${JSON.stringify(result.statusCodes)} and ${result.errors} errors; ` +
        `first failures: ${result.failureSamples.join(' | ')}`,
    );
  }
  return { redirects: count, seconds: result.elapsed_s };
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

/** Perks on its own database, with a partner's link ready to click. */
async function startPerks(database: BenchDatabase) {
  const server = await startServer(database.url);
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
    return { server, path: `/r/${code}` };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

async function storedClicks(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('select count(*) as n from referral_clicks');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
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

/** A bare node:http server in its own process, answering every request with a 302 and a cookie. */
async function startBareNode() {
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
    return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const database = await createBenchDatabase(ctx.databaseUrl);
  try {
    const perks = await startPerks(database);
    let answered = 0;
    const timed = { perks: { redirects: 0, seconds: 0, p99: 0 }, bare: { redirects: 0, seconds: 0 } };
    let healthPerSecond = 0;
    try {
      const bare = await startBareNode();
      try {
        // For context only: the same server's cheapest framework route, which no store work slows down.
        const health = await load({
          url: perks.server.url,
          connections: CONNECTIONS,
          duration_s: WARMUP_S,
          path: '/healthz',
        });
        healthPerSecond = health.requestsPerSecond;
        answered += redirects('Perks', await drive(perks.server.url, perks.path, WARMUP_S)).redirects;
        redirects('bare Node', await drive(bare.url, '/r/CODE', WARMUP_S));
        for (let round = 0; round < ROUNDS; round++) {
          const p = await drive(perks.server.url, perks.path, DURATION_S / ROUNDS);
          const counted = redirects('Perks', p);
          answered += counted.redirects;
          timed.perks.redirects += counted.redirects;
          timed.perks.seconds += counted.seconds;
          timed.perks.p99 = Math.max(timed.perks.p99, p.latencyP99_ms);
          const b = redirects('bare Node', await drive(bare.url, '/r/CODE', DURATION_S / ROUNDS));
          timed.bare.redirects += b.redirects;
          timed.bare.seconds += b.seconds;
        }
      } finally {
        bare.stop();
      }
    } finally {
      await perks.server.stop();
    }
    const perksPerSecond = timed.perks.redirects / timed.perks.seconds;
    const barePerSecond = timed.bare.redirects / timed.bare.seconds;
    ctx.log(
      `Perks: ${Math.round(perksPerSecond)} redirects/s (p99 ${timed.perks.p99} ms); ` +
        `bare Node: ${Math.round(barePerSecond)} redirects/s; Perks /healthz ${Math.round(healthPerSecond)}/s`,
    );

    // The server writes its last batch of clicks when it stops. autocannon stops counting at the end of
    // each run while up to one request per connection is still in flight; those are answered (and
    // stored) but not counted.
    const stored = await storedClicks(database.url);
    const inFlight = (ROUNDS + 1) * CONNECTIONS;
    if (stored < answered || stored > answered + inFlight) {
      throw new Error(
        `Perks answered ${answered} counted redirects (+ up to ${inFlight} in flight) but stored ${stored} clicks`,
      );
    }
    const ratio = perksPerSecond / barePerSecond;
    return [
      benchResult({
        name: `GET /r/{code}, ${CONNECTIONS} connections`,
        unit: 'redirects/s',
        value: perksPerSecond,
        baseline: {
          name: `bare Node HTTP server answering a 302, ${CONNECTIONS} connections`,
          value: barePerSecond,
        },
        target: '>= 0.50× the baseline',
        met: ratio >= 0.5,
        notes:
          `${DURATION_S} s timed per side in ${ROUNDS} alternating rounds, after ${WARMUP_S} s warm-up each; ` +
          `Perks p99 ${timed.perks.p99} ms; the same server's GET /healthz answered ${Math.round(healthPerSecond)}/s; ` +
          `${stored.toLocaleString('en-US')} clicks stored, one per redirect answered`,
      }),
    ];
  } finally {
    await database.drop();
  }
}
