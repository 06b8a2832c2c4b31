import { Command } from 'commander';
import { registerPromotionCommands } from '../../src/adapters/cli/promotions.js';
import { openPglite, openPostgres } from '../../src/adapters/db/db.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import type { Db } from '../../src/app/ports.js';
import { freshDataDir } from './processes.js';
import { createTestDatabase } from './stores.js';

/** A store the real CLI runs against in a child process (through `env`) and a test opens directly. */
export interface CliStore {
  name: 'pglite' | 'postgres';
  env: Record<string, string>;
  open(): Promise<Db>;
  remove(): Promise<void>;
}

export interface CliStoreCase {
  name: CliStore['name'];
  make(): Promise<CliStore>;
}

/** A fresh embedded data folder, and where DATABASE_URL is set a fresh PostgreSQL database too. */
export function cliStoreCases(label: string): CliStoreCase[] {
  const pglite: CliStoreCase = {
    name: 'pglite',
    async make() {
      const tmp = await freshDataDir(label);
      return {
        name: 'pglite',
        env: { PERKS_DATA_DIR: tmp.dir, DATABASE_URL: '' },
        open: () => openPglite({ dataDir: tmp.dir, command: `${label} test` }),
        remove: async () => tmp.remove(),
      };
    },
  };
  const postgres: CliStoreCase = {
    name: 'postgres',
    async make() {
      const database = await createTestDatabase();
      return {
        name: 'postgres',
        env: { DATABASE_URL: database.url },
        open: () => openPostgres(database.url, 2),
        remove: () => database.drop(),
      };
    },
  };
  return [pglite, ...(process.env.DATABASE_URL ? [postgres] : [])];
}

/** Runs `fn` on the store and closes it (the embedded store allows one process at a time). */
export async function onStore<T>(store: CliStore, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await store.open();
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Runs `perks <args>` (the promotions commands) in this process, against the store the environment
 * names: stdout as the CLI writes its lines, stderr as its chunks; `onProgress` sees each stderr chunk
 * as it is written.
 */
export async function runPromotionsCli(args: string[], onProgress: (chunk: string) => void = () => {}) {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerPromotionCommands(program, {
    out: (line) => out.push(line),
    progress: {
      isTTY: false,
      write: (chunk: string) => {
        onProgress(chunk);
        return err.push(chunk) > 0;
      },
    },
  });
  await program.parseAsync(args, { from: 'user' });
  return { stdout: out.join('\n'), stderr: err.join(''), progress: err };
}
