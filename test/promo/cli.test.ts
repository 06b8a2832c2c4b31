import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { progressLine, shellQuote } from '../../src/adapters/cli/promotions.js';
import { makeDeps, openStore } from '../../src/main.js';
import { loadConfig } from '../../src/config.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import { createPromotion, listPromotions, type PromotionView } from '../../src/app/promo_promotions.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { type CliStore, cliStoreCases, onStore, runPromotionsCli } from '../helpers/cli_stores.js';
import { CLI, ROOT, runCli } from '../helpers/processes.js';

/**
 * `perks promotions ...` on an embedded store in a temporary folder, driven through commander as
 * `perks` would run it. Output and progress are captured.
 */
describe('perks promotions (embedded store)', () => {
  let dir: string;
  let workspace: string;
  const saved = { dataDir: process.env.PERKS_DATA_DIR, databaseUrl: process.env.DATABASE_URL };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'perks-cli-promo-'));
    process.env.PERKS_DATA_DIR = dir;
    delete process.env.DATABASE_URL;
    const db = await openStore(loadConfig(), 'test');
    try {
      await migrate(db);
      workspace = (await createWorkspace(makeDeps(db), 'cli')).workspace.id;
    } finally {
      await db.close();
    }
  });
  after(() => {
    process.env.PERKS_DATA_DIR = saved.dataDir;
    if (saved.databaseUrl !== undefined) process.env.DATABASE_URL = saved.databaseUrl;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a command; `onProgress` sees each chunk of progress (stderr) as it is written. */
  async function runWith(onProgress: (chunk: string) => void, ...args: string[]) {
    const { stdout, progress } = await runPromotionsCli(args, onProgress);
    return { lines: stdout.split('\n'), progress };
  }
  const run = (...args: string[]) => runWith(() => {}, ...args);

  /** A promotion made through the CLI, for one test. */
  async function promotionFor(name: string) {
    const created = await run(
      'promotions',
      'create',
      '--workspace',
      workspace,
      '--name',
      name,
      '--percent-off-bps',
      '1000',
      '--json',
    );
    return (JSON.parse(created.lines.join('\n')) as { id: string }).id;
  }

  /** Runs `fn` from an empty folder of its own, where a file named '-' written by mistake would show. */
  async function inEmptyFolder(fn: (folder: string) => Promise<void>) {
    const here = process.cwd();
    const folder = mkdtempSync(path.join(dir, 'cwd-'));
    process.chdir(folder);
    try {
      await fn(folder);
    } finally {
      process.chdir(here);
    }
  }

  /** What a folder holds besides `keep`: a file written aside and left behind would show here. */
  const leftovers = (folder: string, keep: string[]) =>
    readdirSync(folder).filter((name) => !keep.includes(name));

  it('creates a promotion, adds a code, generates a batch with progress and writes it to CSV', async () => {
    const created = await run(
      'promotions',
      'create',
      '--workspace',
      workspace,
      '--name',
      'Launch',
      '--percent-off-bps',
      '2500',
      '--duration',
      'repeating',
      '--duration-periods',
      '3',
      '--expires-at',
      '2030-12-31',
      '--time-zone',
      'America/New_York',
      '--json',
    );
    const promotion = JSON.parse(created.lines.join('\n'));
    assert.match(promotion.id, /^promo_/);
    assert.equal(promotion.expires_at, '2031-01-01T05:00:00.000Z');

    const code = await run('promotions', 'add-code', promotion.id, 'launch-25', '--workspace', workspace);
    assert.match(code.lines[0]!, /^Created code LAUNCH25 \(pcode_/);

    const file = path.join(dir, 'codes.csv');
    const generated = await run(
      'promotions',
      'generate',
      promotion.id,
      '--workspace',
      workspace,
      '--count',
      '1200',
      '--prefix',
      'L',
      '--output',
      file,
    );
    assert.match(generated.lines[0]!, /^Generated 1200 codes in batch cbatch_/);
    assert.match(generated.lines[1]!, /^Wrote 1200 codes to /);
    assert.ok(generated.progress.length >= 3, 'progress was reported while the batch ran');
    assert.equal(generated.progress.at(-2), `${progressLine(1200, 1200)}\n`);
    assert.equal(generated.progress.at(-1), `Writing 1,200 codes to ${file}...\n`);
    const csv = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(csv[0], 'code,id,promotion_id,batch_id,max_redemptions,expires_at');
    assert.equal(csv.length, 1201);
    assert.ok(csv.slice(1).every((row) => /^L[A-Z2-9]{12},pcode_/.test(row)));

    const listed = await run('promotions', 'list', '--workspace', workspace);
    assert.match(
      listed.lines[0]!,
      new RegExp(`^${promotion.id}\\tLaunch\\t25% off\\trepeating\\tredeemed 0`),
    );
    // An amount is listed as money, not in minor units.
    await run(
      'promotions',
      'create',
      '--workspace',
      workspace,
      '--name',
      'Fixed',
      '--amount-off',
      '300',
      '--currency',
      'usd',
    );
    const both = await run('promotions', 'list', '--workspace', workspace);
    assert.ok(
      both.lines.some((line) => /\tFixed\t3\.00 USD off\tonce\t/.test(line)),
      both.lines.join('\n'),
    );
  });

  it('refuses bad input with the same typed errors as the API, and writes nothing', async () => {
    await assert.rejects(
      run('promotions', 'create', '--workspace', workspace, '--name', 'Bad', '--percent-off-bps', '10001'),
      (err: Error & { code?: string; param?: string }) =>
        err.code === 'parameter_invalid' && err.param === 'percent_off_bps',
    );
    await assert.rejects(
      run('promotions', 'create', '--workspace', workspace, '--name', 'Bad', '--amount-off', '500'),
      (err: Error & { code?: string; param?: string }) =>
        err.code === 'parameter_missing' && err.param === 'currency',
    );
    const listed = await run('promotions', 'list', '--workspace', workspace, '--json');
    assert.ok(JSON.parse(listed.lines.join('\n')).data.every((p: { name: string }) => p.name !== 'Bad'));
  });

  it('refuses a workspace that does not exist, on every subcommand, and writes nothing', async () => {
    const missing = `ws_${'0'.repeat(26)}`;
    const noWorkspace = (err: Error & { code?: string; param?: string }) =>
      err.code === 'resource_not_found' &&
      err.param === 'workspace' &&
      err.message === `no workspace '${missing}'`;
    const created = await run(
      'promotions',
      'create',
      '--workspace',
      workspace,
      '--name',
      'Elsewhere',
      '--percent-off-bps',
      '1000',
      '--json',
    );
    const promotion = (JSON.parse(created.lines.join('\n')) as { id: string }).id;
    const file = path.join(dir, 'missing-workspace.csv');

    await assert.rejects(
      run('promotions', 'create', '--workspace', missing, '--name', 'X', '--percent-off-bps', '2500'),
      noWorkspace,
    );
    await assert.rejects(run('promotions', 'list', '--workspace', missing), noWorkspace);
    await assert.rejects(run('promotions', 'show', promotion, '--workspace', missing), noWorkspace);
    await assert.rejects(
      run('promotions', 'add-code', promotion, 'NOWS1', '--workspace', missing),
      noWorkspace,
    );
    await assert.rejects(
      run('promotions', 'generate', promotion, '--workspace', missing, '--count', '5', '--output', file),
      noWorkspace,
    );
    await assert.rejects(
      run('promotions', 'codes', promotion, '--workspace', missing, '--output', file),
      noWorkspace,
    );
    await assert.rejects(
      run('promotions', 'resume', promotion, 'cbatch_x', '--workspace', missing, '--output', file),
      noWorkspace,
    );
    await assert.rejects(run('promotions', 'batches', '--workspace', missing), noWorkspace);
    assert.equal(existsSync(file), false, 'no CSV file was written');

    const db = await openStore(loadConfig(), 'test');
    try {
      const rows = await db.query<{ n: number }>(
        `select (select count(*) from promotions where workspace_id = $1)::int
              + (select count(*) from promotion_codes where workspace_id = $1)::int as n`,
        [missing],
      );
      assert.equal(rows[0]!.n, 0);
    } finally {
      await db.close();
    }
  });

  it("refuses a --limit outside 1 to 100 with the API's message instead of clamping it", async () => {
    for (const limit of ['0', '101', '-5', '']) {
      await assert.rejects(
        run('promotions', 'list', '--workspace', workspace, '--limit', limit),
        (err: Error & { code?: string; param?: string }) =>
          err.code === 'parameter_invalid' &&
          err.param === 'limit' &&
          err.message === "'limit': must be between 1 and 100",
        `--limit '${limit}'`,
      );
    }
    for (const limit of ['1.5', 'abc']) {
      await assert.rejects(
        run('promotions', 'list', '--workspace', workspace, '--limit', limit),
        (err: Error & { code?: string; exitCode?: number }) =>
          err.code === 'commander.invalidArgument' && err.exitCode === 1,
        `--limit '${limit}'`,
      );
    }
    const edges = await run('promotions', 'list', '--workspace', workspace, '--limit', '100', '--json');
    assert.equal(JSON.parse(edges.lines.join('\n')).object, 'list');
  });

  it("refuses generate --count and --length outside the API's limits", async () => {
    const cases: [string[], string, string][] = [
      [['--count', '0'], 'count', "'count': must be from 1 to 100000"],
      [['--count', '100001'], 'count', "'count': must be from 1 to 100000"],
      [['--count', '5', '--length', '9'], 'length', "'length': must be from 10 to 32"],
      [['--count', '5', '--length', '33'], 'length', "'length': must be from 10 to 32"],
    ];
    for (const [args, param, message] of cases) {
      await assert.rejects(
        run('promotions', 'generate', 'promo_x', '--workspace', workspace, ...args),
        (err: Error & { code?: string; param?: string }) =>
          err.code === 'parameter_invalid' && err.param === param && err.message === message,
        args.join(' '),
      );
    }
  });

  it('as the real perks process: one line on stderr and exit code 1', async () => {
    const env = { PERKS_DATA_DIR: dir, DATABASE_URL: undefined };
    const missing = `ws_${'0'.repeat(26)}`;
    const create = await runCli(
      ['promotions', 'create', '--workspace', missing, '--name', 'X', '--percent-off-bps', '2500'],
      env,
    );
    assert.equal(create.code, 1);
    assert.equal(create.stderr, `perks: no workspace '${missing}'\n`);
    const list = await runCli(['promotions', 'list', '--workspace', workspace, '--limit', '0'], env);
    assert.equal(list.code, 1);
    assert.equal(list.stderr, "perks: 'limit': must be between 1 and 100\n");
    assert.equal(list.stdout, '');
  });

  it('generate --output - prints only the codes on stdout, and every message on stderr', async () => {
    const promotion = await promotionFor('Stdout');
    await inEmptyFolder(async (folder) => {
      const generated = await run(
        'promotions',
        'generate',
        promotion,
        '--workspace',
        workspace,
        '--count',
        '1500',
        '--output',
        '-',
      );
      assert.equal(generated.lines[0], 'code,id,promotion_id,batch_id,max_redemptions,expires_at');
      assert.equal(generated.lines.length, 1501);
      assert.ok(
        generated.lines.slice(1).every((row) => /^[A-Z2-9]{12},pcode_\w+,promo_\w+,cbatch_\w+,1,$/.test(row)),
        'stdout holds the codes and nothing else',
      );
      const stderr = generated.progress.join('');
      const id = stderr.match(/^Batch (cbatch_\w+) created: 1,500 codes$/m)?.[1];
      assert.ok(id, stderr);
      assert.ok(
        stderr.endsWith(
          `${progressLine(1500, 1500)}\nWriting 1,500 codes to stdout...\nGenerated 1500 codes in batch ${id}.\nWrote 1500 codes to stdout.\n`,
        ),
        stderr,
      );
      assert.deepEqual(readdirSync(folder), [], "no file named '-' was written");
    });
  });

  it('refuses generate and resume with both --output - and --json, before anything is done', async () => {
    const promotion = await promotionFor('Dash and JSON');
    const refused = (err: Error & { code?: string; param?: string }) =>
      err.code === 'parameter_invalid' &&
      err.param === 'output' &&
      err.message.startsWith("'--output -' puts the codes on stdout, so '--json' cannot");
    await inEmptyFolder(async (folder) => {
      await assert.rejects(
        run(
          'promotions',
          'generate',
          promotion,
          '--workspace',
          workspace,
          '--count',
          '5',
          '--output',
          '-',
          '--json',
        ),
        refused,
      );
      await assert.rejects(
        run(
          'promotions',
          'resume',
          promotion,
          'cbatch_x',
          '--workspace',
          workspace,
          '--output',
          '-',
          '--json',
        ),
        refused,
      );
      assert.deepEqual(readdirSync(folder), [], "no file named '-' was written");
    });
    const listed = await run('promotions', 'codes', promotion, '--workspace', workspace);
    assert.deepEqual(listed.lines, ['code,id,promotion_id,batch_id,max_redemptions,expires_at'], 'no codes');
  });

  it('quotes the words of a suggested command for a POSIX shell only when they need it', () => {
    const cases: [string, string, string][] = [
      ['a plain path', '/tmp/out/codes-2024_v1.csv', '/tmp/out/codes-2024_v1.csv'],
      ['an id', 'cbatch_01hx', 'cbatch_01hx'],
      ['stdout', '-', '-'],
      ['a space', '/tmp/my codes.csv', "'/tmp/my codes.csv'"],
      ['a single quote', "Bob's.csv", `'Bob'\\''s.csv'`],
      ['only quotes', "''", `''\\'''\\'''`],
      ['the empty word', '', "''"],
      ['shell syntax', '$HOME/*.csv;rm -rf ~', "'$HOME/*.csv;rm -rf ~'"],
      ['a double quote and a backslash', 'a"b\\c', `'a"b\\c'`],
      ['a new line', 'a\nb', "'a\nb'"],
      ['non-ASCII', 'codes-été.csv', "'codes-été.csv'"],
    ];
    for (const [label, word, quoted] of cases) assert.equal(shellQuote(word), quoted, label);
  });

  it('Ctrl-C during the final export leaves an existing file as it was and nothing written aside', async () => {
    const promotion = await promotionFor('Interrupted export');
    const folder = mkdtempSync(path.join(dir, 'aside-'));
    const file = path.join(folder, 'codes.csv');
    writeFileSync(file, 'an earlier export\n');
    const savedExitCode = process.exitCode;
    // The export starts right after this line; a SIGINT then (as the handlers see one) stops it.
    const interrupt = (chunk: string) => {
      if (chunk.startsWith('Writing ')) process.emit('SIGINT', 'SIGINT');
    };
    try {
      const generated = await runWith(
        interrupt,
        'promotions',
        'generate',
        promotion,
        '--workspace',
        workspace,
        '--count',
        '1200',
        '--output',
        file,
      );
      assert.equal(readFileSync(file, 'utf8'), 'an earlier export\n');
      assert.deepEqual(leftovers(folder, ['codes.csv']), []);
      assert.equal(process.exitCode, 130);
      assert.deepEqual(generated.lines, [''], 'nothing on stdout');
      const stderr = generated.progress.join('');
      const id = stderr.match(/^Batch (cbatch_\w+) created/m)?.[1];
      assert.ok(
        stderr.endsWith(
          [
            `Stopped after 0 of 1,200 codes: '${file}' is left as it was.`,
            `The codes are stored in batch ${id}; export them with:`,
            `  perks promotions codes ${promotion} --workspace ${workspace} --batch ${id} --output ${file}`,
            '',
          ].join('\n'),
        ),
        stderr,
      );
    } finally {
      process.exitCode = savedExitCode;
    }
  });

  it('replaces an existing file once every code is written, keeping its permissions', async () => {
    const promotion = await promotionFor('Replaced');
    await run('promotions', 'generate', promotion, '--workspace', workspace, '--count', '250');
    const folder = mkdtempSync(path.join(dir, 'replace-'));
    const file = path.join(folder, 'codes.csv');
    writeFileSync(file, 'an earlier export\n');
    chmodSync(file, 0o600);
    const codes = await run('promotions', 'codes', promotion, '--workspace', workspace, '--output', file);
    assert.deepEqual(codes.lines, [`Wrote 250 codes to ${file}.`]);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 251);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(leftovers(folder, ['codes.csv']), []);
  });

  it('draws a progress bar', () => {
    assert.equal(progressLine(0, 100_000), `[${'.'.repeat(30)}] 0 / 100,000 codes 0%`);
    assert.equal(
      progressLine(45_000, 100_000),
      `[${'#'.repeat(14)}${'.'.repeat(16)}] 45,000 / 100,000 codes 45%`,
    );
  });
});

/**
 * Runs a command line as a POSIX shell does, with `perks` the CLI of this work tree, so a command the
 * CLI suggests is tested as an operator pastes it. Fails (with its stderr) if it exits with an error.
 */
async function inShell(command: string, env: Record<string, string>) {
  const script = `perks() { "$PERKS_TEST_NODE" --import tsx "$PERKS_TEST_CLI" "$@"; }\n${command}`;
  return promisify(execFile)('sh', ['-c', script], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ...env,
      PERKS_TEST_NODE: process.execPath,
      PERKS_TEST_CLI: CLI,
    },
  });
}

type PromotionPage = { object: 'list'; data: PromotionView[]; has_more: boolean };

/**
 * `perks promotions list` page by page: the hint on stderr for the next page, `--starting-after` and
 * `--all`, on the embedded store and, when DATABASE_URL is set, a fresh PostgreSQL database.
 */
for (const { name, make } of cliStoreCases('cli-promo-pages')) {
  describe(`perks promotions list, page by page (${name})`, () => {
    let store: CliStore;
    const saved = { dataDir: process.env.PERKS_DATA_DIR, databaseUrl: process.env.DATABASE_URL };
    /** 21 promotions: one more than a page without --limit. */
    let workspace = '';
    /** 201 promotions: more than two pages of 100, for --all. */
    let many = '';
    /** The ids of the promotions of `workspace` and of `many`, newest first. */
    const newest: string[] = [];
    const manyNewest: string[] = [];

    before(async () => {
      store = await make();
      // The commands below read the store from the environment, as `perks` does.
      Object.assign(process.env, store.env);
      await onStore(store, async (db) => {
        const deps = makeDeps(db);
        workspace = (await createWorkspace(deps, 'pages')).workspace.id;
        many = (await createWorkspace(deps, 'many pages')).workspace.id;
        await db.transaction(async (tx) => {
          const promotion = (id: string, n: number) =>
            createPromotion(deps, tx, id, { name: `Promotion ${n}`, percent_off_bps: n });
          for (let n = 1; n <= 21; n++) newest.unshift((await promotion(workspace, n)).id);
          for (let n = 1; n <= 201; n++) manyNewest.unshift((await promotion(many, n)).id);
        });
      });
    });
    after(async () => {
      if (saved.dataDir === undefined) delete process.env.PERKS_DATA_DIR;
      else process.env.PERKS_DATA_DIR = saved.dataDir;
      if (saved.databaseUrl === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.databaseUrl;
      await store.remove();
    });

    /** Runs `perks promotions list ...` in this process; stdout and stderr as the CLI writes them. */
    const list = async (...args: string[]) => {
      const { stdout, stderr } = await runPromotionsCli(['promotions', 'list', ...args]);
      return { stdout, stderr };
    };
    /** The ids of the lines of a human-readable list. */
    const ids = (stdout: string) =>
      stdout
        .trimEnd()
        .split('\n')
        .map((line) => line.split('\t')[0]);
    const next = (...words: string[]) =>
      `Showing ${words[0]}; there are more (--all lists them all). Next page: perks promotions list ${words.slice(1).join(' ')}\n`;

    it('as the real perks process: 20 lines on stdout, and on stderr the command that lists the 21st', async () => {
      const first = await runCli(['promotions', 'list', '--workspace', workspace], store.env);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(ids(first.stdout), newest.slice(0, 20));
      const command = `perks promotions list --workspace ${workspace} --starting-after ${newest[19]}`;
      assert.equal(
        first.stderr,
        `Showing 20 promotions; there are more (--all lists them all). Next page: ${command}\n`,
      );
      const second = await inShell(first.stderr.split('Next page: ')[1]!, store.env);
      assert.deepEqual(ids(second.stdout), [newest[20]]);
      assert.match(second.stdout, /\tPromotion 1\t0\.01% off\t/);
      assert.equal(second.stderr, '', 'the last page has no hint');
    });

    it('keeps --limit in the command for the next page, and gives none on the last page or with --json', async () => {
      const first = await list('--workspace', workspace, '--limit', '8');
      assert.deepEqual(ids(first.stdout), newest.slice(0, 8));
      assert.equal(
        first.stderr,
        next('8 promotions', '--workspace', workspace, '--limit', '8', '--starting-after', newest[7]!),
      );
      const second = await list('--workspace', workspace, '--limit', '8', '--starting-after', newest[7]!);
      assert.deepEqual(ids(second.stdout), newest.slice(8, 16));
      assert.equal(
        second.stderr,
        next('8 promotions', '--workspace', workspace, '--limit', '8', '--starting-after', newest[15]!),
      );
      const last = await list('--workspace', workspace, '--limit', '8', '--starting-after', newest[15]!);
      assert.deepEqual(ids(last.stdout), newest.slice(16));
      assert.equal(last.stderr, '');
      const one = await list('--workspace', workspace, '--limit', '1');
      assert.equal(
        one.stderr,
        next('1 promotion', '--workspace', workspace, '--limit', '1', '--starting-after', newest[0]!),
      );
      const json = await list('--workspace', workspace, '--starting-after', newest[4]!, '--json');
      const page = JSON.parse(json.stdout) as PromotionPage;
      assert.deepEqual(
        page.data.map((p) => p.id),
        newest.slice(5),
      );
      assert.equal(page.has_more, false);
      const more = await list('--workspace', workspace, '--json');
      assert.equal((JSON.parse(more.stdout) as PromotionPage).has_more, true);
      assert.equal(more.stderr, '', 'stderr stays empty with --json; has_more says it');
    });

    it('--all follows the pages to the end, 100 at a time, with no hint', async () => {
      const all = await list('--workspace', many, '--all');
      assert.deepEqual(ids(all.stdout), manyNewest);
      assert.equal(all.stderr, '');
      assert.deepEqual(ids((await list('--workspace', workspace, '--all')).stdout), newest);
      // With --starting-after, every promotion after that one.
      const rest = await list('--workspace', many, '--all', '--starting-after', manyNewest[149]!);
      assert.deepEqual(ids(rest.stdout), manyNewest.slice(150));
      const none = await list('--workspace', many, '--all', '--starting-after', manyNewest[200]!);
      assert.equal(none.stdout, '(none)');
    });

    it('--all --json prints one list object with every promotion and has_more false', async () => {
      const all = JSON.parse((await list('--workspace', many, '--all', '--json')).stdout) as PromotionPage;
      assert.equal(all.object, 'list');
      assert.equal(all.has_more, false);
      assert.deepEqual(
        all.data.map((p) => p.id),
        manyNewest,
      );
      const first = JSON.parse((await list('--workspace', many, '--limit', '100', '--json')).stdout);
      assert.deepEqual(all.data.slice(0, 100), (first as PromotionPage).data, 'the same objects as a page');
    });

    it('takes a --starting-after that names no promotion as a position in the list, as the API does', async () => {
      // Just after the 10th newest in id order: the list goes on from that one.
      const between = `${newest[9]}z`;
      const listed = await list('--workspace', workspace, '--starting-after', between, '--json');
      const api = await onStore(store, (db) =>
        listPromotions(db, workspace, { limit: 20, starting_after: between }),
      );
      assert.deepEqual(JSON.parse(listed.stdout), JSON.parse(JSON.stringify(api)));
      assert.deepEqual(
        api.data.map((p) => p.id),
        newest.slice(9),
      );
      // Before every id: nothing is older.
      const before = await list('--workspace', workspace, '--starting-after', 'promo_0');
      assert.deepEqual(before, { stdout: '(none)', stderr: '' });
    });

    it('refuses a malformed --starting-after, and --all with --limit, with typed errors', async () => {
      const invalid = (param: string, message: string) => (err: Error & { code?: string; param?: string }) =>
        err.code === 'parameter_invalid' && err.param === param && err.message === message;
      await assert.rejects(
        list('--workspace', workspace, '--starting-after', ''),
        invalid('starting_after', "'starting_after': must not be empty"),
      );
      await assert.rejects(
        list('--workspace', workspace, '--starting-after', 'promo 1'),
        invalid('starting_after', "'starting_after': must be printable ASCII without spaces"),
      );
      await assert.rejects(
        list('--workspace', workspace, '--all', '--limit', '50'),
        invalid(
          'all',
          "'--all' reads every page, 100 at a time, so it takes no '--limit'; leave out one of them",
        ),
      );
    });
  });
}
