import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redeemCode, redemptionLimitError } from '../../src/app/promo_redemptions.js';
import { openPostgres } from '../../src/adapters/db/db.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { createTestDatabase, type StoreCase, storeCases } from '../helpers/stores.js';
import { createCode, createPromotion, errorCode, redeem, seedCustomers } from './helpers.js';

/**
 * The limits hold under concurrency because the database enforces them (conditional updates in the
 * redemption statement), not because a read came before a write. On PostgreSQL the requests really
 * run in parallel over a pool of 20 connections; on the embedded store they are serialised by it, and
 * the same answers must come out.
 */

function tally(statuses: (string | undefined)[]) {
  const out: Record<string, number> = {};
  for (const s of statuses) out[s ?? 'ok'] = (out[s ?? 'ok'] ?? 0) + 1;
  return out;
}

/** The code's counter and its recorded redemptions both say `n`. */
async function assertRedeemed(h: Harness, codeId: string, n: number) {
  const after = await h.request('GET', `/v1/promotion_codes/${codeId}`);
  assert.equal(after.body.times_redeemed, n);
  const [count] = await h.db.query<{ n: number }>(
    'select count(*)::int8 as n from redemptions where workspace_id = $1 and promotion_code_id = $2',
    [h.workspaceId, codeId],
  );
  assert.equal(count!.n, n);
}

for (const store of storeCases()) {
  describe(`promotion limits under concurrency (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('256 concurrent redemptions of a code limited to 100, by distinct customers: 100 succeed, 156 code_exhausted', async () => {
      const promotion = await createPromotion(h, { percent_off_bps: 1000 });
      const code = await createCode(h, { promotion: promotion.id, code: 'LIMIT100', max_redemptions: 100 });
      const customers = await seedCustomers(h, 'race256', 256);
      const replies = await Promise.all(
        customers.map((customer, i) =>
          // Every form of the code counts against the same limit.
          redeem(h, {
            code: i % 2 === 0 ? 'limit-100' : ' Limit 100 ',
            customer,
            subscription: `sub_${customer}`,
          }),
        ),
      );
      const statuses = replies.map((r) => (r.status === 201 ? undefined : errorCode(r)));
      assert.deepEqual(tally(statuses), { ok: 100, code_exhausted: 156 });
      for (const r of replies) assert.ok(r.status === 201 || r.status === 409, `status ${r.status}`);
      await assertRedeemed(h, code.id, 100);
    });

    it('a promotion-wide max_redemptions holds across its codes under concurrency', async () => {
      const promotion = await createPromotion(h, { percent_off_bps: 1000, max_redemptions: 30 });
      const codes = await Promise.all(
        ['WIDE_A', 'WIDE_B', 'WIDE_C'].map((c) => createCode(h, { promotion: promotion.id, code: c })),
      );
      const customers = await seedCustomers(h, 'wide', 90);
      const replies = await Promise.all(
        customers.map((customer, i) => redeem(h, { code: codes[i % 3]!.code, customer })),
      );
      assert.deepEqual(tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))), {
        ok: 30,
        code_exhausted: 60,
      });
      const p = await h.request('GET', `/v1/promotions/${promotion.id}`);
      assert.equal(p.body.times_redeemed, 30);
    });

    it('a redemption refused at commit under an Idempotency-Key answers the same when retried', async () => {
      // On PostgreSQL the code's limit refuses the losers when their transactions commit: that
      // refusal is stored under each key like any other, not released for a retry to try again.
      const promotion = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: promotion.id, code: 'KEYED1', max_redemptions: 1 });
      const customers = await seedCustomers(h, 'keyed', 8);
      const replies = await Promise.all(
        customers.map((customer, i) =>
          redeem(h, { code: 'KEYED1', customer }, { 'idempotency-key': `keyed-${i}` }),
        ),
      );
      assert.deepEqual(tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))), {
        ok: 1,
        code_exhausted: 7,
      });
      // The use is given back, so a retry that ran again would now succeed.
      const won = replies.find((r) => r.status === 201)!;
      assert.equal((await h.request('POST', `/v1/redemptions/${won.body.id}/void`)).status, 200);
      for (const [i, first] of replies.entries()) {
        const again = await redeem(
          h,
          { code: 'KEYED1', customer: customers[i]! },
          { 'idempotency-key': `keyed-${i}` },
        );
        assert.equal(again.status, first.status, `keyed-${i}`);
        assert.equal(again.headers['idempotent-replayed'], 'true', `keyed-${i}`);
      }
    });

    it('50 concurrent redemptions of one code by one customer: one succeeds', async () => {
      const promotion = await createPromotion(h, { amount_off: 500, currency: 'usd' });
      await createCode(h, { promotion: promotion.id, code: 'ONCEEACH' });
      const [customer] = await seedCustomers(h, 'same', 1);
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          redeem(h, {
            code: i % 3 === 0 ? 'onceeach' : 'ONCE-EACH',
            customer: customer!,
            subscription: `sub_same_${i}`,
          }),
        ),
      );
      assert.deepEqual(tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))), {
        ok: 1,
        code_already_used_by_customer: 49,
      });
    });

    it('concurrent redemptions of two codes on one subscription: one succeeds', async () => {
      const first = await createPromotion(h, { percent_off_bps: 1000 });
      const second = await createPromotion(h, { percent_off_bps: 2000 });
      await createCode(h, { promotion: first.id, code: 'TWO_A' });
      await createCode(h, { promotion: second.id, code: 'TWO_B' });
      const [customer] = await seedCustomers(h, 'twosub', 1);
      for (let round = 0; round < 5; round++) {
        const subscription = `sub_two_${round}`;
        const replies = await Promise.all([
          redeem(h, { code: 'TWO_A', customer: customer!, subscription }),
          redeem(h, { code: 'TWO_B', customer: customer!, subscription }),
        ]);
        assert.deepEqual(
          tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))),
          { ok: 1, subscription_already_has_promotion: 1 },
          `round ${round}`,
        );
        // Void the winner so the next round starts with the same customer and fresh uses.
        const won = replies.find((r) => r.status === 201)!;
        assert.equal((await h.request('POST', `/v1/redemptions/${won.body.id}/void`)).status, 200);
      }
    });

    it('concurrent redemptions of one stackable promotion on one subscription: one succeeds', async () => {
      // Stackable and max_per_customer above 1, so only the subscription's hold on the promotion refuses.
      const promotion = await createPromotion(h, {
        percent_off_bps: 2500,
        max_per_customer: 100,
        stackable: true,
      });
      await createCode(h, { promotion: promotion.id, code: 'SELFSTACK' });
      const [customer] = await seedCustomers(h, 'selfstack', 1);
      for (let round = 0; round < 5; round++) {
        const subscription = `sub_selfstack_${round}`;
        const replies = await Promise.all(
          Array.from({ length: 10 }, () =>
            redeem(h, { code: 'SELFSTACK', customer: customer!, subscription }),
          ),
        );
        assert.deepEqual(
          tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))),
          { ok: 1, subscription_already_has_promotion: 9 },
          `round ${round}`,
        );
        const [held] = await h.db.query<{ n: number }>(
          `select count(*)::int8 as n from redemptions
           where workspace_id = $1 and promotion_id = $2 and subscription_id = $3`,
          [h.workspaceId, promotion.id, subscription],
        );
        assert.equal(held!.n, 1, `round ${round}: one redemption recorded`);
      }
      const [uses] = await h.db.query<{ uses: number }>(
        'select uses from promotion_customer_uses where workspace_id = $1 and promotion_id = $2',
        [h.workspaceId, promotion.id],
      );
      assert.equal(uses!.uses, 5, "the refused ones took none of the customer's uses");
    });

    it('a redemption that passed the checks fails at commit when a concurrent one took the last use', async (t) => {
      if (store.name !== 'postgres') {
        // The embedded store runs one transaction at a time, so two cannot overlap; the last use is
        // taken inside the transaction instead, after its checks, and the commit must fail cleanly.
        const promotion = await createPromotion(h, { percent_off_bps: 1000 });
        const code = await createCode(h, {
          promotion: promotion.id,
          code: 'COMMITRACEPGLITE',
          max_redemptions: 1,
        });
        const [customer] = await seedCustomers(h, 'commit_pglite', 1);
        const failure = await h.db
          .transaction(async (tx) => {
            await redeemCode(h.deps, tx, h.workspaceId, { code: code.code, customer: customer! }, undefined);
            await tx.query(
              'update promotion_codes set times_redeemed = 1 where workspace_id = $1 and id = $2',
              [h.workspaceId, code.id],
            );
          })
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        assert.equal(redemptionLimitError(failure)?.code, 'code_exhausted');
        const after = await h.request('GET', `/v1/promotion_codes/${code.id}`);
        assert.equal(after.body.times_redeemed, 0, 'the failed commit kept nothing');
        t.diagnostic('two overlapping transactions are exercised on PostgreSQL');
        return;
      }
      for (const [label, promotionTerms, codeLimit, sqlstate] of [
        ['code limit', { percent_off_bps: 1000 }, 1, 'PRX02'],
        ['promotion limit', { percent_off_bps: 1000, max_redemptions: 1 }, undefined, 'PRX01'],
      ] as const) {
        const promotion = await createPromotion(h, promotionTerms);
        const text = `COMMITRACE${sqlstate}`;
        await createCode(h, {
          promotion: promotion.id,
          code: text,
          ...(codeLimit ? { max_redemptions: codeLimit } : {}),
        });
        const [first, second] = await seedCustomers(h, `commit_${sqlstate}`, 2);
        // Both transactions read the facts before either commits, so both pass the checks.
        let release!: () => void;
        const bothChecked = new Promise<void>((resolve) => {
          release = resolve;
        });
        let checked = 0;
        const attempt = (customer: string) =>
          h.db.transaction(async (tx) => {
            const r = await redeemCode(h.deps, tx, h.workspaceId, { code: text, customer }, undefined);
            if (++checked === 2) release();
            await bothChecked;
            return r;
          });
        const outcomes = await Promise.allSettled([attempt(first!), attempt(second!)]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        assert.equal(won.length, 1, label);
        assert.equal(lost.length, 1, label);
        assert.equal((lost[0]!.reason as { code?: string }).code, sqlstate, label);
        const typed = redemptionLimitError(lost[0]!.reason);
        assert.equal(typed?.code, 'code_exhausted', label);
        assert.equal(typed?.details?.max_redemptions, 1, label);
        const [rows] = await h.db.query<{ n: number }>(
          'select count(*)::int8 as n from redemptions where workspace_id = $1 and promotion_id = $2',
          [h.workspaceId, promotion.id],
        );
        assert.equal(rows!.n, 1, `${label}: the failed commit kept nothing`);
        const [uses] = await h.db.query<{ n: number }>(
          'select coalesce(sum(uses), 0)::int8 as n from promotion_customer_uses where workspace_id = $1 and promotion_id = $2',
          [h.workspaceId, promotion.id],
        );
        assert.equal(uses!.n, 1, `${label}: the loser's customer use was rolled back`);
      }
    });

    it('concurrent void and redeem keep the counts exact', async () => {
      const promotion = await createPromotion(h, { percent_off_bps: 500 });
      const code = await createCode(h, { promotion: promotion.id, code: 'VOIDRACE', max_redemptions: 10 });
      const customers = await seedCustomers(h, 'voidrace', 20);
      const firstTen = await Promise.all(
        customers.slice(0, 10).map((customer) => redeem(h, { code: 'VOIDRACE', customer })),
      );
      assert.ok(firstTen.every((r) => r.status === 201));
      // Void five while ten others try to redeem: exactly five of them can get in.
      const [voids, redeems] = await Promise.all([
        Promise.all(firstTen.slice(0, 5).map((r) => h.request('POST', `/v1/redemptions/${r.body.id}/void`))),
        Promise.all(customers.slice(10).map((customer) => redeem(h, { code: 'VOIDRACE', customer }))),
      ]);
      assert.ok(voids.every((r) => r.status === 200));
      const won = redeems.filter((r) => r.status === 201).length;
      assert.ok(won <= 5, `${won} redemptions got in while 5 uses were given back`);
      const after = await h.request('GET', `/v1/promotion_codes/${code.id}`);
      assert.equal(after.body.times_redeemed, 5 + won);
      const active = await h.request(
        'GET',
        `/v1/redemptions?promotion_code=${code.id}&status=active&limit=100`,
      );
      assert.equal(active.body.data.length, 5 + won);
    });
  });
}

/**
 * Several server processes on one PostgreSQL database: each has its own pool and its own grouping of
 * a workspace's statements, so their redemptions of one code are separate transactions in flight at
 * once, and only the database's conditional updates and constraints keep the limits.
 */
if (process.env.DATABASE_URL) {
  describe('promotion limits across four servers on one PostgreSQL database', () => {
    const SERVERS = 4;
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let servers: Harness[] = [];
    let key: string;
    /** The i-th request goes to server i mod 4, all in the first server's workspace. */
    const redeemOn = (i: number, body: Record<string, unknown>) =>
      servers[i % SERVERS]!.request('POST', '/v1/promotion_codes/redeem', { key, body });

    before(async () => {
      database = await createTestDatabase();
      const setup = await openPostgres(database.url, 1);
      await migrate(setup);
      await setup.close();
      const store: StoreCase = { name: 'postgres', open: () => openPostgres(database.url, 5) };
      servers = await Promise.all(Array.from({ length: SERVERS }, () => startHarness(store)));
      key = servers[0]!.key;
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await database?.drop();
    });

    it('256 redemptions of a code limited to 100 across four servers: exactly 100 succeed', async () => {
      const h = servers[0]!;
      const promotion = await createPromotion(h, { percent_off_bps: 1000 });
      const code = await createCode(h, {
        promotion: promotion.id,
        code: 'FOURSERVERS',
        max_redemptions: 100,
      });
      const customers = await seedCustomers(h, 'four', 256);
      const replies = await Promise.all(
        customers.map((customer, i) =>
          redeemOn(i, { code: 'four-servers', customer, subscription: `sub_${customer}` }),
        ),
      );
      assert.deepEqual(tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))), {
        ok: 100,
        code_exhausted: 156,
      });
      await assertRedeemed(h, code.id, 100);
    });

    it('50 redemptions of one code by one customer across four servers: one succeeds', async () => {
      const h = servers[0]!;
      const promotion = await createPromotion(h, { amount_off: 500, currency: 'usd' });
      await createCode(h, { promotion: promotion.id, code: 'FOURONCE' });
      const [customer] = await seedCustomers(h, 'four_same', 1);
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          redeemOn(i, { code: 'FOURONCE', customer: customer!, subscription: `sub_four_same_${i}` }),
        ),
      );
      assert.deepEqual(tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))), {
        ok: 1,
        code_already_used_by_customer: 49,
      });
    });

    it('one stackable promotion on one subscription, sent to four servers: one succeeds', async () => {
      const h = servers[0]!;
      const promotion = await createPromotion(h, {
        percent_off_bps: 2500,
        max_per_customer: 100,
        stackable: true,
      });
      await createCode(h, { promotion: promotion.id, code: 'FOURSELF' });
      const [customer] = await seedCustomers(h, 'four_self', 1);
      for (let round = 0; round < 5; round++) {
        const subscription = `sub_four_self_${round}`;
        const replies = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            redeemOn(i, { code: 'FOURSELF', customer: customer!, subscription }),
          ),
        );
        assert.deepEqual(
          tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))),
          { ok: 1, subscription_already_has_promotion: 7 },
          `round ${round}`,
        );
      }
      const [row] = await h.db.query<{ n: number }>(
        'select count(*)::int8 as n from redemptions where workspace_id = $1 and promotion_id = $2',
        [h.workspaceId, promotion.id],
      );
      assert.equal(row!.n, 5);
    });

    it('two codes on one subscription, each sent to another server: one succeeds', async () => {
      const h = servers[0]!;
      const first = await createPromotion(h, { percent_off_bps: 1000 });
      const second = await createPromotion(h, { percent_off_bps: 2000 });
      await createCode(h, { promotion: first.id, code: 'FOUR_A' });
      await createCode(h, { promotion: second.id, code: 'FOUR_B' });
      const customers = await seedCustomers(h, 'four_sub', 10);
      for (const [round, customer] of customers.entries()) {
        const subscription = `sub_two_codes_${round}`;
        const replies = await Promise.all([
          redeemOn(round, { code: 'FOUR_A', customer, subscription }),
          redeemOn(round + 1, { code: 'FOUR_B', customer, subscription }),
        ]);
        assert.deepEqual(
          tally(replies.map((r) => (r.status === 201 ? undefined : errorCode(r)))),
          { ok: 1, subscription_already_has_promotion: 1 },
          `round ${round}`,
        );
      }
    });
  });
}
