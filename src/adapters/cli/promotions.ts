import { randomBytes } from 'node:crypto';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, type FileHandle, lstat, open, rename, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { Db, Deps } from '../../app/ports.js';
import {
  type BatchView,
  getBatch,
  listBatches,
  listWorkspaceBatches,
  requestGeneration,
  workCodeBatchOnce,
} from '../../app/promo_batches.js';
import { createCode, listCodes } from '../../app/promo_codes.js';
import {
  createPromotion,
  listPromotions,
  promotionView,
  requirePromotion,
} from '../../app/promo_promotions.js';
import { loadConfig } from '../../config.js';
import { PerksError } from '../../core/errors.js';
import { describeTerms } from '../../core/promo/discount.js';
import { makeDeps, openStore } from '../../main.js';
import { migrate } from '../db/migrate.js';
import { fromZod } from '../http/errors.js';
import { codeInput, generateInput, promotionInput } from '../http/routes/promo_schema.js';
import { LIMITS, pageQuery } from '../http/schemas.js';

/**
 * `perks promotions ...`: promotions and codes from the command line, on the configured store. The
 * input goes through the same schemas as the HTTP API, so the limits and the error messages are the
 * same. `generate` works its batch in this process (a running server's worker may take chunks too)
 * and shows a progress bar while it runs; `resume` carries on a batch that was interrupted.
 */

export interface CliOutput {
  /** One line of normal output (stdout). */
  out(line: string): void;
  /**
   * Stderr: progress (a TTY gets a redrawn bar, anything else a line every 10%) and notes such as the
   * command for a list's next page, so that stdout holds only the data.
   */
  progress: NodeJS.WriteStream | { isTTY?: boolean; write(chunk: string): boolean };
}

const defaultOutput: CliOutput = { out: (line) => console.log(line), progress: process.stderr };

const workspaceOption = (value: string) => {
  if (!/^ws_[0-9a-z]{26}$/.test(value))
    throw new InvalidArgumentError('expected a workspace id like ws_01...');
  return value;
};

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer, got '${value}'`);
  return n;
};

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * `--limit` and `--starting-after` of `list` and `batches`, checked like the API's `?limit=` (1 to 100,
 * same message, instead of clamped) and `?starting_after=`.
 */
const pageInput = z.strictObject(pageQuery);

/**
 * `--output` of `generate` and `resume`. `-` puts the codes on stdout, where a `--json` batch would
 * run into them, so the two are refused together before anything is done.
 */
function outputOption(opts: Record<string, unknown>): string | undefined {
  const output = opts.output as string | undefined;
  if (output === '-' && opts.json) {
    throw new PerksError(
      'parameter_invalid',
      "'--output -' puts the codes on stdout, so '--json' cannot print the batch there too; write the codes to a file, or leave out --json",
      'output',
    );
  }
  return output;
}

/** Parses with an API schema; a failure is the same typed error the API would answer. */
function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZod(result.error, 'options');
  return result.data;
}

/** Drops options that were not given, so the schema sees only what the operator typed. */
function given(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/**
 * Opens the store and runs `fn` in the named workspace. A workspace that does not exist is refused
 * first, as `perks keys` does (`perks: no workspace 'ws_...'`), before anything is read or written.
 */
async function inWorkspace<T>(
  command: string,
  workspaceId: string,
  fn: (deps: Deps, db: Db) => Promise<T>,
): Promise<T> {
  const db = await openStore(loadConfig(), `perks ${command}`);
  try {
    await migrate(db);
    const rows = await db.query('select 1 from workspaces where workspace_id = $1', [workspaceId]);
    if (rows.length === 0) {
      throw new PerksError('resource_not_found', `no workspace '${workspaceId}'`, 'workspace');
    }
    return await fn(makeDeps(db), db);
  } finally {
    await db.close();
  }
}

const BAR_WIDTH = 30;

/** `[#########.....]  45,000 / 100,000 codes  45%` */
export function progressLine(generated: number, total: number): string {
  const ratio = total === 0 ? 1 : Math.min(1, generated / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
  return `[${bar}] ${generated.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} codes ${Math.floor(ratio * 100)}%`;
}

/** Draws progress: redrawn in place on a terminal, one line per tenth otherwise (logs, CI). */
export function progressReporter(stream: CliOutput['progress']) {
  let lastTenth = -1;
  return {
    update(generated: number, total: number) {
      if (stream.isTTY) {
        stream.write(`\r${progressLine(generated, total)}`);
        return;
      }
      const tenth = Math.floor((generated / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${progressLine(generated, total)}\n`);
      }
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const isOpen = (batch: BatchView) => batch.status === 'pending' || batch.status === 'running';

/**
 * Works a batch to the end from this process, reporting progress after each chunk. When another
 * process holds the batch (a server's worker mid-chunk), it waits and polls instead. `stopped` is
 * checked between chunks, so a stop never cuts one short.
 */
async function followBatch(
  deps: Deps,
  workspaceId: string,
  batch: BatchView,
  report: ReturnType<typeof progressReporter>,
  stopped: () => boolean,
): Promise<BatchView> {
  let current = batch;
  report.update(current.generated, current.total);
  while (isOpen(current) && !stopped()) {
    const worked = await workCodeBatchOnce(deps, undefined, { workspaceId, batchId: current.id });
    if (!worked) await sleep(200);
    current = await getBatch(deps.db, workspaceId, current.promotion_id, current.id);
    report.update(current.generated, current.total);
  }
  report.done();
  return current;
}

/** Where exported codes go: a file checked before any work, or stdout. */
interface CodeSink {
  /** For messages: the path, or "stdout". */
  name: string;
  /** What `--output` takes to write here again: the path as given, or "-". */
  option: string;
  /** The codes go to stdout, so every other message goes to stderr. */
  stdout: boolean;
  /** What an export stopped halfway leaves behind, for the message that says so. */
  stoppedNote: string;
  /** False once nobody reads any more (a closed pipe), so there is no point going on. */
  write(lines: string[]): Promise<boolean>;
  /** Makes what was written the output (a file written aside is renamed over the target). */
  commit(): Promise<void>;
  /** Closes the output; an export that was not committed is removed. */
  close(): Promise<void>;
  /** Removes an uncommitted export at once, for a process about to end on a second Ctrl-C. */
  abandon(): void;
}

/** Node's reason without the code and path around it: "no such file or directory". */
const reason = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');

/** A name beside `file` for writing it aside: `.codes.csv.1f2e3d4c.tmp` (the name kept under 255 bytes). */
const asideOf = (file: string) =>
  path.join(
    path.dirname(file),
    `.${path.basename(file).slice(0, 200)}.${randomBytes(4).toString('hex')}.tmp`,
  );

/**
 * Checks now that `file` can be written, so a path that cannot (no such folder, a folder, no
 * permission) is refused before anything is generated. A later write error (a full disk) names the
 * file and adds `afterWriteError`: how to get the codes again.
 *
 * A regular file (or a new one) is written aside in its folder and renamed over the target once every
 * code is in it, so the target is always either as it was or complete, whatever stops the export. A
 * path that is something else (a device such as /dev/full, a pipe, a symlink) is written in place.
 */
async function openOutput(file: string, afterWriteError = ''): Promise<CodeSink> {
  const cannotWrite = (err: unknown, hint = '') =>
    new PerksError('parameter_invalid', `cannot write '${file}': ${reason(err)}${hint}`, 'output');
  const found = await lstat(file).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw cannotWrite(err);
  });
  if (found !== undefined && !found.isFile()) return writeInPlace(file, cannotWrite, afterWriteError);
  const refuse = (err: unknown) => {
    throw cannotWrite(err);
  };
  // The target is only checked, not opened: it stays as it is until the file written aside replaces
  // it. A file is tried aside now (the folder must exist and let this process create files), then removed.
  if (found !== undefined) await access(file, fsConstants.W_OK).catch(refuse);
  const probe = asideOf(file);
  await (await open(probe, 'wx').catch(refuse)).close();
  await rm(probe, { force: true });
  return writeAside(file, found && found.mode & 0o7777, cannotWrite, afterWriteError);
}

type CannotWrite = (err: unknown, hint?: string) => PerksError;

/** Writes beside `file` and renames over it on commit; keeps the old file's permissions. */
function writeAside(
  file: string,
  mode: number | undefined,
  cannotWrite: CannotWrite,
  afterWriteError: string,
): CodeSink {
  const aside = asideOf(file);
  let handle: FileHandle | undefined;
  let committed = false;
  const create = async () => {
    const created = await open(aside, 'wx');
    if (mode !== undefined) await created.chmod(mode);
    return created;
  };
  return {
    name: file,
    option: file,
    stdout: false,
    stoppedNote: `'${file}' is left as it was`,
    async write(lines) {
      try {
        handle ??= await create();
        await handle.write(lines.map((line) => `${line}\n`).join(''));
        return true;
      } catch (err) {
        throw cannotWrite(err, afterWriteError);
      }
    },
    async commit() {
      try {
        handle ??= await create();
        await handle.close();
        handle = undefined;
        await rename(aside, file);
        committed = true;
      } catch (err) {
        throw cannotWrite(err, afterWriteError);
      }
    },
    async close() {
      if (committed) return;
      await handle?.close().catch(() => {});
      handle = undefined;
      await rm(aside, { force: true });
    },
    abandon() {
      if (!committed) rmSync(aside, { force: true });
    },
  };
}

/** Opens `file` now and writes into it (a device cannot be renamed over, nor a pipe). */
async function writeInPlace(
  file: string,
  cannotWrite: CannotWrite,
  afterWriteError: string,
): Promise<CodeSink> {
  // Opened without truncating: a generation stopped or failed before its export leaves what is there
  // as it was. It is emptied when the first lines are written.
  const handle = await open(file, 'a').catch((err: unknown) => {
    throw cannotWrite(err);
  });
  let emptied = false;
  return {
    name: file,
    option: file,
    stdout: false,
    stoppedNote: `'${file}' holds only some of them`,
    async write(lines) {
      try {
        if (!emptied) {
          // Only a file with something in it (a device such as /dev/stdout cannot be truncated).
          if ((await handle.stat()).size > 0) await handle.truncate(0);
          emptied = true;
        }
        await handle.write(lines.map((line) => `${line}\n`).join(''));
        return true;
      } catch (err) {
        throw cannotWrite(err, afterWriteError);
      }
    },
    commit: async () => {},
    async close() {
      try {
        await handle.close();
      } catch (err) {
        throw cannotWrite(err, afterWriteError);
      }
    },
    abandon: () => {},
  };
}

/** Added once to stdout: its errors (EPIPE) end the export, seen as `destroyed`, not the process. */
const stdoutClosed = () => {};

/**
 * Stdout. A reader that stops early (`perks promotions codes ... | head`) closes the pipe; the export
 * then stops quietly, as other command-line tools do, instead of dying on an unhandled EPIPE.
 */
function stdoutSink(io: CliOutput): CodeSink {
  if (!process.stdout.listeners('error').includes(stdoutClosed)) process.stdout.on('error', stdoutClosed);
  return {
    name: 'stdout',
    option: '-',
    stdout: true,
    stoppedNote: 'stdout got only some of them',
    async write(lines) {
      if (process.stdout.destroyed) return false;
      if (lines.length > 0) io.out(lines.join('\n'));
      return true;
    },
    commit: async () => {},
    close: async () => {},
    abandon: () => {},
  };
}

/** `--output`: `-` is stdout, anything else a file checked now. */
const openSink = (io: CliOutput, output: string, afterWriteError = '') =>
  output === '-' ? stdoutSink(io) : openOutput(output, afterWriteError);

const CSV_HEADER = 'code,id,promotion_id,batch_id,max_redemptions,expires_at';

/**
 * Writes the codes of a promotion (or one batch) page by page, as CSV or as one JSON array of the
 * API's code objects. `complete` is false when the reader went away or `stopped()` turned true (it is
 * asked before each page).
 */
async function exportCodes(
  deps: Deps,
  workspaceId: string,
  filter: { promotion: string; batch?: string | undefined },
  sink: CodeSink,
  format: 'csv' | 'json' = 'csv',
  stopped: () => boolean = () => false,
): Promise<{ written: number; complete: boolean }> {
  if (!(await sink.write([format === 'json' ? '[' : CSV_HEADER]))) return { written: 0, complete: false };
  let written = 0;
  let after: string | undefined;
  for (;;) {
    if (stopped()) return { written, complete: false };
    const page = await listCodes(deps.db, workspaceId, { ...filter, limit: 100, starting_after: after });
    const reading = await sink.write(
      page.data.map((c, i) =>
        format === 'json'
          ? // has_more says whether another code follows this page's last, so whether it takes a comma.
            `  ${JSON.stringify(c)}${i < page.data.length - 1 || page.has_more ? ',' : ''}`
          : `${c.code},${c.id},${c.promotion_id},${c.batch_id ?? ''},${c.max_redemptions ?? ''},${c.expires_at ?? ''}`,
      ),
    );
    written += page.data.length;
    if (!reading) return { written, complete: false };
    if (!page.has_more) break;
    after = page.data.at(-1)?.id;
  }
  const closed = format === 'csv' || (await sink.write([']']));
  return { written, complete: closed };
}

/**
 * Quotes one word for a POSIX shell, only when it needs it: `codes.csv` stays as it is, `my codes.csv`
 * becomes `'my codes.csv'` and `it's.csv` becomes `'it'\''s.csv'` (a quote ends the quoting, goes in
 * escaped, and the quoting starts again). The safe characters are those of Python's `shlex.quote`.
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A `perks ...` command to print for the operator to paste back into a shell. */
const perks = (...words: string[]) => ['perks', ...words.map(shellQuote)].join(' ');

/** What to run to carry on an interrupted batch, or to export a batch's codes (again). */
const resumeCommand = (batch: BatchView, workspaceId: string) =>
  perks('promotions', 'resume', batch.promotion_id, batch.id, '--workspace', workspaceId);
const exportCommand = (batch: BatchView, workspaceId: string) =>
  perks('promotions', 'codes', batch.promotion_id, '--workspace', workspaceId, '--batch', batch.id);
/** Added to a write error that comes after the batch was stored. */
const exportAgain = (batch: BatchView, workspaceId: string) =>
  `; the codes are stored in batch ${batch.id}; export them with: ${exportCommand(batch, workspaceId)} --output <file>`;

const signalExit = (signal: NodeJS.Signals) => 128 + constants.signals[signal];

/**
 * Runs `fn` with SIGINT and SIGTERM caught. The first is only recorded: `fn` reads it from `signal()`
 * and stops at its next check, so a chunk or a page is never cut short. A second one ends the process
 * at once, as if nothing caught it, right after `atOnce` (which removes a half-written export).
 */
async function catchingSignals<T>(
  fn: (signal: () => NodeJS.Signals | undefined) => Promise<T>,
  atOnce: () => void,
): Promise<T> {
  let received: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (received === undefined) {
      received = signal;
      return;
    }
    atOnce();
    process.off('SIGINT', stop).off('SIGTERM', stop);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  try {
    return await fn(() => received);
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

/**
 * Follows a batch to the end in this process, writes its codes to `sink` and prints the outcome
 * (`generate` and `resume`). SIGINT or SIGTERM stops it after the chunk in hand (or the page of codes
 * in hand, during the export): the batch stays in the store, and the message says where it stands and
 * how it gets finished or exported. A second signal ends the process at once. `announce` is printed
 * only once the signals are caught, so whoever reads it (a person at Ctrl-C, a test) can stop the
 * process safely from then on. With the codes on stdout, every message goes to stderr.
 */
async function finishBatch(
  deps: Deps,
  io: CliOutput,
  workspaceId: string,
  batch: BatchView,
  { sink, json, announce }: { sink?: CodeSink | undefined; json?: boolean | undefined; announce?: string },
): Promise<void> {
  const note = (lines: string[]) => io.progress.write(`${lines.join('\n')}\n`);
  const say = sink?.stdout ? note : (lines: string[]) => io.out(lines.join('\n'));
  const output = sink ? ` --output ${shellQuote(sink.option)}` : '';
  await catchingSignals(
    async (signal) => {
      if (announce !== undefined) note([announce]);
      const stopped = () => signal() !== undefined;
      const current = await followBatch(deps, workspaceId, batch, progressReporter(io.progress), stopped);
      const outcome =
        current.status === 'succeeded'
          ? `Generated ${current.generated} codes in batch ${current.id}.`
          : `Batch ${current.id} ${current.status} after ${current.generated} of ${current.total} codes: ${current.error ?? ''}`;
      if (current.status !== 'succeeded') process.exitCode = 1;
      const received = signal();
      if (received && isOpen(current)) {
        note([
          `Stopped: batch ${current.id} has ${current.generated.toLocaleString('en-US')} of ${current.total.toLocaleString('en-US')} codes and stays ${current.status}.`,
          'A `perks serve` on this store finishes it (unless PERKS_WORKERS=false), or carry on here with:',
          `  ${resumeCommand(current, workspaceId)}${output}`,
        ]);
        process.exitCode = signalExit(received);
        return;
      }
      if (!sink) {
        say(
          json
            ? [JSON.stringify(current, null, 2)]
            : [outcome, `Export them with: ${exportCommand(current, workspaceId)}`],
        );
        return;
      }
      note([`Writing ${current.generated.toLocaleString('en-US')} codes to ${sink.name}...`]);
      const filter = { promotion: current.promotion_id, batch: current.id };
      const { written, complete } = await exportCodes(deps, workspaceId, filter, sink, 'csv', stopped);
      const interrupted = signal();
      if (!complete) {
        note([
          `${interrupted ? 'Stopped' : 'The reader of stdout went away'} after ${written.toLocaleString('en-US')} of ${current.generated.toLocaleString('en-US')} codes: ${sink.stoppedNote}.`,
          `The codes are stored in batch ${current.id}; export them with:`,
          `  ${exportCommand(current, workspaceId)}${output}`,
        ]);
        if (interrupted) process.exitCode = signalExit(interrupted);
        return;
      }
      await sink.commit();
      say(json ? [JSON.stringify(current, null, 2)] : [outcome, `Wrote ${written} codes to ${sink.name}.`]);
    },
    () => sink?.abandon(),
  );
}

/** The paging options of `list` and `batches`, as commander hands them over. */
interface PageOptions {
  limit?: number;
  startingAfter?: string;
  all?: boolean;
  json?: boolean;
}

/** A page as the API's list endpoints answer it. */
interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

/** A list without `--limit` shows more than the API's 10: a terminal has room for them. */
const CLI_PAGE_SIZE = 20;

/**
 * Checks `--limit`, `--starting-after` and `--all` before the store is opened. `--all` reads pages of
 * the largest size, so a `--limit` beside it would mean nothing and is refused rather than ignored;
 * `--starting-after` beside it starts the walk after that id.
 */
function pageOptions(opts: PageOptions) {
  if (opts.all && opts.limit !== undefined) {
    throw new PerksError(
      'parameter_invalid',
      `'--all' reads every page, ${LIMITS.pageSize} at a time, so it takes no '--limit'; leave out one of them`,
      'all',
    );
  }
  const limit = opts.all ? LIMITS.pageSize : (opts.limit ?? CLI_PAGE_SIZE);
  return {
    ...parse(pageInput, given({ limit, starting_after: opts.startingAfter })),
    all: opts.all === true,
  };
}

/**
 * Prints a list that `read` gives page by page, newest first (`list`, `batches`). Without `--all`, one
 * page; when more follow, a line on stderr says how many were shown and gives the command for the next
 * page (`again`, the command as typed, plus `--starting-after` the last id), so stdout holds only the
 * data and `| wc -l` counts it. `--all` follows the pages to the end, printing each as it comes and
 * stopping quietly when the reader of stdout goes away (`| head`); with `--json` it prints one list
 * object with every item and `has_more: false`, the shape of a single page.
 */
async function printPages<T extends { id: string }>(
  io: CliOutput,
  page: ReturnType<typeof pageOptions>,
  json: boolean | undefined,
  list: {
    /** What is listed, for the note: `['promotion', 'promotions']`. */
    noun: readonly [one: string, many: string];
    read(page: { limit: number; starting_after: string | undefined }): Promise<ListPage<T>>;
    line(item: T): string;
    /** The words of the command that lists the first page, without `--starting-after`. */
    again: string[];
  },
): Promise<void> {
  const read = (startingAfter: string | undefined) =>
    list.read({ limit: page.limit, starting_after: startingAfter });
  if (!page.all) {
    const first = await read(page.starting_after);
    if (json) {
      io.out(JSON.stringify(first, null, 2));
      return;
    }
    io.out(first.data.map(list.line).join('\n') || '(none)');
    const last = first.data.at(-1);
    if (first.has_more && last !== undefined) {
      const shown = `${first.data.length} ${first.data.length === 1 ? list.noun[0] : list.noun[1]}`;
      io.progress.write(
        `Showing ${shown}; there are more (--all lists them all). Next page: ${perks(...list.again, '--starting-after', last.id)}\n`,
      );
    }
    return;
  }
  const all: T[] = [];
  const stdout = stdoutSink(io);
  let printed = 0;
  let after = page.starting_after;
  for (;;) {
    const current = await read(after);
    if (json) all.push(...current.data);
    else if (!(await stdout.write(current.data.map(list.line)))) return;
    printed += current.data.length;
    after = current.data.at(-1)?.id;
    if (!current.has_more || after === undefined) break;
  }
  if (json) io.out(JSON.stringify({ object: 'list', data: all, has_more: false }, null, 2));
  else if (printed === 0) io.out('(none)');
}

/** Registers `perks promotions ...` on the program. */
export function registerPromotionCommands(program: Command, io: CliOutput = defaultOutput): void {
  const print = (value: unknown, json: boolean | undefined, human: () => string) =>
    io.out(json ? JSON.stringify(value, null, 2) : human());

  const promotions = program.command('promotions').description('Manage promotions and their codes');

  promotions
    .command('create')
    .description('Create a promotion (percent_off_bps or amount_off with currency)')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .requiredOption('--name <name>', 'a name for operators')
    .option('--percent-off-bps <n>', 'percentage off in basis points (2000 = 20%)', integer)
    .option('--amount-off <n>', 'amount off in minor units', integer)
    .option('--currency <code>', 'lower-case ISO 4217 code')
    .option('--max-discount-amount <n>', 'cap on a percentage, in minor units', integer)
    .option('--duration <d>', 'once | repeating | forever (default once)')
    .option('--duration-periods <n>', 'billing periods for repeating', integer)
    .option('--applies-to <plans>', 'comma-separated plan ids', list)
    .option('--first-time-only', 'only customers who have never paid')
    .option('--minimum-amount <n>', 'minimum amount in minor units', integer)
    .option('--starts-at <when>', 'ISO date-time, or a date (start of that day in --time-zone)')
    .option('--expires-at <when>', 'ISO date-time, or a date (end of that day in --time-zone)')
    .option('--time-zone <zone>', 'IANA zone for dates (default UTC)')
    .option('--max-redemptions <n>', 'over all codes', integer)
    .option('--max-per-customer <n>', 'default 1', integer)
    .option('--stackable', 'may combine with other stackable promotions')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => {
      const { workspace, json, ...rest } = opts;
      const input = parse(
        promotionInput,
        given({
          name: rest.name,
          percent_off_bps: rest.percentOffBps,
          amount_off: rest.amountOff,
          currency: rest.currency,
          max_discount_amount: rest.maxDiscountAmount,
          duration: rest.duration,
          duration_periods: rest.durationPeriods,
          applies_to: rest.appliesTo,
          first_time_only: rest.firstTimeOnly,
          minimum_amount: rest.minimumAmount,
          starts_at: rest.startsAt,
          expires_at: rest.expiresAt,
          time_zone: rest.timeZone,
          max_redemptions: rest.maxRedemptions,
          max_per_customer: rest.maxPerCustomer,
          stackable: rest.stackable,
        }),
      );
      await inWorkspace('promotions create', workspace as string, async (deps, db) => {
        const created = await db.transaction((tx) => createPromotion(deps, tx, workspace as string, input));
        print(
          created,
          json as boolean | undefined,
          () => `Created promotion ${created.id} (${created.name}).`,
        );
      });
    });

  promotions
    .command('list')
    .description('List promotions, newest first, a page at a time (or --all)')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .option('--limit <n>', `at most this many, 1 to 100 (default ${CLI_PAGE_SIZE})`, integer)
    .option('--starting-after <id>', 'the page after this promotion (the last id of the page before)')
    .option('--all', 'every promotion (after --starting-after, if given), read 100 at a time')
    .option('--json', 'print JSON (with --all: one list object with every promotion)')
    .action(async (opts: PageOptions & { workspace: string }) => {
      const page = pageOptions(opts);
      await inWorkspace('promotions list', opts.workspace, async (deps) => {
        await printPages(io, page, opts.json, {
          noun: ['promotion', 'promotions'],
          read: (query) => listPromotions(deps.db, opts.workspace, query),
          line: (p) =>
            `${p.id}\t${p.name}\t${describeTerms(p)}\t${p.duration}\tredeemed ${p.times_redeemed}${p.max_redemptions !== null ? `/${p.max_redemptions}` : ''}\t${p.expires_at ? `expires ${p.expires_at}` : 'no expiry'}`,
          again: [
            'promotions',
            'list',
            '--workspace',
            opts.workspace,
            ...(opts.limit === undefined ? [] : ['--limit', String(opts.limit)]),
          ],
        });
      });
    });

  promotions
    .command('show <promotion-id>')
    .description('Show one promotion')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .action(async (id: string, opts: { workspace: string }) => {
      await inWorkspace('promotions show', opts.workspace, async (deps) => {
        const view = await promotionView(deps.db, await requirePromotion(deps.db, opts.workspace, id, 'id'));
        io.out(JSON.stringify(view, null, 2));
      });
    });

  promotions
    .command('add-code <promotion-id> <code>')
    .description('Add a custom code (e.g. SUMMER24) to a promotion')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .option('--max-redemptions <n>', 'limit for this code alone', integer)
    .option('--expires-at <when>', "ISO date-time, or a date (end of that day in the promotion's zone)")
    .option('--customer <ref>', 'bind the code to one customer (Perks id or external_id)')
    .option('--json', 'print JSON')
    .action(async (promotion: string, code: string, opts: Record<string, unknown>) => {
      const input = parse(
        codeInput,
        given({
          promotion,
          code,
          max_redemptions: opts.maxRedemptions,
          expires_at: opts.expiresAt,
          customer: opts.customer,
        }),
      );
      await inWorkspace('promotions add-code', opts.workspace as string, async (deps, db) => {
        const created = await db.transaction((tx) => createCode(deps, tx, opts.workspace as string, input));
        print(
          created,
          opts.json as boolean | undefined,
          () => `Created code ${created.code} (${created.id}).`,
        );
      });
    });

  promotions
    .command('generate <promotion-id>')
    .description('Generate up to 100,000 codes, showing progress; optionally write them to a CSV file')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .requiredOption('--count <n>', 'how many codes (1 to 100,000)', integer)
    .option('--prefix <text>', 'put before every code (at most 20 characters)')
    .option('--length <n>', 'random characters per code, 10 to 32 (default 12)', integer)
    .option('--max-redemptions <n>', 'per code (default 1: single-use)', integer)
    .option('--expires-at <when>', "ISO date-time, or a date (end of that day in the promotion's zone)")
    .option('--output <file>', 'write the codes of the batch to this CSV file (- is stdout)')
    .option('--json', 'print the finished batch as JSON')
    .action(async (promotion: string, opts: Record<string, unknown>) => {
      const workspace = opts.workspace as string;
      const file = outputOption(opts);
      const input = parse(
        generateInput,
        given({
          count: opts.count,
          prefix: opts.prefix,
          length: opts.length,
          max_redemptions: opts.maxRedemptions,
          expires_at: opts.expiresAt,
        }),
      );
      await inWorkspace('promotions generate', workspace, async (deps, db) => {
        let sink: CodeSink | undefined;
        try {
          const { batch } = await db.transaction(async (tx) => {
            const requested = await requestGeneration(deps, tx, workspace, promotion, input);
            // Checked before the batch commits: a file that cannot be written leaves no codes behind.
            if (file !== undefined) sink = await openSink(io, file, exportAgain(requested.batch, workspace));
            return requested;
          });
          await finishBatch(deps, io, workspace, batch, {
            sink,
            json: opts.json as boolean | undefined,
            announce: `Batch ${batch.id} created: ${batch.total.toLocaleString('en-US')} codes`,
          });
        } finally {
          await sink?.close();
        }
      });
    });

  promotions
    .command('resume <promotion-id> <batch-id>')
    .description('Finish an interrupted batch, showing progress; optionally write its codes to a CSV file')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .option('--output <file>', 'write the codes of the batch to this CSV file (- is stdout)')
    .option('--json', 'print the finished batch as JSON')
    .action(async (promotion: string, batchId: string, opts: Record<string, unknown>) => {
      const workspace = opts.workspace as string;
      const file = outputOption(opts);
      await inWorkspace('promotions resume', workspace, async (deps) => {
        const batch = await getBatch(deps.db, workspace, promotion, batchId);
        const sink = file === undefined ? undefined : await openSink(io, file, exportAgain(batch, workspace));
        try {
          await finishBatch(deps, io, workspace, batch, { sink, json: opts.json as boolean | undefined });
        } finally {
          await sink?.close();
        }
      });
    });

  promotions
    .command('codes <promotion-id>')
    .description("Print a promotion's codes (or one batch's) as CSV or JSON, or write them to a file")
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .option('--batch <id>', 'only the codes of this batch')
    .option('--output <file>', 'write to this file instead of stdout (- is stdout)')
    .option('--json', 'a JSON array of code objects (as the API returns them) instead of CSV')
    .action(async (promotion: string, opts: Record<string, unknown>) => {
      const workspace = opts.workspace as string;
      const batch = opts.batch as string | undefined;
      const output = (opts.output as string | undefined) ?? '-';
      await inWorkspace('promotions codes', workspace, async (deps) => {
        const { id } = await requirePromotion(deps.db, workspace, promotion, 'promotion');
        if (batch !== undefined) await getBatch(deps.db, workspace, id, batch);
        const sink = await openSink(io, output);
        try {
          await catchingSignals(
            async (signal) => {
              const format = opts.json ? 'json' : 'csv';
              const filter = { promotion: id, batch };
              const stopped = () => signal() !== undefined;
              const { written, complete } = await exportCodes(deps, workspace, filter, sink, format, stopped);
              const interrupted = signal();
              if (!complete) {
                // The reader of stdout went away (| head): stop quietly, as other tools do.
                if (!interrupted) return;
                io.progress.write(`Stopped after ${written} codes: ${sink.stoppedNote}.\n`);
                process.exitCode = signalExit(interrupted);
                return;
              }
              await sink.commit();
              if (!sink.stdout) io.out(`Wrote ${written} codes to ${sink.name}.`);
            },
            () => sink.abandon(),
          );
        } finally {
          await sink.close();
        }
      });
    });

  promotions
    .command('batches')
    .description(
      "List code batches (the workspace's, or one promotion's), newest first, a page at a time (or --all)",
    )
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .option('--promotion <id>', "only this promotion's batches")
    .option('--limit <n>', `at most this many, 1 to 100 (default ${CLI_PAGE_SIZE})`, integer)
    .option('--starting-after <id>', 'the page after this batch (the last id of the page before)')
    .option('--all', 'every batch (after --starting-after, if given), read 100 at a time')
    .option('--json', 'print JSON (with --all: one list object with every batch)')
    .action(async (opts: PageOptions & { workspace: string; promotion?: string }) => {
      const page = pageOptions(opts);
      await inWorkspace('promotions batches', opts.workspace, async (deps) => {
        // Checked here to name the option, as `codes` does; the API names its path's `id`.
        const promotion =
          opts.promotion === undefined
            ? undefined
            : (await requirePromotion(deps.db, opts.workspace, opts.promotion, 'promotion')).id;
        await printPages(io, page, opts.json, {
          noun: ['batch', 'batches'],
          read: (query) =>
            promotion === undefined
              ? listWorkspaceBatches(deps.db, opts.workspace, query)
              : listBatches(deps.db, opts.workspace, promotion, query),
          line: (b) =>
            `${b.id}\t${b.promotion_id}\trequested ${b.total}\tgenerated ${b.generated}\t${b.status}\tcreated ${b.created_at}`,
          again: [
            'promotions',
            'batches',
            '--workspace',
            opts.workspace,
            ...(promotion === undefined ? [] : ['--promotion', promotion]),
            ...(opts.limit === undefined ? [] : ['--limit', String(opts.limit)]),
          ],
        });
      });
    });
}
