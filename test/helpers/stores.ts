import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres } from '../../src/adapters/db/db.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import type { Db, Sql } from '../../src/app/ports.js';

/**
 * Every store test runs on the embedded store and, where DATABASE_URL is set, on PostgreSQL too.
 * Each PostgreSQL test store is a database of its own, created for the test and dropped after it,
 * so concurrent runs and files never see each other. If DATABASE_URL is set but the server cannot
 * be reached, opening the store fails and so does the test: it is never skipped.
 */
export interface StoreCase {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty store. Closing it drops the PostgreSQL database. */
  open(): Promise<Db>;
}

export function storeCases(): StoreCase[] {
  const cases: StoreCase[] = [{ name: 'pglite', open: openTestPglite }];
  if (process.env.DATABASE_URL) cases.push({ name: 'postgres', open: () => openTestPostgres() });
  return cases;
}

let template: Promise<Blob> | undefined;

/**
 * A fresh in-memory embedded store. Creating a PGlite cluster and migrating it takes seconds, so the
 * first one in a process is dumped and later ones start from that dump.
 */
export async function openTestPglite(dataDir?: string): Promise<Db> {
  if (dataDir) {
    const db = await openPglite({ dataDir, command: 'test' });
    await migrate(db);
    return db;
  }
  template ??= (async () => {
    const db = await openPglite();
    await migrate(db);
    const dump = await db.dump();
    await db.close();
    return dump;
  })();
  const db = await openPglite({ loadDataDir: await template });
  await migrate(db);
  return db;
}

/** Creates a throwaway database next to DATABASE_URL's and returns its URL. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `perks_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function openTestPostgres(poolSize = 20): Promise<Db> {
  const database = await createTestDatabase();
  const db = await openPostgres(database.url, poolSize);
  await migrate(db);
  return {
    ...db,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

/** The store with every statement, its transactions' included, going through `wrap` (faults, hooks). */
export function wrapStore(db: Db, wrap: (sql: Sql) => Sql): Db {
  const outside = wrap(db);
  return {
    kind: db.kind,
    query: (text, params) => outside.query(text, params),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    exec: (script) => db.exec(script),
    close: () => db.close(),
  };
}
