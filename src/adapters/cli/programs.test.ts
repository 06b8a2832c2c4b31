import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { Command } from 'commander';
import { systemClock, systemIds } from '../system.js';
import { createWorkspace } from '../../app/workspaces.js';
import { openPglite } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { registerProgramCommands } from './programs.js';

/** The CLI group on an embedded store in a temporary folder, as an operator runs it. */
describe('perks programs (CLI)', () => {
  let dir: string;
  let workspace: string;
  const saved = { url: process.env.DATABASE_URL, dataDir: process.env.PERKS_DATA_DIR };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'perks-programs-cli-'));
    delete process.env.DATABASE_URL;
    process.env.PERKS_DATA_DIR = path.join(dir, 'data');
    const db = await openPglite({ dataDir: process.env.PERKS_DATA_DIR, command: 'test' });
    try {
      await migrate(db);
      workspace = (await createWorkspace({ db, clock: systemClock, ids: systemIds() }, 'cli')).workspace.id;
    } finally {
      await db.close();
    }
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
    if (saved.dataDir !== undefined) process.env.PERKS_DATA_DIR = saved.dataDir;
    else delete process.env.PERKS_DATA_DIR;
  });

  async function run(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const log = mock.method(console, 'log', (line: string) => out.push(line));
    const error = mock.method(console, 'error', (line: string) => err.push(line));
    process.exitCode = 0;
    try {
      const program = new Command().exitOverride();
      registerProgramCommands(program);
      await program.parseAsync(['node', 'perks', ...args]);
    } finally {
      log.mock.restore();
      error.mock.restore();
    }
    const code = process.exitCode ?? 0;
    process.exitCode = 0;
    return { out: out.join('\n'), err: err.join('\n'), code };
  }

  it('creates a program from a template with its assets, in the only workspace when none is named', async () => {
    const res = await run('programs', 'create', '--template', 'bonus-minutes');
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /Created program "bonus-minutes" \(prg_[0-9a-z]{26}\): version 1 is in force/);
  });

  it('applies a YAML document, leaves it unchanged when applied again, and versions an edit', async () => {
    const file = path.join(dir, 'program.yaml');
    const yaml = (value: number) =>
      [
        'key: friends',
        'name: Friends get minutes',
        'landing_url: https://example.com/join',
        'rewards:',
        '  - trigger: signup',
        '    recipient: referee',
        '    asset: bonus_minutes',
        `    amount: { kind: fixed, value: ${value} }`,
      ].join('\n');
    writeFileSync(file, yaml(10));
    const first = await run('programs', 'apply', file, '--workspace', workspace);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /Created program "friends"/);
    const again = await run('programs', 'apply', file, '--workspace', workspace);
    assert.match(again.out, /is unchanged at version 1/);
    writeFileSync(file, yaml(20));
    const edited = await run('programs', 'apply', file, '--workspace', workspace, '--json');
    assert.equal(JSON.parse(edited.out).program.latest_version, 2);
  });

  it('lists every schema error by path, and says when a file cannot be read', async () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({
        key: 'Bad Key',
        name: 'x',
        landing_url: 'nope',
        rewards: [{ trigger: 'never', recipient: 'referee' }],
      }),
    );
    const res = await run('programs', 'apply', file, '--workspace', workspace);
    assert.equal(res.code, 1);
    for (const param of [
      'key',
      'landing_url',
      'rewards[0].trigger',
      'rewards[0].asset',
      'rewards[0].amount',
    ]) {
      assert.match(res.err, new RegExp(`^  ${param.replace(/[[\]]/g, '\\$&')}: `, 'm'), res.err);
    }
    const unreadable = path.join(dir, 'broken.yaml');
    writeFileSync(unreadable, 'key: [unclosed');
    const parse = await run('programs', 'apply', unreadable, '--workspace', workspace);
    assert.equal(parse.code, 1);
    assert.match(parse.err, /is not valid JSON or YAML/);
  });

  it('refuses an unknown template and an unknown workspace', async () => {
    const template = await run('programs', 'create', '--template', 'mystery', '--workspace', workspace);
    assert.equal(template.code, 1);
    assert.match(template.err, /no template 'mystery'/);
    const ws = await run(
      'programs',
      'create',
      '--template',
      'bonus-minutes',
      '--workspace',
      'ws_00000000000000000000000000',
    );
    assert.equal(ws.code, 1);
    assert.match(ws.err, /no workspace/);
  });
});
