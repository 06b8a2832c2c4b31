import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { textArray } from '../../src/app/batch_sql.js';
import type { Db, Deps } from '../../src/app/ports.js';
import { ClickRecorder } from '../../src/app/referrals_clicks.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { codeFor, events, fromTemplate, summaryOf } from './helpers.js';

/**
 * How recorded clicks reach the store: in batches of arrays, one statement per batch, the click rows
 * and each referrer's counter together, and never twice when a write is retried.
 */
const PROGRAM = 'free-days-or-commission';
const isClickWrite = (sql: string) => sql.includes('insert into referral_clicks');

for (const store of storeCases()) {
  describe(`click writes (${store.name})`, () => {
    let h: Harness;
    const codes: Record<string, string> = {};

    before(async () => {
      h = await startHarness(store);
      await fromTemplate(h, PROGRAM);
      for (const partner of ['alice', 'bob', 'carol']) {
        await events(h).send(events(h).customerCreated(partner));
        codes[partner] = await codeFor(h, partner, PROGRAM);
      }
    });
    after(() => h.close());

    /** The recorder over a store whose click writes go through `write`, and the errors it reported. */
    const recorderWith = (write: (sql: string, params?: unknown[]) => Promise<unknown[]>) => {
      const db: Db = Object.create(h.db) as Db;
      db.query = (async (sql: string, params?: unknown[]) =>
        isClickWrite(sql) ? write(sql, params) : h.db.query(sql, params)) as Db['query'];
      const errors: unknown[] = [];
      const deps: Deps = { ...h.deps, db };
      return { recorder: new ClickRecorder(deps, (err) => errors.push(err)), errors };
    };

    const storedClicks = () =>
      h.db.query<{ id: string; code: string; ip_hash: string | null; user_agent_hash: string | null }>(
        'select id, code, ip_hash, user_agent_hash from referral_clicks order by id',
      );
    const clicksOf = async (partner: string) => (await summaryOf(h, partner, PROGRAM)).clicks as number;

    it('stores a batch over several links as one row per click and raises each counter by its clicks', async () => {
      const writes: unknown[][] = [];
      const { recorder, errors } = recorderWith((sql, params) => {
        writes.push(params ?? []);
        return h.db.query(sql, params);
      });
      const before = {
        rows: (await storedClicks()).length,
        alice: await clicksOf('alice'),
        bob: await clicksOf('bob'),
      };
      const visits: [string, string | undefined, string | undefined][] = [
        ['alice', '203.0.113.7', 'agent "quoted" \\ back,slash'],
        ['bob', undefined, undefined],
        ['alice', '203.0.113.8', undefined],
        ['bob', '2001:db8::1', 'NULL'],
        ['alice', undefined, 'plain agent'],
      ];
      const recorded: { partner: string; ip?: string; agent?: string; id: string }[] = [];
      for (const [partner, ip, agent] of visits) {
        const click = await recorder.record(codes[partner]!.toLowerCase(), ip, agent);
        assert.ok(click, `the link of ${partner} is known`);
        recorded.push({ partner, ip, agent, id: click.click_id.split('.')[0]! });
      }
      await recorder.flush();
      assert.deepEqual(errors, []);
      assert.equal(writes.length, 1, 'one statement for the whole batch');

      const rows = await storedClicks();
      assert.equal(rows.length, before.rows + visits.length);
      for (const visit of recorded) {
        const row = rows.find((r) => r.id === visit.id);
        assert.ok(row, `click ${visit.id} is stored`);
        assert.equal(row.code, codes[visit.partner]);
        assert.equal(row.ip_hash === null, visit.ip === undefined);
        assert.equal(row.user_agent_hash === null, visit.agent === undefined);
        if (row.ip_hash !== null) assert.match(row.ip_hash, /^[A-Za-z0-9_-]{32}$/);
      }
      // Equal values hash alike, different ones do not; the value 'NULL' is an agent like any other.
      const hashOf = (i: number) => rows.find((r) => r.id === recorded[i]!.id)!.user_agent_hash;
      assert.notEqual(hashOf(3), null);
      assert.notEqual(hashOf(0), hashOf(4));
      assert.equal(await clicksOf('alice'), before.alice + 3);
      assert.equal(await clicksOf('bob'), before.bob + 2);
    });

    it('a write whose answer was lost after it committed is retried once and stored once', async () => {
      let attempts = 0;
      const { recorder, errors } = recorderWith(async (sql, params) => {
        attempts++;
        const rows = await h.db.query(sql, params);
        if (attempts === 1) throw new Error('Connection terminated unexpectedly');
        return rows;
      });
      const before = { rows: (await storedClicks()).length, carol: await clicksOf('carol') };
      for (let i = 0; i < 4; i++) assert.ok(await recorder.record(codes.carol!, `198.51.100.${i}`, 'agent'));
      await recorder.flush();
      assert.equal(attempts, 2, 'the second attempt found the batch stored and stopped');
      assert.deepEqual(errors, []);
      assert.equal((await storedClicks()).length, before.rows + 4);
      assert.equal(await clicksOf('carol'), before.carol + 4, 'the counter was raised once');
    });

    it('a write that fails before it reaches the store is tried again and stored', async () => {
      let attempts = 0;
      const { recorder, errors } = recorderWith(async (sql, params) => {
        attempts++;
        if (attempts === 1) throw new Error('connect ECONNREFUSED');
        return h.db.query(sql, params);
      });
      const before = await clicksOf('carol');
      assert.ok(await recorder.record(codes.carol!, '198.51.100.9', 'agent'));
      await recorder.flush();
      assert.equal(attempts, 2);
      assert.deepEqual(errors, []);
      assert.equal(await clicksOf('carol'), before + 1);
    });

    it('reports a batch the store refuses on every attempt', async () => {
      const { recorder, errors } = recorderWith(async () => {
        throw Object.assign(new Error('disk full'), { code: '53100' });
      });
      assert.ok(await recorder.record(codes.carol!, '198.51.100.10', 'agent'));
      await recorder.flush();
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /disk full/);
    });

    it('text arrays read back as the very values they were built from', async () => {
      const values = [
        'plain',
        'with "quotes"',
        'back\\slash',
        'comma, and space',
        '{braces}',
        'NULL',
        '',
        null,
        'ünï',
      ];
      const [row] = await h.db.query<{ v: (string | null)[] }>('select $1::text[] as v', [textArray(values)]);
      assert.deepEqual(row!.v, values);
      const [empty] = await h.db.query<{ v: string[] }>('select $1::text[] as v', [textArray([])]);
      assert.deepEqual(empty!.v, []);
    });
  });
}
