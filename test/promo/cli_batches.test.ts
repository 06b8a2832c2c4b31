/**
 * `perks promotions batches`: a workspace's code batches (or one promotion's), newest first, on the
 * embedded store and, when DATABASE_URL is set, a fresh PostgreSQL database. Driven through commander
 * in this process, as `perks` would run it, with one run of the real CLI for the error line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BatchView, listWorkspaceBatches, requestGeneration } from '../../src/app/promo_batches.js';
import { createPromotion } from '../../src/app/promo_promotions.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { makeDeps } from '../../src/main.js';
import { type CliStore, cliStoreCases, onStore, runPromotionsCli } from '../helpers/cli_stores.js';
import { runCli } from '../helpers/processes.js';

type Page = { object: 'list'; data: BatchView[]; has_more: boolean };

for (const { name, make } of cliStoreCases('cli-promo-batches')) {
  describe(`perks promotions batches (${name})`, () => {
    let store: CliStore;
    const saved = { dataDir: process.env.PERKS_DATA_DIR, databaseUrl: process.env.DATABASE_URL };
    let workspace = '';
    let other = '';
    let launch = '';
    let spring = '';
    let empty = '';
    /** The batches of `workspace`, oldest first. */
    const made: { id: string; promotion: string; total: number }[] = [];
    /** 21 batches of one code: one more than a page without --limit. */
    let many = '';
    /** The ids of the batches of `many`, newest first. */
    const manyNewest: string[] = [];

    before(async () => {
      store = await make();
      // The commands below read the store from the environment, as `perks` does.
      Object.assign(process.env, store.env);
      await onStore(store, async (db) => {
        const deps = makeDeps(db);
        workspace = (await createWorkspace(deps, 'batches cli')).workspace.id;
        other = (await createWorkspace(deps, 'another')).workspace.id;
        many = (await createWorkspace(deps, 'many batches')).workspace.id;
        await db.transaction(async (tx) => {
          const promotion = (id: string, label: string) =>
            createPromotion(deps, tx, id, { name: label, percent_off_bps: 1000 });
          launch = (await promotion(workspace, 'Launch')).id;
          spring = (await promotion(workspace, 'Spring')).id;
          empty = (await promotion(workspace, 'No batches')).id;
          const elsewhere = (await promotion(other, 'Elsewhere')).id;
          await requestGeneration(deps, tx, other, elsewhere, { count: 4 });
          // 1,500 codes are more than a request generates: that batch stays pending, none generated.
          for (const [promo, total] of [
            [launch, 5],
            [spring, 3],
            [launch, 1500],
          ] as const) {
            const { batch } = await requestGeneration(deps, tx, workspace, promo, { count: total });
            made.push({ id: batch.id, promotion: promo, total });
          }
          const single = (await promotion(many, 'Single codes')).id;
          for (let n = 0; n < 21; n++) {
            manyNewest.unshift((await requestGeneration(deps, tx, many, single, { count: 1 })).batch.id);
          }
        });
      });
    });
    after(async () => {
      process.env.PERKS_DATA_DIR = saved.dataDir;
      if (saved.databaseUrl === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.databaseUrl;
      await store.remove();
    });

    /** Runs `perks promotions batches ...` in this process; stdout and stderr as the CLI writes them. */
    const runWith = (...args: string[]) => runPromotionsCli(['promotions', 'batches', ...args]);
    const run = async (...args: string[]) => (await runWith(...args)).stdout;
    /** The ids of the lines of a human-readable list. */
    const ids = (stdout: string) => stdout.split('\n').map((line) => line.split('\t')[0]);
    /** The words after `perks promotions batches` of the command a hint gives (ids need no quotes). */
    const nextPage = (stderr: string) => {
      const command = stderr.trimEnd().split('Next page: ')[1] ?? '';
      assert.ok(command.startsWith('perks promotions batches '), stderr);
      return command.split(' ').slice(3);
    };
    const page = async (...args: string[]) => JSON.parse(await run(...args, '--json')) as Page;

    it("lists the workspace's batches over all its promotions, newest first", async () => {
      const listed = await page('--workspace', workspace);
      assert.equal(listed.object, 'list');
      assert.equal(listed.has_more, false);
      assert.deepEqual(
        listed.data.map((b) => [b.id, b.promotion_id, b.total, b.generated, b.status]),
        [
          [made[2]!.id, launch, 1500, 0, 'pending'],
          [made[1]!.id, spring, 3, 3, 'succeeded'],
          [made[0]!.id, launch, 5, 5, 'succeeded'],
        ],
      );
      assert.ok(listed.data.every((b) => b.object === 'code_batch'));

      const human = await run('--workspace', workspace);
      assert.equal(
        human,
        listed.data
          .map(
            (b) =>
              `${b.id}\t${b.promotion_id}\trequested ${b.total}\tgenerated ${b.generated}\t${b.status}\tcreated ${b.created_at}`,
          )
          .join('\n'),
      );
      assert.match(
        human.split('\n')[0]!,
        /^cbatch_\w+\tpromo_\w+\trequested 1500\tgenerated 0\tpending\tcreated 20/,
      );
    });

    it("lists one promotion's batches with --promotion, and pages with --limit", async () => {
      const listed = await page('--workspace', workspace, '--promotion', launch);
      assert.deepEqual(
        listed.data.map((b) => b.id),
        [made[2]!.id, made[0]!.id],
      );
      const first = await page('--workspace', workspace, '--limit', '2');
      assert.deepEqual(
        first.data.map((b) => b.id),
        [made[2]!.id, made[1]!.id],
      );
      assert.equal(first.has_more, true);
      assert.equal(await run('--workspace', workspace, '--promotion', empty), '(none)');
      assert.deepEqual(await page('--workspace', workspace, '--promotion', empty), {
        object: 'list',
        data: [],
        has_more: false,
      });
    });

    it('refuses an unknown promotion, one of another workspace, and a --limit outside 1 to 100', async () => {
      const noPromotion = (id: string) => (err: Error & { code?: string; param?: string }) =>
        err.code === 'resource_not_found' &&
        err.param === 'promotion' &&
        err.message === `no promotion '${id}'`;
      await assert.rejects(
        run('--workspace', workspace, '--promotion', 'promo_nope'),
        noPromotion('promo_nope'),
      );
      const elsewhere = (await page('--workspace', other)).data[0]!.promotion_id;
      await assert.rejects(run('--workspace', workspace, '--promotion', elsewhere), noPromotion(elsewhere));
      await assert.rejects(
        run('--workspace', workspace, '--limit', '101'),
        (err: Error & { code?: string; param?: string }) =>
          err.code === 'parameter_invalid' &&
          err.param === 'limit' &&
          err.message === "'limit': must be between 1 and 100",
      );
      const missing = `ws_${'0'.repeat(26)}`;
      await assert.rejects(
        run('--workspace', missing),
        (err: Error & { code?: string; param?: string }) =>
          err.code === 'resource_not_found' && err.param === 'workspace',
      );
    });

    it('prints 20 batches and, on stderr, the command for the next page, which lists the 21st', async () => {
      const first = await runWith('--workspace', many);
      assert.deepEqual(ids(first.stdout), manyNewest.slice(0, 20));
      assert.equal(
        first.stderr,
        `Showing 20 batches; there are more (--all lists them all). Next page: perks promotions batches --workspace ${many} --starting-after ${manyNewest[19]}\n`,
      );
      const second = await runWith(...nextPage(first.stderr));
      assert.deepEqual(ids(second.stdout), [manyNewest[20]]);
      assert.equal(second.stderr, '', 'the last page has no hint');
    });

    it('keeps --promotion and --limit in the command for the next page', async () => {
      const first = await runWith('--workspace', workspace, '--promotion', launch, '--limit', '1');
      assert.deepEqual(ids(first.stdout), [made[2]!.id]);
      assert.equal(
        first.stderr,
        `Showing 1 batch; there are more (--all lists them all). Next page: perks promotions batches --workspace ${workspace} --promotion ${launch} --limit 1 --starting-after ${made[2]!.id}\n`,
      );
      const second = await runWith(...nextPage(first.stderr));
      assert.deepEqual(ids(second.stdout), [made[0]!.id]);
      assert.equal(second.stderr, '');
      const json = await runWith('--workspace', many, '--json');
      assert.equal((JSON.parse(json.stdout) as Page).has_more, true);
      assert.equal(json.stderr, '', 'stderr stays empty with --json; has_more says it');
    });

    it('--all lists every batch, 100 at a time, with no hint; with --json as one list object', async () => {
      const all = await runWith('--workspace', many, '--all');
      assert.deepEqual(ids(all.stdout), manyNewest);
      assert.equal(all.stderr, '');
      assert.deepEqual(ids(await run('--workspace', workspace, '--promotion', launch, '--all')), [
        made[2]!.id,
        made[0]!.id,
      ]);
      const rest = await run('--workspace', many, '--all', '--starting-after', manyNewest[4]!);
      assert.deepEqual(ids(rest), manyNewest.slice(5));
      const json = await page('--workspace', many, '--all');
      assert.equal(json.object, 'list');
      assert.equal(json.has_more, false);
      assert.deepEqual(
        json.data.map((b) => b.id),
        manyNewest,
      );
      assert.deepEqual(json.data.slice(0, 20), (await page('--workspace', many)).data);
    });

    it('takes a --starting-after that names no batch as a position in the list, as the API does', async () => {
      // Just after the middle batch in id order: the list goes on from that one.
      const between = `${made[1]!.id}z`;
      const listed = await page('--workspace', workspace, '--starting-after', between);
      const api = await onStore(store, (db) =>
        listWorkspaceBatches(db, workspace, { limit: 20, starting_after: between }),
      );
      assert.deepEqual(listed, JSON.parse(JSON.stringify(api)));
      assert.deepEqual(
        listed.data.map((b) => b.id),
        [made[1]!.id, made[0]!.id],
      );
      const ofLaunch = await page(
        '--workspace',
        workspace,
        '--promotion',
        launch,
        '--starting-after',
        between,
      );
      assert.deepEqual(
        ofLaunch.data.map((b) => b.id),
        [made[0]!.id],
      );
      assert.equal(await run('--workspace', workspace, '--starting-after', 'cbatch_0'), '(none)');
    });

    it('refuses a malformed --starting-after, and --all with --limit, with typed errors', async () => {
      const invalid = (param: string, message: string) => (err: Error & { code?: string; param?: string }) =>
        err.code === 'parameter_invalid' && err.param === param && err.message === message;
      await assert.rejects(
        run('--workspace', workspace, '--starting-after', ''),
        invalid('starting_after', "'starting_after': must not be empty"),
      );
      await assert.rejects(
        run('--workspace', workspace, '--all', '--limit', '100'),
        invalid(
          'all',
          "'--all' reads every page, 100 at a time, so it takes no '--limit'; leave out one of them",
        ),
      );
    });

    it('as the real perks process: the error in one line on stderr and exit code 1', async () => {
      const result = await runCli(
        ['promotions', 'batches', '--workspace', workspace, '--promotion', 'promo_nope'],
        store.env,
      );
      assert.equal(result.code, 1);
      assert.equal(result.stderr, "perks: no promotion 'promo_nope'\n");
      assert.equal(result.stdout, '');
    });
  });
}
