import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemIds } from '../../src/adapters/system.js';
import type { Db, Deps, Sql } from '../../src/app/ports.js';
import { GuessingBlockedError, ipSubject } from '../../src/app/promo_failures.js';
import { redeemCode, redeemCodeStandalone, validateCode } from '../../src/app/promo_redemptions.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { FAILURE_LIMITS, type FailureScope } from '../../src/core/promo/guessing.js';
import { TestClock } from '../helpers/harness.js';
import { storeCases, wrapStore } from '../helpers/stores.js';

/**
 * A request is decided on facts read before the failures of concurrent attempts are counted. A
 * success must still not be answered once its customer or client IP has reached the guessing limit
 * by then: a burst of guesses would otherwise tell which one is valid. Here the limit is reached
 * between a request's facts read and its answer, as a burst would reach it.
 */

/** Runs `hook` once, on the store itself, right after the next facts read returns. */
let afterNextFacts: (() => Promise<unknown>) | undefined;

function hookedSql(sql: Sql): Sql {
  return {
    async query<T extends object>(text: string, params?: readonly unknown[]) {
      const rows = await sql.query<T>(text, params);
      const hook = text.includes('promo_redemption_facts_many(') ? afterNextFacts : undefined;
      if (hook) {
        afterNextFacts = undefined;
        await hook();
      }
      return rows;
    },
  };
}

for (const store of storeCases()) {
  describe(`guessing limits reached while a request is decided (${store.name})`, () => {
    let raw: Db;
    let deps: Deps;
    let workspaceId: string;
    const now = new Date('2026-06-15T12:00:00Z');
    before(async () => {
      raw = await store.open();
      deps = { db: wrapStore(raw, hookedSql), clock: new TestClock(now), ids: systemIds() };
      workspaceId = (await createWorkspace(deps, 'race')).workspace.id;
      await raw.query(
        `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, created_at)
         values ($1, 'promo_race', 'race', 1000, 'once', 'UTC', now())`,
        [workspaceId],
      );
    });
    after(() => raw.close());

    /** A customer with a code of its own, and the hook that puts `scope` at its limit. */
    async function setup(name: string, scope: FailureScope, ip: string) {
      await raw.query(
        `insert into customers (workspace_id, id, external_id, created_at, updated_at)
         values ($1, $2, $3, now(), now())`,
        [workspaceId, `cus_${name}`, name],
      );
      await raw.query(
        `insert into promotion_codes (workspace_id, id, promotion_id, code, created_at)
         values ($1, $2, 'promo_race', $3, now())`,
        [workspaceId, `pcode_${name}`, name.toUpperCase()],
      );
      const limit = FAILURE_LIMITS[scope];
      // Ten minutes into its window: 50 minutes left.
      const started = new Date(now.getTime() - 10 * 60_000);
      afterNextFacts = () =>
        raw.query(
          `insert into promotion_failures (workspace_id, scope, subject, failures, window_started_at)
           values ($1, $2, $3, $4, $5)`,
          [workspaceId, scope, scope === 'customer' ? `cus_${name}` : ipSubject(ip), limit.failures, started],
        );
      return { code: name.toUpperCase(), customer: name };
    }

    async function refusal(promise: Promise<unknown>) {
      const err = await promise.then(
        () => assert.fail('answered although the limit was reached'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof GuessingBlockedError, String(err));
      assert.equal(err.retryAfterSeconds, 50 * 60);
      return err;
    }

    async function redemptionsOf(customer: string) {
      const [row] = await raw.query<{ n: number }>(
        'select count(*)::int as n from redemptions where workspace_id = $1 and customer_id = $2',
        [workspaceId, `cus_${customer}`],
      );
      return row!.n;
    }

    for (const scope of ['customer', 'ip'] as const) {
      it(`validate does not call a code valid once the ${scope} has reached its limit`, async () => {
        const ip = `198.51.100.${scope === 'ip' ? 1 : 2}`;
        const input = await setup(`val${scope}`, scope, ip);
        const err = await refusal(validateCode(deps, undefined, workspaceId, input, ip));
        assert.match(err.message, scope === 'ip' ? /client IP: at most 1000/ : /customer: at most 100/);
      });

      it(`redeem writes nothing once the ${scope} has reached its limit`, async () => {
        const ip = `198.51.100.${scope === 'ip' ? 3 : 4}`;
        const input = await setup(`red${scope}`, scope, ip);
        await refusal(redeemCodeStandalone(deps, workspaceId, input, ip));
        assert.equal(await redemptionsOf(input.customer), 0);
      });
    }

    it("a redemption in the caller's transaction (an Idempotency-Key's) is checked as it writes too", async (t) => {
      if (store.name !== 'postgres') {
        // The embedded store runs one transaction at a time: the hook could not write beside it.
        t.skip('needs two connections');
        return;
      }
      const ip = '198.51.100.6';
      const input = await setup('keyed', 'customer', ip);
      await refusal(deps.db.transaction((tx) => redeemCode(deps, tx, workspaceId, input, ip)));
      assert.equal(await redemptionsOf(input.customer), 0);
    });

    it('redeems when the limit is not reached (the same path, without the hook)', async () => {
      const input = await setup('fine', 'customer', '198.51.100.5');
      afterNextFacts = undefined;
      const view = await redeemCodeStandalone(deps, workspaceId, input, '198.51.100.5');
      assert.equal(view.status, 'active');
      assert.equal(await redemptionsOf('fine'), 1);
    });
  });
}
