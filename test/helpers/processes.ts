import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers for tests that drive real processes: the CLI, a crashing writer, a server to stop. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(ROOT, 'src/adapters/cli/main.ts');

export interface Child {
  process: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout or stderr line matching `pattern` (including lines already seen). */
  waitForLine(pattern: RegExp, timeout_ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  exited(timeout_ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGKILL if it is still running. */
  kill(): void;
}

/** Runs a TypeScript entry point with tsx in a new Node process. */
export function runTs(script: string, args: string[], env: Record<string, string | undefined> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      notify();
      resolve(exit);
    });
  });
  const describe = () => `stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`;
  return {
    process: child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitForLine(pattern, timeout_ms = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of `${out}\n${err}`.split('\n')) {
            const match = line.match(pattern);
            if (match) {
              done();
              resolve(match);
              return;
            }
          }
          if (exit) {
            done();
            reject(
              new Error(`process exited (${JSON.stringify(exit)}) before printing ${pattern}\n${describe()}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${pattern} within ${timeout_ms} ms\n${describe()}`));
        }, timeout_ms);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    exited(timeout_ms = 30_000) {
      return Promise.race([
        exitPromise,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`process still running after ${timeout_ms} ms\n${describe()}`)),
            timeout_ms,
          ).unref(),
        ),
      ]);
    },
    kill() {
      if (!exit) child.kill('SIGKILL');
    },
  };
}

/** Runs the CLI to completion and returns its output and exit code. */
export async function runCli(args: string[], env: Record<string, string | undefined>, timeout_ms = 60_000) {
  const child = runTs(CLI, args, env);
  const { code } = await child.exited(timeout_ms);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/** A temporary folder, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `perks-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Creating an embedded data folder runs initdb inside PGlite, which takes seconds (tens of seconds on a
 * loaded machine). Tests that need a fresh folder copy a migrated, cleanly closed template instead.
 * The template is cached in the system temp folder under a hash of the migrations and the PGlite
 * version, built in a private folder and renamed into place, so concurrent test files never see a
 * half-built one.
 */
export async function freshDataDir(prefix: string): Promise<{ dir: string; remove(): void }> {
  const template = await dataDirTemplate();
  const tmp = tempDir(prefix);
  cpSync(template, tmp.dir, { recursive: true });
  return tmp;
}

let templatePromise: Promise<string> | undefined;

function dataDirTemplate(): Promise<string> {
  templatePromise ??= (async () => {
    const { listMigrations } = await import('../../src/adapters/db/migrate.js');
    const version = JSON.parse(
      readFileSync(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
    ).version as string;
    const hash = createHash('sha256').update(version);
    for (const m of listMigrations()) hash.update(`${m.version}\n${m.sql}\n`);
    const target = path.join(os.tmpdir(), `perks-test-template-${hash.digest('hex').slice(0, 16)}`);
    if (existsSync(path.join(target, 'pgdata'))) return target;
    const build = mkdtempSync(path.join(os.tmpdir(), 'perks-test-template-build-'));
    const { openPglite } = await import('../../src/adapters/db/db.js');
    const { migrate } = await import('../../src/adapters/db/migrate.js');
    const db = await openPglite({ dataDir: build, command: 'test template' });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    try {
      renameSync(build, target);
    } catch {
      // Another test file finished its template first; theirs is as good as this one.
      rmSync(build, { recursive: true, force: true });
    }
    return target;
  })();
  return templatePromise;
}
