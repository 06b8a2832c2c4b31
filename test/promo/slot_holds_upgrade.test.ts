/**
 * A database upgraded with slots that already held a promotion more than once (redeemed before
 * migration 0030): those redemptions stay, can be voided and completed one by one, and the slot takes
 * the promotion again only once none of them is active, by one redemption or by a group.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Db, openPglite } from '../../src/adapters/db/db.js';
import { listMigrations, splitStatements } from '../../src/adapters/db/migrate.js';

describe('promotion holds on a database upgraded with duplicates', () => {
  let db: Db;
  const apply = async (which: (version: string) => boolean) => {
    for (const m of listMigrations().filter((m) => which(m.version))) {
      await db.transaction(async (tx) => {
        for (const statement of splitStatements(m.sql)) await tx.query(statement);
      });
    }
  };
  const redeem = (id: string) =>
    db.query(
      `select promo_redeem('ws', 'promo_1', 'cus_1', 5, 'sub:sub_1', 0, 'pc_1', $1, 'CODE', 'sub_1', true, null,
         null, '{}'::jsonb, now(), false)`,
      [id],
    );
  const voidIt = (id: string) =>
    db.query(`select (v).redemption.id from promo_void_redemption('ws', $1, now()) as v`, [id]);
  const hold = async () =>
    (await db.query<{ n: number }>(`select active_count as n from promotion_slot_promotions`))[0]!.n;
  const sqlState = (err: unknown) => (err as { code?: string }).code;

  before(async () => {
    db = await openPglite();
    await apply((v) => v < '0030');
    await db.query(`insert into workspaces (workspace_id, name) values ('ws', 'w')`);
    await db.query(`insert into customers (workspace_id, id, external_id) values ('ws', 'cus_1', 'c1')`);
    await db.query(
      `insert into promotions (workspace_id, id, name, percent_off_bps, duration, time_zone, max_per_customer,
         stackable, created_at)
       values ('ws', 'promo_1', 'p', 2500, 'forever', 'UTC', 5, true, now())`,
    );
    await db.query(
      `insert into promotion_codes (workspace_id, id, promotion_id, code, created_at)
       values ('ws', 'pc_1', 'promo_1', 'CODE', now())`,
    );
    // Before 0030 a stackable promotion could be redeemed several times for one subscription.
    for (const id of ['red_1', 'red_2', 'red_3']) await redeem(id);
    await apply((v) => v >= '0030');
  });
  after(() => db?.close());

  it('voids the duplicates one by one, and takes the promotion again only when none is active', async () => {
    assert.equal(await hold(), 3);
    await voidIt('red_1');
    assert.equal(await hold(), 2);
    await assert.rejects(redeem('red_4'), (err) => sqlState(err) === 'PRX07');
    await voidIt('red_2');
    assert.equal(await hold(), 1);
    // A group is refused as a whole while the slot holds the promotion.
    const group = [
      {
        workspace_id: 'ws',
        promotion_id: 'promo_1',
        customer_id: 'cus_1',
        max_per_customer: 5,
        slot_key: 'sub:sub_1',
        exclusive: 0,
        promotion_code_id: 'pc_1',
        id: 'red_5',
        code: 'CODE',
        subscription_id: 'sub_1',
        stackable: true,
        periods_total: null,
        applies_from: null,
        metadata: {},
        redeemed_at: new Date().toISOString(),
        clear_failures: false,
      },
    ];
    await assert.rejects(
      db.query('select promo_redeem_many($1::jsonb)', [JSON.stringify(group)]),
      (err) => sqlState(err) === 'PRX05',
    );
    assert.equal(await hold(), 1, 'the refused group took nothing');
    await voidIt('red_3');
    assert.equal(await hold(), 0);
    await db.query('select promo_redeem_many($1::jsonb)', [JSON.stringify(group)]);
    assert.equal(await hold(), 1);
  });
});
