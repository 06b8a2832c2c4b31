import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH_CACHE_DEFAULT_MS, createKey, hashKey, revokeKey } from '../src/app/workspaces.js';
import { loadConfig } from '../src/config.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { storeCases } from './helpers/stores.js';

/**
 * A server trusts an API key lookup for PERKS_AUTH_CACHE_MS (default AUTH_CACHE_DEFAULT_MS) instead
 * of asking the store on every request. A key revoked in the same process stops working at once; one
 * revoked elsewhere (another server, or straight in the store as here) works for at most that long.
 */

/** A revocation this process does not see, as another server process would make it. */
async function revokeElsewhere(h: Harness, keyId: string) {
  await h.db.query('update api_keys set revoked_at = $2 where id = $1', [keyId, h.clock.now()]);
}

async function status(h: Harness, key: string) {
  const res = await h.request('GET', '/v1/customers', { key });
  return { status: res.status, code: res.body?.error?.code as string | undefined };
}

describe('PERKS_AUTH_CACHE_MS', () => {
  it('defaults to a few seconds, takes 0 to turn the cache off, and refuses more than a minute', () => {
    assert.equal(loadConfig({}).authCacheMs, AUTH_CACHE_DEFAULT_MS);
    assert.ok(AUTH_CACHE_DEFAULT_MS >= 1_000 && AUTH_CACHE_DEFAULT_MS <= 10_000);
    assert.equal(loadConfig({ PERKS_AUTH_CACHE_MS: '0' }).authCacheMs, 0);
    assert.equal(loadConfig({ PERKS_AUTH_CACHE_MS: '2500' }).authCacheMs, 2500);
    assert.throws(() => loadConfig({ PERKS_AUTH_CACHE_MS: '60001' }), /PERKS_AUTH_CACHE_MS/);
    assert.throws(() => loadConfig({ PERKS_AUTH_CACHE_MS: '-1' }), /PERKS_AUTH_CACHE_MS/);
  });
});

for (const store of storeCases()) {
  describe(`API key lookups are cached for a bounded time (${store.name})`, () => {
    let h: Harness;
    let uncached: Harness;
    before(async () => {
      h = await startHarness(store);
      uncached = await startHarness(store, { server: { authCacheMs: 0 } });
    });
    after(async () => {
      await h?.close();
      await uncached?.close();
    });

    it('a key revoked by another process works until the cached lookup expires, then never again', async () => {
      const { key, secret } = await createKey(h.deps, h.workspaceId, 'elsewhere');
      assert.equal((await status(h, secret)).status, 200);
      await revokeElsewhere(h, key.id);
      h.clock.advance(AUTH_CACHE_DEFAULT_MS - 1);
      assert.equal((await status(h, secret)).status, 200, 'still trusted within the cache time');
      h.clock.advance(1);
      assert.deepEqual(await status(h, secret), { status: 401, code: 'api_key_revoked' });
      h.clock.advance(AUTH_CACHE_DEFAULT_MS * 3);
      assert.deepEqual(await status(h, secret), { status: 401, code: 'api_key_revoked' });
    });

    it('a key revoked through revokeKey in this process stops working at once', async () => {
      const { key, secret } = await createKey(h.deps, h.workspaceId, 'here');
      assert.equal((await status(h, secret)).status, 200);
      await revokeKey(h.deps, key.id);
      assert.deepEqual(await status(h, secret), { status: 401, code: 'api_key_revoked' });
    });

    it('a clock moved back makes the cached lookup stale', async () => {
      const { key, secret } = await createKey(h.deps, h.workspaceId, 'clock');
      assert.equal((await status(h, secret)).status, 200);
      await revokeElsewhere(h, key.id);
      h.clock.advance(-1);
      assert.deepEqual(await status(h, secret), { status: 401, code: 'api_key_revoked' });
    });

    it('unknown keys are not cached: a key known a moment later works at once', async () => {
      const secret = `sk_${'b'.repeat(20)}${Date.now().toString().padStart(23, '0')}`;
      assert.deepEqual(await status(h, secret), { status: 401, code: 'api_key_invalid' });
      await h.db.query(
        `insert into api_keys (workspace_id, id, name, prefix, key_hash, created_at)
         values ($1, $2, 'late', $3, $4, $5)`,
        [h.workspaceId, h.deps.ids.id('key'), secret.slice(0, 10), hashKey(secret), h.clock.now()],
      );
      assert.equal((await status(h, secret)).status, 200);
    });

    it('with PERKS_AUTH_CACHE_MS=0 every request asks the store', async () => {
      const { key, secret } = await createKey(uncached.deps, uncached.workspaceId, 'uncached');
      assert.equal((await status(uncached, secret)).status, 200);
      await revokeElsewhere(uncached, key.id);
      assert.deepEqual(await status(uncached, secret), { status: 401, code: 'api_key_revoked' });
    });
  });
}
