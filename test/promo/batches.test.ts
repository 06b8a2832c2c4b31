import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemIds } from '../../src/adapters/system.js';
import {
  drawCodes,
  startCodeBatchWorker,
  workCodeBatches,
  workCodeBatchOnce,
} from '../../src/app/promo_batches.js';
import type { Ids } from '../../src/app/ports.js';
import { CODE_ALPHABET } from '../../src/core/promo/generate.js';
import { loadConfig } from '../../src/config.js';
import { serve } from '../../src/main.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { freshDataDir } from '../helpers/processes.js';
import { storeCases } from '../helpers/stores.js';
import { createPromotion } from './helpers.js';

const SYMBOLS = new RegExp(`^[${CODE_ALPHABET}]+$`);

for (const store of storeCases()) {
  describe(`bulk code generation (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('generates a small batch in the request: single-use codes with the prefix and the length', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      const res = await h.request('POST', `/v1/promotions/${p.id}/codes/generate`, {
        body: { count: 250, prefix: 'spring-', length: 10 },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'succeeded');
      assert.equal(res.body.generated, 250);
      assert.equal(res.body.prefix, 'SPRING');
      const codes: { code: string; max_redemptions: number; batch_id: string }[] = [];
      let url = `/v1/promotion_codes?batch=${res.body.id}&limit=100`;
      for (;;) {
        const page = await h.request('GET', url);
        codes.push(...page.body.data);
        if (!page.body.has_more) break;
        url = `/v1/promotion_codes?batch=${res.body.id}&limit=100&starting_after=${page.body.data.at(-1).id}`;
      }
      assert.equal(codes.length, 250);
      assert.equal(new Set(codes.map((c) => c.code)).size, 250);
      for (const c of codes) {
        assert.match(c.code, /^SPRING/);
        assert.equal(c.code.length, 6 + 10);
        assert.match(c.code.slice(6), SYMBOLS);
        assert.equal(c.max_redemptions, 1, 'generated codes are single-use by default');
      }
    });

    it('runs a large batch in the background, a chunk per transaction, with progress visible through the API', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      const res = await h.request('POST', `/v1/promotions/${p.id}/codes/generate`, {
        body: { count: 5_000, max_redemptions: 3, expires_at: '2027-01-31' },
      });
      assert.equal(res.status, 202);
      assert.equal(res.body.status, 'pending');
      assert.equal(res.body.generated, 0);
      const progressUrl = `/v1/promotions/${p.id}/code_batches/${res.body.id}`;
      // Chunks of 2,000 here (5,000 by default) so the test shows progress without generating much.
      assert.equal(await workCodeBatchOnce(h.deps, 2_000), true);
      const mid = await h.request('GET', progressUrl);
      assert.equal(mid.body.status, 'running');
      assert.equal(mid.body.generated, 2_000);
      assert.ok(mid.body.started_at);
      assert.equal(await workCodeBatches(h.deps, 2_000), 2, 'two more chunks finish it');
      assert.equal(await workCodeBatchOnce(h.deps, 2_000), false, 'nothing left to do');
      const done = await h.request('GET', progressUrl);
      assert.equal(done.body.status, 'succeeded');
      assert.equal(done.body.generated, 5_000);
      assert.ok(done.body.completed_at);
      const [stats] = await h.db.query<{ n: number; distinct_codes: number; bad: number }>(
        `select count(*)::int8 as n, count(distinct code)::int8 as distinct_codes,
           count(*) filter (where max_redemptions <> 3 or expires_at <> '2027-02-01T00:00:00Z')::int8 as bad
         from promotion_codes where workspace_id = $1 and batch_id = $2`,
        [h.workspaceId, res.body.id],
      );
      assert.deepEqual(stats, { n: 5_000, distinct_codes: 5_000, bad: 0 });
      const list = await h.request('GET', `/v1/promotions/${p.id}/code_batches`);
      assert.deepEqual(
        list.body.data.map((b: { id: string }) => b.id),
        [res.body.id],
      );
    });

    it('the background worker picks up a pending batch and finishes it', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      const res = await h.request('POST', `/v1/promotions/${p.id}/codes/generate`, {
        body: { count: 1_500 },
      });
      assert.equal(res.status, 202);
      const worker = startCodeBatchWorker(h.deps, 10, (err) => assert.fail(String(err)));
      try {
        const url = `/v1/promotions/${p.id}/code_batches/${res.body.id}`;
        for (let i = 0; i < 500; i++) {
          const b = await h.request('GET', url);
          if (b.body.status === 'succeeded') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const done = await h.request('GET', url);
        assert.equal(done.body.status, 'succeeded');
        assert.equal(done.body.generated, 1_500);
      } finally {
        await worker.stop();
      }
    });

    it('retries codes that collide with existing ones', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      const real = systemIds();
      // The first draws repeat one value that is already taken, as a generator would by (astronomically
      // rare) chance; the batch must skip it and draw again until it has all its codes.
      const constant = (digit: string) => (prefix: string, bits: number) =>
        `${prefix}_${digit.repeat(Math.ceil(bits / Math.log2(62)))}`;
      let repeated = 0;
      const colliding: Ids = {
        id: real.id,
        secret: (prefix, bits) => (repeated++ < 40 ? constant('1')(prefix, bits) : real.secret(prefix, bits)),
      };
      // The batch's first draw (32 codes from one random number) will contain this one.
      const existing = drawCodes({ id: real.id, secret: constant('1') }, '', 12, 32)[0]!;
      await h.db.query(
        `insert into promotion_codes (workspace_id, id, promotion_id, code, created_at) values ($1, $2, $3, $4, now())`,
        [h.workspaceId, 'pcode_existing_collision', p.id, existing],
      );
      const big = await h.request('POST', `/v1/promotions/${p.id}/codes/generate`, {
        body: { count: 1_001, length: 12 },
      });
      assert.equal(big.status, 202);
      await workCodeBatches({ ...h.deps, ids: colliding });
      assert.ok(repeated > 40, 'the colliding value was drawn');
      const done = await h.request('GET', `/v1/promotions/${p.id}/code_batches/${big.body.id}`);
      assert.equal(done.body.status, 'succeeded');
      assert.equal(done.body.generated, 1_001);
      const [stats] = await h.db.query<{ n: number; distinct_codes: number; has_taken: boolean }>(
        `select count(*)::int8 as n, count(distinct code)::int8 as distinct_codes, bool_or(code = $3) as has_taken
         from promotion_codes where workspace_id = $1 and batch_id = $2`,
        [h.workspaceId, big.body.id, existing],
      );
      assert.deepEqual(stats, { n: 1_001, distinct_codes: 1_001, has_taken: false });
    });

    it('fails a batch, saying why, when the code space is used up', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      const stuck: Ids = {
        id: systemIds().id,
        secret: (prefix, bits) => `${prefix}_${'2'.repeat(Math.ceil(bits / Math.log2(62)))}`,
      };
      const only = drawCodes(stuck, 'STUCK', 10, 1)[0]!;
      await h.db.query(
        `insert into promotion_codes (workspace_id, id, promotion_id, code, created_at) values ($1, $2, $3, $4, now())`,
        [h.workspaceId, 'pcode_existing_stuck', p.id, only],
      );
      const big = await h.request('POST', `/v1/promotions/${p.id}/codes/generate`, {
        body: { count: 2_000, prefix: 'STUCK', length: 10 },
      });
      await workCodeBatches({ ...h.deps, ids: stuck });
      const done = await h.request('GET', `/v1/promotions/${p.id}/code_batches/${big.body.id}`);
      assert.equal(done.body.status, 'failed');
      assert.match(done.body.error, /colliding/);
      assert.ok(done.body.generated > 0 && done.body.generated <= 32, 'it kept the codes it could make');
    });

    it('refuses bad generate input with a typed 400, and writes nothing', async () => {
      const { key, workspaceId } = await h.newWorkspace('gen-bad');
      const p = await createPromotion(h, { percent_off_bps: 1000 }, key);
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ count: 100_001 }, 'count', /100000/],
        [{ count: 0 }, 'count', /from 1/],
        [{ count: 10, length: 9 }, 'length', /from 10 to 32/],
        [{ count: 10, length: 33 }, 'length', /from 10 to 32/],
        [{ count: 10, prefix: 'A'.repeat(21) }, 'prefix', /at most 20/],
        [{ count: 10, prefix: 'BAD!' }, 'prefix', /only letters/],
        [{ count: 10, prefix: 'A\u0001' }, 'prefix', /control/],
        [
          { count: 10, prefix: ' - ' },
          'prefix',
          /^'prefix': a prefix must contain at least one letter or digit \(or leave it out\)$/,
        ],
        [
          { count: 10, prefix: `${'A-'.repeat(20)}A` },
          'prefix',
          /40 characters as typed \(and 20 once spaces and dashes/,
        ],
        [{ count: 10, max_redemptions: 0 }, 'max_redemptions', /from 1/],
      ];
      for (const [body, param, message] of cases) {
        const res = await h.request('POST', `/v1/promotions/${p.id}/codes/generate`, { key, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
        assert.match(res.body.error.message, message);
      }
      const missing = await h.request('POST', '/v1/promotions/promo_none/codes/generate', {
        key,
        body: { count: 1 },
      });
      assert.equal(missing.status, 404);
      const [row] = await h.db.query<{ n: number }>(
        'select (select count(*) from code_batches where workspace_id = $1) + (select count(*) from promotion_codes where workspace_id = $1) as n',
        [workspaceId],
      );
      assert.equal(Number(row!.n), 0);
    });
  });
}

describe('perks serve on the embedded store with PERKS_WORKERS=false', () => {
  it('says at start that background batches wait for a server with workers; not when workers are on', async () => {
    for (const workers of ['false', 'true']) {
      const data = await freshDataDir('workers');
      const lines: string[] = [];
      const running = await serve(
        loadConfig({ PERKS_DATA_DIR: data.dir, PORT: '0', LOG_LEVEL: 'silent', PERKS_WORKERS: workers }),
        (line) => lines.push(line),
      );
      try {
        const warned = lines.some((l) =>
          l.startsWith('Warning: PERKS_WORKERS=false on the embedded store: background work (code batches'),
        );
        assert.equal(warned, workers === 'false', lines.join('\n'));
      } finally {
        await running.stop();
        data.remove();
      }
    }
  });
});
