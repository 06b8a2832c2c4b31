import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPostgres } from '../../src/adapters/db/db.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import { pruneFailureCounters, startFailurePruner } from '../../src/app/promo_failures.js';
import { loadConfig } from '../../src/config.js';
import { FAILURE_LIMITS } from '../../src/core/promo/guessing.js';
import { type Running, serve } from '../../src/main.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { createTestDatabase, storeCases } from '../helpers/stores.js';
import { createCode, createPromotion, seedCustomers } from './helpers.js';

/**
 * Guessing codes is limited: 100 consecutive failures per customer per hour and 1,000 per client IP
 * per hour (validate and redeem together), then 429 rate_limited with Retry-After until the window
 * ends. The counters live in the database, so every server process shares them.
 */
for (const store of storeCases()) {
  describe(`guessing limits (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-06-15T12:00:00Z');
    });
    after(() => h.close());

    it('blocks a customer after 100 failures in an hour with 429 and Retry-After, then lets it try again', async () => {
      const { key } = await h.newWorkspace('guess-customer');
      const p = await createPromotion(h, { percent_off_bps: 1000 }, key);
      await createCode(h, { promotion: p.id, code: 'REALCODE' }, key);
      await h.request('POST', '/v1/customers', { key, body: { external_id: 'guesser' } });
      const limit = FAILURE_LIMITS.customer.failures;
      for (let i = 0; i < limit; i++) {
        // Each attempt from its own IP, so only the customer's limit is reached; both endpoints count.
        const path = i % 2 === 0 ? '/v1/promotion_codes/redeem' : '/v1/promotion_codes/validate';
        const res = await h.request('POST', path, {
          key,
          body: { code: `GUESS${i}`, customer: 'guesser', client_ip: `10.0.${i >> 8}.${i & 255}` },
        });
        assert.ok(res.status === 404 || res.status === 200, `attempt ${i}: ${res.status}`);
      }
      h.clock.advance(60_000);
      const blocked = await h.request('POST', '/v1/promotion_codes/redeem', {
        key,
        body: { code: 'REALCODE', customer: 'guesser', client_ip: '10.9.9.9' },
      });
      assert.equal(blocked.status, 429);
      assert.equal(blocked.body.error.code, 'rate_limited');
      assert.equal(blocked.headers['retry-after'], String(3600 - 60));
      assert.equal(blocked.body.error.retry_after_seconds, 3600 - 60);
      assert.match(blocked.body.error.message, /at most 100 per 60 minutes/);
      const validateBlocked = await h.request('POST', '/v1/promotion_codes/validate', {
        key,
        body: { code: 'REALCODE', customer: 'guesser' },
      });
      assert.equal(validateBlocked.status, 429);
      // Another customer is not affected.
      await h.request('POST', '/v1/customers', { key, body: { external_id: 'honest' } });
      const honest = await h.request('POST', '/v1/promotion_codes/redeem', {
        key,
        body: { code: 'REALCODE', customer: 'honest', client_ip: '10.9.9.9' },
      });
      assert.equal(honest.status, 201);
      // A refusal for a while is not stored under an Idempotency-Key: the same request runs once
      // the window is over.
      const keyed = { 'idempotency-key': 'guesser-redeem-1' };
      const blockedWithKey = await h.request('POST', '/v1/promotion_codes/redeem', {
        key,
        headers: keyed,
        body: { code: 'REALCODE', customer: 'guesser', client_ip: '10.9.9.9' },
      });
      assert.equal(blockedWithKey.status, 429);
      // When the window is over, the customer may try again, and a success clears its count.
      h.clock.advance(3600_000);
      const later = await h.request('POST', '/v1/promotion_codes/redeem', {
        key,
        headers: keyed,
        body: { code: 'REALCODE', customer: 'guesser', client_ip: '10.9.9.9' },
      });
      assert.equal(later.headers['idempotent-replayed'], undefined);
      assert.equal(later.status, 201, JSON.stringify(later.body));
      const rows = await h.db.query(
        "select * from promotion_failures where scope = 'customer' and subject in (select id from customers where external_id = 'guesser')",
      );
      assert.equal(rows.length, 0, 'a successful redemption clears the consecutive failures');
    });

    it('answers at most 100 failures to a burst of concurrent guesses; the rest get 429, stored under no key', async () => {
      const { key } = await h.newWorkspace('guess-burst');
      await h.request('POST', '/v1/customers', { key, body: { external_id: 'burster' } });
      const limit = FAILURE_LIMITS.customer.failures;
      // Every attempt from its own IP, so only the customer's limit applies; a third carry a key.
      const attempt = (i: number) =>
        h.request('POST', i % 2 === 0 ? '/v1/promotion_codes/redeem' : '/v1/promotion_codes/validate', {
          key,
          ...(i % 3 === 0 ? { headers: { 'idempotency-key': `burst-${i}` } } : {}),
          body: { code: `BURST${i}`, customer: 'burster', client_ip: `10.1.${i >> 8}.${i & 255}` },
        });
      const replies = await Promise.all(Array.from({ length: 250 }, (_, i) => attempt(i)));
      const failed = replies.filter(
        (r) => r.status === 404 || (r.status === 200 && r.body.error.code === 'code_invalid'),
      );
      const blocked = replies.filter((r) => r.status === 429);
      assert.equal(failed.length, limit);
      assert.equal(blocked.length, 250 - limit);
      for (const r of blocked) assert.equal(r.body.error.code, 'rate_limited');
      // A keyed attempt refused with 429 stored nothing: retried, it is refused again, not replayed.
      for (const [i, r] of replies.entries()) {
        if (i % 3 !== 0) continue;
        const again = await attempt(i);
        assert.equal(again.status, r.status, `burst-${i}`);
        assert.equal(
          again.headers['idempotent-replayed'],
          r.status === 429 ? undefined : 'true',
          `burst-${i}`,
        );
      }
    });

    it('blocks a client IP at 1,000 failures in an hour, whichever customers it tries', async () => {
      const { key, workspaceId } = await h.newWorkspace('guess-ip');
      const customers = await seedCustomers(h, 'ipguess', 20, workspaceId);
      const attempt = (i: number, ip = '203.0.113.7') =>
        h.request('POST', '/v1/promotion_codes/validate', {
          key,
          body: { code: `NOPE${i}`, customer: customers[i % customers.length], client_ip: ip },
        });
      // Real failures over many customers are counted on the one IP...
      for (let i = 0; i < 40; i++) assert.equal((await attempt(i)).status, 200);
      const counted = async () =>
        (
          await h.db.query<{ failures: number }>(
            "select failures from promotion_failures where workspace_id = $1 and scope = 'ip'",
            [workspaceId],
          )
        ).map((r) => r.failures);
      assert.deepEqual(await counted(), [40]);
      // ...and rather than send a thousand requests, the count is moved to one below the limit.
      await h.db.query(
        "update promotion_failures set failures = $2 where workspace_id = $1 and scope = 'ip'",
        [workspaceId, FAILURE_LIMITS.ip.failures - 1],
      );
      assert.equal((await attempt(1000)).status, 200, 'the 1,000th failure is still answered');
      const blocked = await h.request('POST', '/v1/promotion_codes/redeem', {
        key,
        body: { code: 'NOPE', customer: customers[0], client_ip: '203.0.113.7' },
      });
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers['retry-after'], '3600');
      assert.match(blocked.body.error.message, /client IP: at most 1000 per 60 minutes/);
      assert.equal((await attempt(1001, '203.0.113.8')).status, 200, 'another IP is not blocked');
      // The same address written IPv4-mapped, as a dual-stack listener reports it, is the same client.
      assert.equal((await attempt(1002, '::ffff:203.0.113.7')).status, 429);
      const stored = await h.db.query<{ subject: string }>(
        "select subject from promotion_failures where workspace_id = $1 and scope = 'ip'",
        [workspaceId],
      );
      assert.ok(
        stored.every((r) => /^[0-9a-f]{64}$/.test(r.subject)),
        'IP addresses are stored as digests only',
      );
    });

    it('counts an IPv6 client by its /64: another address of the block is blocked too', async () => {
      const { key, workspaceId } = await h.newWorkspace('guess-ipv6');
      const customers = await seedCustomers(h, 'ip6guess', 5, workspaceId);
      const attempt = (i: number, ip: string) =>
        h.request('POST', '/v1/promotion_codes/validate', {
          key,
          body: { code: `NOPE${i}`, customer: customers[i % customers.length], client_ip: ip },
        });
      assert.equal((await attempt(0, '2001:db8:5:6::1')).status, 200);
      await h.db.query(
        "update promotion_failures set failures = $2 where workspace_id = $1 and scope = 'ip'",
        [workspaceId, FAILURE_LIMITS.ip.failures],
      );
      assert.equal((await attempt(1, '2001:DB8:5:6:aaaa:bbbb:cccc:dddd')).status, 429);
      assert.equal((await attempt(2, '2001:db8:5:7::1')).status, 200, 'the next /64 is another client');
    });

    it('counts failures per workspace: another workspace is not blocked', async () => {
      const a = await h.newWorkspace('guess-a');
      const b = await h.newWorkspace('guess-b');
      for (const w of [a, b])
        await h.request('POST', '/v1/customers', { key: w.key, body: { external_id: 'same_ext' } });
      for (let i = 0; i < FAILURE_LIMITS.customer.failures; i++) {
        await h.request('POST', '/v1/promotion_codes/validate', {
          key: a.key,
          body: { code: `X${i}`, customer: 'same_ext', client_ip: `10.1.${i >> 8}.${i & 255}` },
        });
      }
      const blockedA = await h.request('POST', '/v1/promotion_codes/validate', {
        key: a.key,
        body: { code: 'X', customer: 'same_ext' },
      });
      assert.equal(blockedA.status, 429);
      const freeB = await h.request('POST', '/v1/promotion_codes/validate', {
        key: b.key,
        body: { code: 'X', customer: 'same_ext' },
      });
      assert.equal(freeB.status, 200);
    });

    /** One failed validation in a new workspace: a counter for the customer and one for the IP. */
    async function failedOnce(name: string) {
      const { key, workspaceId } = await h.newWorkspace(name);
      await h.request('POST', '/v1/customers', { key, body: { external_id: name } });
      await h.request('POST', '/v1/promotion_codes/validate', {
        key,
        body: { code: 'NOPE', customer: name, client_ip: '192.0.2.1' },
      });
      const count = async () =>
        (await h.db.query('select 1 from promotion_failures where workspace_id = $1', [workspaceId])).length;
      assert.equal(await count(), 2, 'one counter for the customer, one for the IP');
      return count;
    }

    it('prunes counters whose window is over', async () => {
      const count = await failedOnce('guess-prune');
      h.clock.advance(FAILURE_LIMITS.customer.window_ms - 1);
      await pruneFailureCounters(h.deps);
      assert.equal(await count(), 2, 'a window still open is kept');
      h.clock.advance(1);
      assert.ok((await pruneFailureCounters(h.deps)) >= 2);
      assert.equal(await count(), 0);
    });

    it('prunes them in the background (startFailurePruner)', async () => {
      const count = await failedOnce('guess-prune-bg');
      h.clock.advance(FAILURE_LIMITS.ip.window_ms);
      const errors: unknown[] = [];
      const pruner = startFailurePruner(h.deps, 5, (err) => errors.push(err));
      try {
        const deadline = Date.now() + 10_000;
        while ((await count()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      } finally {
        await pruner.stop();
      }
      assert.equal(await count(), 0, 'the expired counters were deleted without a call');
      assert.deepEqual(errors, []);
    });
  });
}

/** The real server (`serve`, as `perks serve` runs it) prunes expired counters without being asked. */
if (process.env.DATABASE_URL) {
  describe('perks serve prunes expired failure counters (postgres)', () => {
    it('deletes a counter whose window ended before the server started, and keeps an open one', async () => {
      const database = await createTestDatabase();
      const db = await openPostgres(database.url, 2);
      let running: Running | undefined;
      try {
        await migrate(db);
        await db.query(`insert into workspaces (workspace_id, name) values ('ws_prune', 'prune')`);
        const windowMs = FAILURE_LIMITS.ip.window_ms;
        await db.query(
          `insert into promotion_failures (workspace_id, scope, subject, failures, window_started_at)
           values ('ws_prune', 'ip', 'over', 3, now() - $1 * interval '1 millisecond'),
                  ('ws_prune', 'ip', 'open', 3, now())`,
          [windowMs + 60_000],
        );
        running = await serve(
          loadConfig({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'silent' }),
          () => {},
        );
        const subjects = async () =>
          (
            await db.query<{ subject: string }>('select subject from promotion_failures order by subject')
          ).map((r) => r.subject);
        const deadline = Date.now() + 10_000;
        while ((await subjects()).includes('over') && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(await subjects(), ['open']);
      } finally {
        await running?.stop();
        await db.close();
        await database.drop();
      }
    });
  });
}
