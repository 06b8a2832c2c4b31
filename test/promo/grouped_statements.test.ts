import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemIds } from '../../src/adapters/system.js';
import type { Db, Deps, Sql } from '../../src/app/ports.js';
import { MAX_READ_GROUP } from '../../src/app/promo_facts.js';
import { redeemCodeStandalone, validateCode } from '../../src/app/promo_redemptions.js';
import { MAX_GROUP, takeRedemption } from '../../src/app/promo_redemption_writes.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { TestClock } from '../helpers/harness.js';
import { storeCases, wrapStore } from '../helpers/stores.js';

/**
 * Requests that arrive while their workspace's read or write is in flight are read, and written,
 * together in one statement. Each request still gets exactly the answer it would have had alone: a
 * read group answers each request from its own row, and a write group is all or nothing, so a refusal
 * inside it sends each redemption again on its own.
 */

/** Customers whose facts read fails, as a statement the database refuses would. */
const poisoned = new Set<string>();
/** Run once, on the store itself, just before the next grouped write is sent. */
let beforeNextGroupWrite: (() => Promise<unknown>) | undefined;

/**
 * The store, counting the statements that read facts and write redemptions, failing any facts read
 * that names a poisoned customer, and running `beforeNextGroupWrite`.
 */
function counting(db: Db) {
  const counts = { one: 0, many: 0, facts: 0, groupedFacts: 0 };
  const count = (text: string) => {
    if (text.includes(' promo_redeem(')) counts.one++;
    if (text.includes(' promo_redeem_many(')) counts.many++;
    if (text.startsWith('select * from promo_redemption_facts_many(')) counts.facts++;
  };
  const wrap = (sql: Sql): Sql => ({
    query(text, params) {
      count(text);
      if (text.startsWith('select * from promo_redemption_facts_many(')) {
        const customers = params![1] as string[];
        if (customers.length > 1) counts.groupedFacts++;
        if (customers.some((c) => poisoned.has(c))) return Promise.reject(new Error('poisoned read'));
      }
      const hook = text.includes(' promo_redeem_many(') ? beforeNextGroupWrite : undefined;
      if (hook) {
        beforeNextGroupWrite = undefined;
        return hook().then(() => sql.query(text, params));
      }
      return sql.query(text, params);
    },
  });
  return { db: wrapStore(db, wrap), counts };
}

for (const store of storeCases()) {
  describe(`grouped redemption reads and writes (${store.name})`, () => {
    let deps: Deps;
    let raw: Db;
    let counts: ReturnType<typeof counting>['counts'];
    let workspaceId: string;
    let promotionId: string;
    before(async () => {
      raw = await store.open();
      const counted = counting(raw);
      counts = counted.counts;
      deps = { db: counted.db, clock: new TestClock(new Date('2026-05-01T12:00:00Z')), ids: systemIds() };
      workspaceId = (await createWorkspace(deps, 'groups')).workspace.id;
      promotionId = deps.ids.id('promo');
      await deps.db.query(
        `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, created_at)
         values ($1, $2, 'groups', 1000, 'once', 'UTC', now())`,
        [workspaceId, promotionId],
      );
    });
    after(() => deps.db.close());

    async function seed(prefix: string, n: number, codeLimit: number | null, promotion = promotionId) {
      const names = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
      await deps.db.query(
        `insert into customers (workspace_id, id, external_id, created_at, updated_at)
         select $1, 'cus_' || x, x, now(), now() from unnest($2::text[]) as x`,
        [workspaceId, names],
      );
      await deps.db.query(
        `insert into promotion_codes (workspace_id, id, promotion_id, code, max_redemptions, created_at)
         select $1, 'pcode_' || x, $2, upper(x), $3, now() from unnest($4::text[]) as x`,
        [workspaceId, promotion, codeLimit, names],
      );
      return names;
    }

    const redeem = (code: string, customer: string) =>
      redeemCodeStandalone(
        deps,
        workspaceId,
        { code, customer, subscription: `sub_${customer}` },
        undefined,
      ).then(
        (r) => ({ ok: true as const, id: r.id }),
        (err: { code?: string }) => ({ ok: false as const, code: err.code }),
      );

    it('concurrent redemptions share statements and all land', async () => {
      const n = MAX_GROUP + 36;
      const names = await seed('grp', n, 1);
      const before = { ...counts };
      const results = await Promise.all(names.map((name) => redeem(name, name)));
      assert.ok(
        results.every((r) => r.ok),
        JSON.stringify(results.filter((r) => !r.ok)),
      );
      const statements = counts.one - before.one + (counts.many - before.many);
      assert.ok(counts.many > before.many, 'some were written as a group');
      assert.ok(statements < n, `${statements} write statements for ${n} redemptions`);
      const [row] = await deps.db.query<{ n: number; used: number }>(
        `select (select count(*)::int8 from redemptions where workspace_id = $1 and code like 'GRP%') as n,
                (select sum(times_redeemed)::int8 from promotion_codes where workspace_id = $1 and code like 'GRP%') as used`,
        [workspaceId],
      );
      assert.deepEqual(row, { n, used: n });
    });

    it('a group meeting a code limit taken after its reads refuses only that redemption, code_exhausted', async () => {
      const names = await seed('lco', 20, 1);
      const [loser] = names as [string];
      // Between the reads and the group's write, a redemption from elsewhere takes the loser's
      // single-use code.
      beforeNextGroupWrite = () =>
        raw.query('update promotion_codes set times_redeemed = 1 where workspace_id = $1 and id = $2', [
          workspaceId,
          `pcode_${loser}`,
        ]);
      const results = await Promise.all([...names.slice(1), loser].map((name) => redeem(name, name)));
      assert.equal(beforeNextGroupWrite, undefined, 'the limit was taken just before a group write');
      assert.deepEqual(
        results.map((r) => (r.ok ? 'ok' : r.code)),
        [...names.slice(1).map(() => 'ok'), 'code_exhausted'],
      );
      const [row] = await deps.db.query<{ n: number; used: number }>(
        `select (select count(*)::int8 from redemptions where workspace_id = $1 and code like 'LCO%') as n,
                (select sum(times_redeemed)::int8 from promotion_codes where workspace_id = $1 and code like 'LCO%') as used`,
        [workspaceId],
      );
      assert.deepEqual(row, { n: 19, used: 20 });
    });

    it('a group that would take a promotion past its limit is written one by one: exactly the limit lands', async () => {
      const limited = deps.ids.id('promo');
      await deps.db.query(
        `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, max_redemptions,
           created_at)
         values ($1, $2, 'limited', 1000, 'once', 'UTC', 10, now())`,
        [workspaceId, limited],
      );
      const names = await seed('lpr', 12, null, limited);
      // Five redemptions of the promotion elsewhere, between the reads and the group's write.
      beforeNextGroupWrite = () =>
        raw.query(
          'update promotions set redeemed_against_limit = redeemed_against_limit + 5 where workspace_id = $1 and id = $2',
          [workspaceId, limited],
        );
      const results = await Promise.all(names.map((name) => redeem(name, name)));
      assert.equal(beforeNextGroupWrite, undefined, 'the limit was taken just before a group write');
      assert.equal(results.filter((r) => r.ok).length, 5, JSON.stringify(results));
      assert.deepEqual(
        [...new Set(results.filter((r) => !r.ok).map((r) => r.code))],
        ['code_exhausted'],
        JSON.stringify(results),
      );
      const [row] = await deps.db.query<{ n: number; taken: number; used: number }>(
        `select (select count(*)::int8 from redemptions where workspace_id = $1 and promotion_id = $2) as n,
                (select redeemed_against_limit from promotions where workspace_id = $1 and id = $2) as taken,
                (select sum(times_redeemed)::int8 from promotion_codes where workspace_id = $1 and promotion_id = $2) as used`,
        [workspaceId, limited],
      );
      assert.deepEqual(row, { n: 5, taken: 10, used: 5 });
    });

    it('a refusal inside a group sends each again alone: the others land, the loser gets its typed error', async () => {
      const names = await seed('mix', 20, null);
      // Two redemptions of the promotion by one customer (max_per_customer 1) race with 18 others.
      const [twice] = names as [string];
      const results = await Promise.all([
        redeem(names[1]!, twice),
        ...names.map((name) => redeem(name, name)),
      ]);
      const failed = results.filter((r) => !r.ok);
      assert.deepEqual(
        failed.map((r) => r.code),
        ['code_already_used_by_customer'],
        JSON.stringify(results),
      );
      const [row] = await deps.db.query<{ n: number; uses: number }>(
        `select (select count(*)::int8 from redemptions where workspace_id = $1 and code like 'MIX%') as n,
                (select max(uses)::int8 from promotion_customer_uses where workspace_id = $1) as uses`,
        [workspaceId],
      );
      assert.deepEqual(row, { n: 20, uses: 1 }, 'nothing of the failed group was kept twice');
    });

    for (const limit of ['customer', 'subscription'] as const) {
      it(`a group meeting a ${limit} limit taken after its reads refuses only that redemption, typed`, async () => {
        const names = await seed(limit === 'customer' ? 'lcu' : 'lsu', 20, null);
        const [other, loser] = names as [string, string];
        const subscription = `sub_${loser}`;
        // Between the reads and the group's write, as a concurrent redemption from elsewhere would:
        // the loser uses the promotion (max_per_customer 1) on its own customer-level slot, or
        // another customer takes the loser's subscription slot.
        beforeNextGroupWrite = () => {
          const customer = limit === 'customer' ? loser : other;
          const slot = limit === 'customer' ? `cus:cus_${loser}` : `sub:${subscription}`;
          return takeRedemption(raw, {
            workspace_id: workspaceId,
            promotion_id: promotionId,
            customer_id: `cus_${customer}`,
            max_per_customer: 1,
            slot_key: slot,
            exclusive: 1,
            promotion_code_id: `pcode_${other}`,
            id: deps.ids.id('redm'),
            code: other.toUpperCase(),
            subscription_id: limit === 'customer' ? null : subscription,
            stackable: false,
            periods_total: 1,
            applies_from: null,
            metadata: {},
            redeemed_at: deps.clock.now(),
            clear_failures: false,
            ip_subject: null,
          });
        };
        const before = counts.many;
        // The others first: the first write of an idle workspace goes alone, the rest in groups.
        const results = await Promise.all([...names.slice(2), loser].map((name) => redeem(name, name)));
        assert.equal(beforeNextGroupWrite, undefined, 'the limit was taken just before a group write');
        assert.ok(counts.many > before, 'the redemptions were sent as groups');
        const refusal =
          limit === 'customer' ? 'code_already_used_by_customer' : 'subscription_already_has_promotion';
        assert.deepEqual(
          results.map((r) => (r.ok ? 'ok' : r.code)),
          [...names.slice(2).map(() => 'ok'), refusal],
        );
        const [row] = await deps.db.query<{ n: number }>(
          `select count(*)::int8 as n from redemptions where workspace_id = $1 and code like $2`,
          [workspaceId, `${names[0]!.slice(0, 3).toUpperCase()}%`],
        );
        assert.equal(row!.n, 1 + names.length - 2);
      });
    }

    it('a group meeting its stackable promotion taken on a subscription after its reads refuses only that redemption, typed', async () => {
      const stackable = deps.ids.id('promo');
      await deps.db.query(
        `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, max_per_customer,
           stackable, created_at)
         values ($1, $2, 'stackable', 1000, 'once', 'UTC', 5, true, now())`,
        [workspaceId, stackable],
      );
      const names = await seed('lsp', 20, null, stackable);
      const [other, loser] = names as [string, string];
      // Between the reads and the group's write, the loser's subscription takes the same stackable
      // promotion (by another of its codes), as a concurrent redemption from elsewhere would.
      beforeNextGroupWrite = () =>
        takeRedemption(raw, {
          workspace_id: workspaceId,
          promotion_id: stackable,
          customer_id: `cus_${loser}`,
          max_per_customer: 5,
          slot_key: `sub:sub_${loser}`,
          exclusive: 0,
          promotion_code_id: `pcode_${other}`,
          id: deps.ids.id('redm'),
          code: other.toUpperCase(),
          subscription_id: `sub_${loser}`,
          stackable: true,
          periods_total: 1,
          applies_from: null,
          metadata: {},
          redeemed_at: deps.clock.now(),
          clear_failures: false,
          ip_subject: null,
        });
      const before = counts.many;
      const results = await Promise.all([...names.slice(2), loser].map((name) => redeem(name, name)));
      assert.equal(beforeNextGroupWrite, undefined, 'the promotion was taken just before a group write');
      assert.ok(counts.many > before, 'the redemptions were sent as groups');
      assert.deepEqual(
        results.map((r) => (r.ok ? 'ok' : r.code)),
        [...names.slice(2).map(() => 'ok'), 'subscription_already_has_promotion'],
      );
      const [row] = await deps.db.query<{ n: number }>(
        `select count(*)::int8 as n from redemptions where workspace_id = $1 and subscription_id = $2`,
        [workspaceId, `sub_${loser}`],
      );
      assert.equal(row!.n, 1, 'only the redemption from elsewhere holds the subscription');
    });

    it('concurrent validations share reads, and each answers as it would alone', async () => {
      const names = await seed('val', MAX_READ_GROUP + 36, 1);
      await redeem(names[0]!, names[0]!);
      // Valid requests, and among them: a used code, an unknown code, a malformed one, an unknown
      // customer, a customer named by id, and a subscription.
      const inputs = names.map((name, i) => ({
        code: i === 1 ? 'NOPE' : i === 2 ? 'bad\u0007code' : name,
        customer: i === 3 ? 'nobody' : i === 4 ? `cus_${name}` : name,
        ...(i % 5 === 0 ? { subscription: `sub_${name}` } : {}),
      }));
      const validate = (input: (typeof inputs)[number]) =>
        validateCode(deps, undefined, workspaceId, input, '203.0.113.9').then(
          (v) => ({ ok: true as const, v }),
          (err: { code?: string; message?: string }) => ({
            ok: false as const,
            code: err.code,
            message: err.message,
          }),
        );
      const alone = [];
      for (const input of inputs) alone.push(await validate(input));
      const before = counts.facts;
      const together = await Promise.all(inputs.map(validate));
      const reads = counts.facts - before;
      assert.deepEqual(together, alone);
      assert.ok(reads < inputs.length, `${reads} reads for ${inputs.length} validations`);
      // The answers are what each input asks for, not only equal to one another.
      const outcomes = together.map((r) => (r.ok ? (r.v.error?.code ?? r.v.code) : r.code));
      assert.deepEqual(outcomes.slice(0, 6), [
        'code_exhausted',
        'code_invalid',
        'code_invalid',
        'resource_not_found',
        names[4]!.toUpperCase(),
        names[5]!.toUpperCase(),
      ]);
    });

    it('a read group that fails is read again request by request: only the failing request fails', async () => {
      const names = await seed('poi', 40, 1);
      poisoned.add(names[7]!);
      const before = counts.groupedFacts;
      const results = await Promise.all(
        names.map((name) =>
          validateCode(deps, undefined, workspaceId, { code: name, customer: name }, undefined).then(
            (v) => (v.valid ? 'valid' : v.error?.code),
            (err: Error) => err.message,
          ),
        ),
      );
      poisoned.clear();
      assert.ok(counts.groupedFacts > before, 'some requests were read as a group');
      assert.deepEqual(
        results,
        names.map((_, i) => (i === 7 ? 'poisoned read' : 'valid')),
      );
    });
  });
}
