import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Sql } from '../../src/app/ports.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases, wrapStore } from '../helpers/stores.js';

/**
 * A refused redemption with an Idempotency-Key is counted against the guessing limits before its
 * answer is stored. When that count fails (the database refuses the statement), nothing is stored and
 * the key is released: the same request can be sent again, and gets its answer then.
 */

let failCounting = false;

function failing(sql: Sql): Sql {
  return {
    query<T extends object>(text: string, params?: readonly unknown[]) {
      if (failCounting && text.includes('insert into promotion_failures')) {
        return Promise.reject(new Error('the failure counter is unavailable'));
      }
      return sql.query<T>(text, params);
    },
  };
}

for (const store of storeCases()) {
  describe(`a failure count that fails (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ name: store.name, open: async () => wrapStore(await store.open(), failing) });
    });
    after(() => h.close());

    it('stores nothing under the Idempotency-Key and releases it', async () => {
      await h.request('POST', '/v1/customers', { body: { external_id: 'counted' } });
      const send = () =>
        h.request('POST', '/v1/promotion_codes/redeem', {
          body: { code: 'NOSUCHCODE', customer: 'counted' },
          headers: { 'idempotency-key': 'count-fails' },
        });
      failCounting = true;
      const first = await send().finally(() => {
        failCounting = false;
      });
      assert.equal(first.status, 500, JSON.stringify(first.body));
      const keys = await h.db.query('select state from idempotency_keys where key = $1', ['count-fails']);
      assert.deepEqual(keys, [], 'the key was released');
      const again = await send();
      assert.equal(again.status, 404, JSON.stringify(again.body));
      assert.equal(again.body.error.code, 'code_invalid');
      assert.equal(again.headers['idempotent-replayed'], undefined);
    });
  });
}
