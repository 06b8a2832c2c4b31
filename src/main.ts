import type { FastifyInstance } from 'fastify';
import { openPglite, openPostgres } from './adapters/db/db.js';
import { migrate, pendingMigrations } from './adapters/db/migrate.js';
import { buildServer } from './adapters/http/server.js';
import { startWorkers } from './adapters/webhooks/workers.js';
import { startSweeper } from './app/ledger_sweeper.js';
import { startCodeBatchWorker } from './app/promo_batches.js';
import { startFailurePruner } from './app/promo_failures.js';
import { systemClock, systemIds } from './adapters/system.js';
import type { Db, Deps } from './app/ports.js';
import { createWorkspace, listWorkspaces } from './app/workspaces.js';
import { type Config, loadConfig } from './config.js';

/** The composition root: the one place that picks concrete adapters. */
export async function openStore(config: Config, command: string): Promise<Db> {
  if (config.databaseUrl) {
    return openPostgres(config.databaseUrl, config.poolSize, config.poolIdleTimeoutMs);
  }
  return openPglite({ dataDir: config.dataDir, command });
}

export function describeStore(config: Config): string {
  if (!config.databaseUrl) return `embedded store in ${config.dataDir}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.host}${url.pathname}`;
}

export function makeDeps(db: Db): Deps {
  return { db, clock: systemClock, ids: systemIds() };
}

/** Why the store is not ready to serve this code (a migration not applied), or undefined. */
export async function migrationProblem(db: Db): Promise<string | undefined> {
  const pending = await pendingMigrations(db);
  return pending.length > 0 ? `migrations not applied: ${pending.join(', ')}` : undefined;
}

/**
 * The background work of a server process: the expiry sweeper (balances and history exact at rest),
 * bulk code generation, pruning promo-code failure counters whose window is over, and the outbox
 * workers (webhook deliveries, Stripe calls). Every one claims its work in the database, so any number
 * of processes may run them on one PostgreSQL database.
 */
function startBackgroundWork(deps: Deps, config: Config, app: FastifyInstance): () => Promise<void> {
  const report = (what: string) => (err: unknown) =>
    app.log.error({ err }, `${what} failed; it will try again`);
  const sweeper = startSweeper(deps, 30_000, report('the expiry sweeper'));
  const codes = startCodeBatchWorker(deps, 1_000, report('the code generation worker'));
  const pruner = startFailurePruner(deps, undefined, report('pruning promo-code failure counters'));
  const stopOutbox = startWorkers(deps, {
    stripeApiBase: config.stripeApiBase,
    webhooksAllowPrivate: config.webhooksAllowPrivate,
    log: (message, err) => app.log.error({ err }, message),
  });
  return async () => {
    await Promise.all([sweeper.stop(), codes.stop(), pruner.stop(), stopOutbox()]);
  };
}

export interface Running {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/**
 * Opens the store, applies migrations, and listens. On a store with no workspace yet, it creates one
 * and prints its key once, so a first run can be tried with curl straight away.
 */
export async function serve(config: Config = loadConfig(), print: (line: string) => void = console.log) {
  const db = await openStore(config, `perks serve (port ${config.port})`);
  let app: FastifyInstance | undefined;
  try {
    const deps = makeDeps(db);
    await migrate(db, (line) => print(line));
    app = await buildServer(deps, {
      logger: { level: config.logLevel },
      ready: () => migrationProblem(db),
      ...(config.authCacheMs === undefined ? {} : { authCacheMs: config.authCacheMs }),
      ...(config.trustProxy === undefined ? {} : { trustProxy: config.trustProxy }),
    });
    // Once stopping, every answer tells the client to close its connection: a keep-alive connection
    // whose request was in flight would otherwise hold the shutdown open until its idle timeout.
    let closing = false;
    app.addHook('onSend', async (_req, reply) => {
      if (closing) reply.header('connection', 'close');
    });
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    print(`Perks is listening on ${url} (${describeStore(config)})`);
    if (!config.workers && !config.databaseUrl) {
      // No other process can open the embedded store, so no other process can do this one's work.
      print(
        'Warning: PERKS_WORKERS=false on the embedded store: background work (code batches over 1,000 ' +
          'codes, webhook deliveries, Stripe calls, credit expiry) waits until a server runs with workers on.',
      );
    }
    if ((await listWorkspaces(deps)).length === 0) {
      const { workspace, secret } = await createWorkspace(deps, 'default');
      print(`Created workspace "${workspace.name}" (${workspace.id}). Its secret key, shown only this once:`);
      print(`  ${secret}`);
      print('Try it:');
      print(
        `  curl -s ${url}/v1/customers -H "Authorization: Bearer ${secret}" ` +
          `-H 'content-type: application/json' -d '{"external_id": "team_1", "email": "ops@team1.example"}'`,
      );
      print(`API reference: ${url}/docs`);
      print(`Dashboard: ${url}/dashboard/ (sign in with the key above)`);
    }
    const server = app;
    const stopWorkers = config.workers ? startBackgroundWork(deps, config, server) : async () => {};
    let stopping: Promise<void> | undefined;
    const stop = () => {
      // The workers finish the batch in hand first; then Fastify stops accepting connections and waits
      // for in-flight requests. Each request's and batch's writes are one transaction, so nothing is left
      // half-written. Then the store closes and its lock is freed.
      closing = true;
      stopping ??= stopWorkers()
        .then(() => server.close())
        .then(() => db.close());
      return stopping;
    };
    return { app: server, url, stop } satisfies Running;
  } catch (err) {
    await app?.close().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }
}
