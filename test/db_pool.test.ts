import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { POOL_IDLE_TIMEOUT_DEFAULT_MS } from '../src/adapters/db/db.js';
import { openStore } from '../src/main.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from './helpers/stores.js';

/**
 * A pooled PostgreSQL connection stays open while idle unless DATABASE_POOL_IDLE_TIMEOUT_MS says
 * otherwise: a reopened connection plans the store's functions again, which under load showed as
 * latency spikes (docs/benchmarks.md, promo codes).
 */

const backend = async (db: { query: (text: string) => Promise<unknown[]> }) =>
  ((await db.query('select pg_backend_pid() as pid')) as { pid: number }[])[0]!.pid;

describe('DATABASE_POOL_IDLE_TIMEOUT_MS', () => {
  it('defaults to keeping idle connections, takes a number of ms, and refuses what is not one', () => {
    assert.equal(POOL_IDLE_TIMEOUT_DEFAULT_MS, 0);
    assert.equal(loadConfig({}).poolIdleTimeoutMs, 0);
    assert.equal(loadConfig({ DATABASE_POOL_IDLE_TIMEOUT_MS: '30000' }).poolIdleTimeoutMs, 30_000);
    assert.throws(
      () => loadConfig({ DATABASE_POOL_IDLE_TIMEOUT_MS: '-1' }),
      /DATABASE_POOL_IDLE_TIMEOUT_MS must be an integer from 0 to 86400000, got '-1'/,
    );
    assert.throws(
      () => loadConfig({ DATABASE_POOL_IDLE_TIMEOUT_MS: '1.5' }),
      /DATABASE_POOL_IDLE_TIMEOUT_MS/,
    );
  });

  const postgres = process.env.DATABASE_URL ? {} : { skip: 'needs DATABASE_URL (PostgreSQL)' };

  it(
    'keeps an idle connection by default and closes it after the timeout when one is set',
    postgres,
    async () => {
      const database = await createTestDatabase();
      try {
        const kept = await openStore(loadConfig({ DATABASE_URL: database.url }), 'test');
        const closing = await openStore(
          loadConfig({ DATABASE_URL: database.url, DATABASE_POOL_IDLE_TIMEOUT_MS: '50' }),
          'test',
        );
        try {
          const [keptBefore, closingBefore] = [await backend(kept), await backend(closing)];
          await sleep(400);
          assert.equal(await backend(kept), keptBefore, 'the idle connection was kept');
          assert.notEqual(
            await backend(closing),
            closingBefore,
            'the idle connection was closed and replaced',
          );
        } finally {
          await kept.close();
          await closing.close();
        }
      } finally {
        await database.drop();
      }
    },
  );
});
