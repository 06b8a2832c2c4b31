import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import type { Db, Sql } from '../../app/ports.js';
import { type DataDirLock, lockDataDir } from './lock.js';

export type { Db, Sql };

/**
 * int8 columns hold amounts in minor units and counts. They come back as JavaScript numbers, which
 * is exact because every amount the API accepts is bounded far below 2^53; a value outside that
 * range is a bug and fails loudly instead of losing precision.
 */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} is outside the exact range`);
  return n;
}

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_TX_ATTEMPTS = 5;

/**
 * How long a pooled connection may sit idle before it is closed, by default: never. A connection that
 * closes takes its plans with it (PL/pgSQL keeps a function's plans per connection), so the request
 * that next opens one pays for the connection and for planning the functions it calls again: measured
 * on two cores, 20 to 30 ms for the first promo facts read alone. With pg's default of 10 s, a server
 * under varying load kept closing and reopening connections, and each reopening was a latency spike
 * of 100 ms and more for the requests queued behind it.
 */
export const POOL_IDLE_TIMEOUT_DEFAULT_MS = 0;

/**
 * A pool of at most `poolSize` connections (DATABASE_POOL_SIZE), each closed once idle for
 * `idleTimeoutMs` (DATABASE_POOL_IDLE_TIMEOUT_MS; 0 keeps it).
 */
export async function openPostgres(
  url: string,
  poolSize = 20,
  idleTimeoutMs = POOL_IDLE_TIMEOUT_DEFAULT_MS,
): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    idleTimeoutMillis: idleTimeoutMs,
    // Idle connections never keep a process alive that has nothing else to do (a CLI command, a test).
    allowExitOnIdle: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client can error when the server restarts; without a listener that would crash the process.
  pool.on('error', () => {});
  await pool.query('select 1');
  return {
    kind: 'postgres',
    async query(text, params) {
      const res = await pool.query(text, params as unknown[]);
      return res.rows;
    },
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const tx: Sql = {
            async query(text, params) {
              const res = await client.query(text, params as unknown[]);
              return res.rows;
            },
          };
          const result = await fn(tx);
          await client.query('commit');
          return result;
        } catch (err) {
          await client.query('rollback').catch(() => {});
          const code = (err as { code?: string }).code;
          if (code && RETRYABLE.has(code) && attempt < MAX_TX_ATTEMPTS) continue;
          throw err;
        } finally {
          client.release();
        }
      }
    },
    async exec(script) {
      await pool.query(script);
    },
    async close() {
      await pool.end();
    },
  };
}

export interface PgliteOptions {
  /** A folder for the data; undefined keeps everything in memory (tests). */
  dataDir?: string;
  /** Recorded in the lock file so a second process can name the holder. */
  command?: string;
  /** An in-memory store starts from this dump (tests start from a migrated template). */
  loadDataDir?: Blob;
}

/** The embedded store can also dump its whole data folder (tests clone a migrated template). */
export interface PgliteDb extends Db {
  dump(): Promise<Blob>;
}

/**
 * PGlite executes each statement synchronously and settles its promises as microtasks, so a long
 * transaction (a batch of 1,000 events) would never return to the event loop: signals, timers and
 * sockets would wait for all of it, and SIGTERM or /healthz would go unanswered. One event-loop turn
 * before each statement keeps the process responsive, for a few microseconds per statement.
 */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function openPglite(options: PgliteOptions = {}): Promise<PgliteDb> {
  let lock: DataDirLock | undefined;
  let pglite: PGlite;
  const parsers = { [pgliteTypes.INT8]: parseInt8 };
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    lock = lockDataDir(options.dataDir, options.command ?? 'perks');
    try {
      pglite = new PGlite(path.join(options.dataDir, 'pgdata'), { parsers });
      await pglite.waitReady;
    } catch (err) {
      lock.release();
      throw err;
    }
  } else {
    pglite = new PGlite({ parsers, ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}) });
    await pglite.waitReady;
  }
  const db = pglite;
  return {
    kind: 'pglite',
    async query(text, params) {
      await turn();
      const res = await db.query(text, params as unknown[]);
      return res.rows as never;
    },
    // PGlite runs one transaction at a time behind its own mutex, so there are no serialization
    // failures to retry.
    async transaction(fn) {
      return db.transaction(async (t) =>
        fn({
          async query(text, params) {
            await turn();
            const res = await t.query(text, params as unknown[]);
            return res.rows as never;
          },
        }),
      );
    },
    async exec(script) {
      await db.exec(script);
    },
    dump: () => db.dumpDataDir('none'),
    async close() {
      try {
        await db.close();
      } finally {
        lock?.release();
      }
    },
  };
}
