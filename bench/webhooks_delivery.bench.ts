/**
 * Outbound webhook deliveries per second from the outbox to a local receiver, on PostgreSQL: the
 * delivery worker claims due rows (FOR UPDATE SKIP LOCKED), signs each (Standard Webhooks), POSTs it,
 * and records the attempt and the outcome in one transaction per delivery.
 *
 * Baseline: the same signed POSTs of the same bodies to the same receiver, at the same concurrency,
 * from a plain loop with no database: what the HTTP part alone costs on this machine.
 *
 * The worker runs in the benchmark's process (as `startWorkers` runs inside `perks serve`), and so do
 * the receiver and the baseline; the deliveries are written to the outbox before the clock starts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { signedHeaders } from '../src/adapters/webhooks/signing.js';
import { startWorkers } from '../src/adapters/webhooks/workers.js';
import { openPostgres } from '../src/adapters/db/db.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import { emitWebhookEvent } from '../src/app/outbox_webhooks.js';
import { createEndpoint } from '../src/app/webhook_endpoints.js';
import { createWorkspace } from '../src/app/workspaces.js';
import {
  type BenchContext,
  type BenchResult,
  benchResult,
  createBenchDatabase,
  inParallel,
  scaled,
} from './lib.js';

const DELIVERIES = scaled(5_000, 100);
const CONCURRENCY = 32;
const WRITE_BATCH = 250;

interface ReceiverServer {
  url: string;
  ids: Set<string>;
  count(): number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<ReceiverServer> {
  const ids = new Set<string>();
  let count = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      ids.add(String(req.headers['webhook-id']));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    ids,
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export default async function webhooksDelivery(ctx: BenchContext): Promise<BenchResult[]> {
  const database = await createBenchDatabase(ctx.databaseUrl);
  const db = await openPostgres(database.url, 20);
  const receiver = await startReceiver();
  try {
    const deps = { db, clock: systemClock, ids: systemIds() };
    const { workspace } = await createWorkspace(deps, 'bench');
    const endpoint = await db.transaction((tx) =>
      createEndpoint(deps, tx, workspace.id, { url: receiver.url, event_types: ['*'] }),
    );
    for (let written = 0; written < DELIVERIES; written += WRITE_BATCH) {
      await db.transaction(async (tx) => {
        for (let k = written; k < Math.min(written + WRITE_BATCH, DELIVERIES); k++) {
          await emitWebhookEvent(deps, tx, workspace.id, 'reward.granted', {
            grant: `lot_${k}`,
            customer: `team_${k % 3000}`,
            asset: 'usd_credit',
            amount_cents: 2500,
          });
        }
      });
    }
    const bodies = await db.query<{ event_id: string; body: string }>(
      `select event_id, payload->>'body' as body from outbox where workspace_id = $1 order by id`,
      [workspace.id],
    );

    // Perks: the worker drains the outbox.
    const start = performance.now();
    const stop = startWorkers(deps, {
      webhooksAllowPrivate: 'loopback',
      pollInterval_ms: 20,
      webhookBatch: CONCURRENCY,
      log: (message, err) => ctx.log(`${message} ${String(err)}`),
    });
    const deadline = start + 180_000;
    for (;;) {
      if (performance.now() > deadline) {
        await stop();
        throw new Error('the worker did not deliver everything within 180 s');
      }
      const [left] = await db.query<{ n: number }>(
        `select count(*)::int8 as n from outbox where workspace_id = $1 and status = 'pending'`,
        [workspace.id],
      );
      if (left!.n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const perks_s = (performance.now() - start) / 1000;
    await stop();
    const [succeeded] = await db.query<{ n: number }>(
      `select count(*)::int8 as n from outbox where workspace_id = $1 and status = 'succeeded'`,
      [workspace.id],
    );
    if (succeeded!.n !== DELIVERIES || receiver.ids.size !== DELIVERIES) {
      throw new Error(
        `expected ${DELIVERIES} deliveries, found ${succeeded!.n} succeeded and ${receiver.ids.size} received`,
      );
    }
    const perksRate = DELIVERIES / perks_s;
    ctx.log(`worker: ${perksRate.toFixed(0)} deliveries/s (${DELIVERIES} in ${perks_s.toFixed(1)} s)`);

    // Baseline: the same signed POSTs, no database.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const target = new URL(receiver.url);
    const before = receiver.count();
    const post = (id: string, body: string) =>
      new Promise<void>((resolve, reject) => {
        const headers = signedHeaders([endpoint.secret], id, Math.floor(Date.now() / 1000), body);
        const req = http.request(
          target,
          {
            method: 'POST',
            agent,
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const baselineStart = performance.now();
    await inParallel(bodies, CONCURRENCY, (b) => post(b.event_id, b.body));
    const baseline_s = (performance.now() - baselineStart) / 1000;
    agent.destroy();
    if (receiver.count() - before !== DELIVERIES) throw new Error('the baseline did not deliver everything');
    const baselineRate = DELIVERIES / baseline_s;
    ctx.log(`baseline: ${baselineRate.toFixed(0)} POSTs/s`);

    return [
      benchResult({
        name: `Webhook deliveries from the outbox to a local receiver, ${CONCURRENCY} at once`,
        unit: 'deliveries/s',
        value: perksRate,
        baseline: {
          name: `The same signed POSTs from a plain loop, no database, ${CONCURRENCY} at once`,
          value: baselineRate,
        },
        notes: `${DELIVERIES} deliveries; each one is claimed, signed, sent, and recorded (attempt log and outcome) in its own transaction`,
      }),
    ];
  } finally {
    await receiver.close();
    await db.close();
    await database.drop();
  }
}
