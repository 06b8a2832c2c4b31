/**
 * `perks promotions generate`, `resume` and `codes` as the real CLI in a child process, on the
 * embedded store and, when DATABASE_URL is set, a fresh PostgreSQL database: an output file that
 * cannot be written, a batch interrupted by Ctrl-C, and codes printed to stdout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requestGeneration } from '../../src/app/promo_batches.js';
import { createPromotion } from '../../src/app/promo_promotions.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { makeDeps } from '../../src/main.js';
import { type CliStore, cliStoreCases, onStore } from '../helpers/cli_stores.js';
import { CLI, ROOT, runCli, runTs, tempDir } from '../helpers/processes.js';

/**
 * Runs one line as an operator would paste it into a POSIX shell, with `perks` standing for the CLI
 * (exec'd, so it is the shell's own process).
 */
function inShell(line: string, env: Record<string, string>) {
  const shell = spawn(
    'sh',
    ['-c', `perks() { exec "$PERKS_NODE" --import tsx "$PERKS_CLI" "$@"; }\n${line}`],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, PERKS_NODE: process.execPath, PERKS_CLI: CLI },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  shell.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    shell.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const { name, make } of cliStoreCases('cli-promo-codes')) {
  describe(`perks promotions generate, resume and codes (${name})`, () => {
    let store: CliStore;
    let out: ReturnType<typeof tempDir>;
    let workspace = '';
    let promotion = '';
    /** A batch of 1,000 codes made beforehand, for the exports. */
    let batch = '';
    const cli = (...args: string[]) => runCli(['promotions', ...args], store.env);
    const batchCount = () =>
      onStore(store, async (db) => {
        const rows = await db.query<{ n: number }>(
          'select count(*)::int as n from code_batches where workspace_id = $1',
          [workspace],
        );
        return rows[0]!.n;
      });

    before(async () => {
      store = await make();
      out = tempDir('cli-promo-codes-out');
      await onStore(store, async (db) => {
        const deps = makeDeps(db);
        workspace = (await createWorkspace(deps, 'codes cli')).workspace.id;
        await db.transaction(async (tx) => {
          promotion = (await createPromotion(deps, tx, workspace, { name: 'Export', percent_off_bps: 1000 }))
            .id;
          batch = (await requestGeneration(deps, tx, workspace, promotion, { count: 1000 })).batch.id;
        });
      });
    });
    after(async () => {
      out.remove();
      await store.remove();
    });

    it('refuses an --output it cannot write before generating anything, in one line', async () => {
      const before = await batchCount();
      const cases = [
        [path.join(out.dir, 'no/such/folder/codes.csv'), 'no such file or directory'],
        [out.dir, 'illegal operation on a directory'],
      ];
      for (const [file, reason] of cases) {
        const generate = await cli(
          'generate',
          promotion,
          '--workspace',
          workspace,
          '--count',
          '3000',
          '--output',
          file!,
        );
        assert.equal(generate.code, 1, generate.stderr);
        assert.equal(generate.stderr, `perks: cannot write '${file}': ${reason}\n`);
        assert.equal(generate.stdout, '');

        const codes = await cli(
          'codes',
          promotion,
          '--workspace',
          workspace,
          '--batch',
          batch,
          '--output',
          file!,
        );
        assert.equal(codes.code, 1, codes.stderr);
        assert.equal(codes.stderr, `perks: cannot write '${file}': ${reason}\n`);
      }
      assert.equal(await batchCount(), before, 'no batch was created');
    });

    it(
      'names the stored batch when writing its codes fails, and they can be exported again',
      {
        skip: !existsSync('/dev/full') && 'needs /dev/full',
      },
      async () => {
        // /dev/full opens but fails every write with ENOSPC: a disk that fills up while the codes are written.
        const generate = await cli(
          'generate',
          promotion,
          '--workspace',
          workspace,
          '--count',
          '1500',
          '--output',
          '/dev/full',
        );
        assert.equal(generate.code, 1, generate.stderr);
        const created = generate.stderr.match(/^Batch (cbatch_\w+) created: 1,500 codes$/m);
        assert.ok(created, generate.stderr);
        const id = created[1]!;
        const again = `perks promotions codes ${promotion} --workspace ${workspace} --batch ${id} --output <file>`;
        assert.equal(
          generate.stderr.split('\n').at(-2),
          `perks: cannot write '/dev/full': no space left on device; the codes are stored in batch ${id}; export them with: ${again}`,
        );
        assert.doesNotMatch(generate.stderr, /\n\s+at /, 'no stack trace');

        const file = path.join(out.dir, 'again.csv');
        const codes = await cli(
          'codes',
          promotion,
          '--workspace',
          workspace,
          '--batch',
          id,
          '--output',
          file,
        );
        assert.equal(codes.code, 0, codes.stderr);
        assert.equal(codes.stdout, `Wrote 1500 codes to ${file}.\n`);
        assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1501);
      },
    );

    it('prints the batch id at once; Ctrl-C stops after a chunk, says how to carry on, and resume finishes it', async () => {
      // A path with a space and a quote: the suggested command, pasted into a shell, still finds it.
      const file = path.join(out.dir, "Bob's interrupted codes.csv");
      // An earlier export there is kept until this one writes its codes.
      writeFileSync(file, 'an earlier export\n');
      const child = runTs(
        CLI,
        ['promotions', 'generate', promotion, '--workspace', workspace, '--count', '20000', '--output', file],
        store.env,
      );
      try {
        const [, id] = await child.waitForLine(/^Batch (cbatch_\w+) created: 20,000 codes$/, 60_000);
        child.process.kill('SIGINT');
        const { code } = await child.exited(60_000);
        assert.equal(code, 130, child.stderr());
        assert.equal(child.stdout(), '');
        const quoted = `'${file.replaceAll("'", `'\\''`)}'`;
        const resume = `perks promotions resume ${promotion} ${id} --workspace ${workspace} --output ${quoted}`;
        assert.match(
          child.stderr(),
          new RegExp(`\\nStopped: batch ${id} has [0-9,]+ of 20,000 codes and stays (pending|running)\\.\\n`),
        );
        assert.ok(
          child
            .stderr()
            .includes(`finishes it (unless PERKS_WORKERS=false), or carry on here with:\n  ${resume}\n`),
        );
        assert.equal(
          readFileSync(file, 'utf8'),
          'an earlier export\n',
          'the stopped run left the file as it was',
        );

        const resumed = await inShell(resume, store.env);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.equal(
          resumed.stdout,
          `Generated 20000 codes in batch ${id}.\nWrote 20000 codes to ${file}.\n`,
        );
        assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 20001);
        assert.deepEqual(
          readdirSync(out.dir).filter((name) => name.endsWith('.tmp')),
          [],
          'nothing written aside is left',
        );
      } finally {
        child.kill();
      }
    });

    it('prints the codes to stdout without --output or with --output -, as CSV or JSON', async () => {
      const csv = await cli('codes', promotion, '--workspace', workspace, '--batch', batch);
      assert.equal(csv.code, 0, csv.stderr);
      const rows = csv.stdout.trim().split('\n');
      assert.equal(rows[0], 'code,id,promotion_id,batch_id,max_redemptions,expires_at');
      assert.equal(rows.length, 1001);
      assert.ok(rows.slice(1).every((row) => row.includes(`,${promotion},${batch},1,`)));

      const dash = await cli('codes', promotion, '--workspace', workspace, '--batch', batch, '--output', '-');
      assert.equal(dash.stdout, csv.stdout);

      const json = await cli('codes', promotion, '--workspace', workspace, '--batch', batch, '--json');
      assert.equal(json.code, 0, json.stderr);
      const codes = JSON.parse(json.stdout) as { object: string; code: string; batch_id: string }[];
      assert.equal(codes.length, 1000);
      assert.ok(codes.every((c) => c.object === 'promotion_code' && c.batch_id === batch));
      assert.deepEqual(
        codes.map((c) => c.code),
        rows.slice(1).map((row) => row.split(',')[0]),
      );

      // No codes: the header (or an empty array) and no blank line.
      const empty = await onStore(store, async (db) => {
        const deps = makeDeps(db);
        return db.transaction(
          async (tx) =>
            (await createPromotion(deps, tx, workspace, { name: 'Empty', percent_off_bps: 1000 })).id,
        );
      });
      assert.equal(
        (await cli('codes', empty, '--workspace', workspace)).stdout,
        'code,id,promotion_id,batch_id,max_redemptions,expires_at\n',
      );
      assert.deepEqual(
        JSON.parse((await cli('codes', empty, '--workspace', workspace, '--json')).stdout),
        [],
      );
      assert.equal((await cli('codes', empty, '--workspace', workspace, '--json')).stdout, '[\n]\n');

      const unknown = await cli('codes', promotion, '--workspace', workspace, '--batch', 'cbatch_x');
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stderr, `perks: no code batch 'cbatch_x' for promotion '${promotion}'\n`);
      assert.equal(unknown.stdout, '');
    });

    it('stops quietly when the reader of stdout goes away (| head)', async () => {
      const child = runTs(
        CLI,
        ['promotions', 'codes', promotion, '--workspace', workspace, '--batch', batch],
        store.env,
      );
      try {
        child.process.stdout!.once('data', () => child.process.stdout!.destroy());
        const { code } = await child.exited(60_000);
        assert.equal(child.stderr(), '');
        assert.equal(code, 0);
      } finally {
        child.kill();
      }
    });
  });
}
