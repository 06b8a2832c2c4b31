import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: string;
  sql: string;
}

export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(MIGRATIONS_DIR + f, 'utf8') }));
}

// schema_migrations is the store's own bookkeeping, not tenant data, so it has no workspace_id.
const BOOKKEEPING = `create table if not exists schema_migrations (
  version text primary key,
  applied_at timestamptz not null default now()
)`;

/**
 * Applies the forward-only migrations not yet applied, each in its own transaction. An advisory lock
 * makes concurrent starts on one PostgreSQL database apply each migration once.
 */
export async function migrate(db: Db, log: (line: string) => void = () => {}): Promise<string[]> {
  await db.exec(BOOKKEEPING);
  const applied: string[] = [];
  for (const m of listMigrations()) {
    const done = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(727274)');
      const rows = await tx.query('select 1 from schema_migrations where version = $1', [m.version]);
      if (rows.length > 0) return false;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('insert into schema_migrations (version) values ($1)', [m.version]);
      return true;
    });
    if (done) {
      applied.push(m.version);
      log(`applied migration ${m.version}`);
    }
  }
  return applied;
}

export async function pendingMigrations(db: Db): Promise<string[]> {
  const rows = await db.query<{ version: string }>('select version from schema_migrations');
  const have = new Set(rows.map((r) => r.version));
  return listMigrations()
    .map((m) => m.version)
    .filter((v) => !have.has(v));
}

/**
 * Splits a migration into statements so each runs as a parameterless query inside the transaction.
 * Statements end with a semicolon at the end of a line; a function body between $$ markers is kept
 * whole.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    const trimmed = line.trim();
    if (!inDollar && (trimmed.startsWith('--') || trimmed === '')) continue;
    current += `${line}\n`;
    if ((line.match(/\$\$/g)?.length ?? 0) % 2 === 1) inDollar = !inDollar;
    if (!inDollar && trimmed.endsWith(';')) {
      out.push(current.trim().replace(/;$/, ''));
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
