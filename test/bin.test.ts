/**
 * bin/perks.js, the entry point `npm start` runs: it starts the compiled CLI in dist/, and in a
 * checkout whose src/ changed after the build it says so on stderr instead of running older code
 * silently.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('bin/perks.js', () => {
  let root: string;
  const bin = () => path.join(root, 'bin', 'perks.js');
  const start = () => run(process.execPath, [bin()], { cwd: root });

  before(() => {
    // A checkout in miniature: the real bin/perks.js, a dist/ entry that reports it ran, and src/.
    root = mkdtempSync(path.join(tmpdir(), 'perks-bin-'));
    mkdirSync(path.join(root, 'bin'));
    copyFileSync(path.resolve('bin/perks.js'), bin());
    mkdirSync(path.join(root, 'dist', 'adapters', 'cli'), { recursive: true });
    writeFileSync(path.join(root, 'dist', 'adapters', 'cli', 'main.js'), "console.log('dist ran');\n");
    mkdirSync(path.join(root, 'src', 'app'), { recursive: true });
    writeFileSync(path.join(root, 'src', 'app', 'thing.ts'), 'export {};\n');
    writeFileSync(path.join(root, 'src', 'app', 'thing.test.ts'), 'export {};\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const setTime = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
  const dist = () => path.join(root, 'dist', 'adapters', 'cli', 'main.js');

  it('runs the build without a word when src/ is older than it', async () => {
    setTime(path.join(root, 'src', 'app', 'thing.ts'), 1_000_000);
    setTime(path.join(root, 'src', 'app', 'thing.test.ts'), 3_000_000);
    setTime(dist(), 2_000_000);
    const { stdout, stderr } = await start();
    assert.equal(stdout, 'dist ran\n');
    assert.equal(stderr, '', 'a test file changed since the build is not part of it');
  });

  it('warns, naming the file, when a source file changed after the build, and still runs it', async () => {
    setTime(path.join(root, 'src', 'app', 'thing.ts'), 3_000_000);
    setTime(dist(), 2_000_000);
    const { stdout, stderr } = await start();
    assert.equal(stdout, 'dist ran\n');
    assert.match(stderr, /src\/app\/thing\.ts changed after dist\/ was built/);
    assert.match(stderr, /npm run build/);
  });

  it('refuses with the command to run when dist/ is missing', async () => {
    rmSync(path.join(root, 'dist'), { recursive: true });
    const failed = await start().then(
      () => assert.fail('expected a non-zero exit'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /dist\/ is missing; run `npm run build`/);
  });
});
