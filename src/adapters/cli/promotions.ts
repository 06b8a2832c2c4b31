import { open } from 'node:fs/promises';
import { constants } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { Db, Deps } from '../../app/ports.js';
import { type BatchView, getBatch, requestGeneration, workCodeBatchOnce } from '../../app/promo_batches.js';
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
import { pageQuery } from '../http/schemas.js';

/**
 * `perks promotions ...`: promotions and codes from the command line, on the configured store. The
 * input goes through the same schemas as the HTTP API, so the limits and the error messages are the
 * same. `generate` works its batch in this process (a running server's worker may take chunks too)
 * and shows a progress bar while it runs; `resume` carries on a batch that was interrupted.
 */

export interface CliOutput {
  /** One line of normal output (stdout). */
  out(line: string): void;
  /** The progress stream (stderr); a TTY gets a redrawn bar, anything else a line every 10%. */
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

/** `list --limit`, checked like the API's `?limit=` (1 to 100, same message) instead of clamped. */
const listInput = z.strictObject({ limit: pageQuery.limit });

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

/** Where exported codes go: a file opened before any work (`name` is its path), or stdout. */
interface CodeSink {
  name: string;
  /** False once nobody reads any more (a closed pipe), so there is no point going on. */
  write(lines: string[]): Promise<boolean>;
  close(): Promise<void>;
}

/** Node's reason without the code and path around it: "no such file or directory". */
const reason = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');

/**
 * Opens `file` for writing now, so a path that cannot be written (no such folder, a folder, no
 * permission) is refused before anything is generated. A later write error (a full disk) names the
 * file and adds `afterWriteError`: how to get the codes again.
 */
async function openOutput(file: string, afterWriteError = ''): Promise<CodeSink> {
  const cannotWrite = (err: unknown, hint = '') =>
    new PerksError('parameter_invalid', `cannot write '${file}': ${reason(err)}${hint}`, 'output');
  // Opened without truncating: a generation stopped or failed before its export leaves an existing
  // file as it was. The file is emptied when the first lines are written.
  const handle = await open(file, 'a').catch((err: unknown) => {
    throw cannotWrite(err);
  });
  let emptied = false;
  return {
    name: file,
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
    async close() {
      try {
        await handle.close();
      } catch (err) {
        throw cannotWrite(err, afterWriteError);
      }
    },
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
    async write(lines) {
      if (process.stdout.destroyed) return false;
      if (lines.length > 0) io.out(lines.join('\n'));
      return true;
    },
    close: async () => {},
  };
}

const CSV_HEADER = 'code,id,promotion_id,batch_id,max_redemptions,expires_at';

/**
 * Writes the codes of a promotion (or one batch) page by page, as CSV or as one JSON array of the
 * API's code objects. Returns how many.
 */
async function exportCodes(
  deps: Deps,
  workspaceId: string,
  filter: { promotion: string; batch?: string | undefined },
  sink: CodeSink,
  format: 'csv' | 'json' = 'csv',
): Promise<number> {
  if (!(await sink.write([format === 'json' ? '[' : CSV_HEADER]))) return 0;
  let n = 0;
  let after: string | undefined;
  for (;;) {
    const page = await listCodes(deps.db, workspaceId, { ...filter, limit: 100, starting_after: after });
    const reading = await sink.write(
      page.data.map((c, i) =>
        format === 'json'
          ? // has_more says whether another code follows this page's last, so whether it takes a comma.
            `  ${JSON.stringify(c)}${i < page.data.length - 1 || page.has_more ? ',' : ''}`
          : `${c.code},${c.id},${c.promotion_id},${c.batch_id ?? ''},${c.max_redemptions ?? ''},${c.expires_at ?? ''}`,
      ),
    );
    n += page.data.length;
    if (!reading || !page.has_more) break;
    after = page.data.at(-1)?.id;
  }
  if (format === 'json') await sink.write([']']);
  return n;
}

/** What to run to carry on an interrupted batch, or to export a batch's codes (again). */
const resumeCommand = (batch: BatchView, workspaceId: string) =>
  `perks promotions resume ${batch.promotion_id} ${batch.id} --workspace ${workspaceId}`;
const exportCommand = (batch: BatchView, workspaceId: string) =>
  `perks promotions codes ${batch.promotion_id} --workspace ${workspaceId} --batch ${batch.id}`;
/** Added to a write error that comes after the batch was stored. */
const exportAgain = (batch: BatchView, workspaceId: string) =>
  `; the codes are stored in batch ${batch.id}; export them with: ${exportCommand(batch, workspaceId)} --output <file>`;

/**
 * Follows a batch to the end in this process, writes its codes to `sink` and prints the outcome
 * (`generate` and `resume`). SIGINT or SIGTERM stops it after the chunk in hand: the batch stays open
 * in the store, and the message says where it stands and how it gets finished. A second signal ends
 * the process at once. `announce` is printed only once the signals are caught, so whoever reads it
 * (a person at Ctrl-C, a test) can stop the process safely from then on.
 */
async function finishBatch(
  deps: Deps,
  io: CliOutput,
  workspaceId: string,
  batch: BatchView,
  { sink, json, announce }: { sink?: CodeSink | undefined; json?: boolean | undefined; announce?: string },
): Promise<void> {
  let signal: NodeJS.Signals | undefined;
  const stop = (received: NodeJS.Signals) => {
    signal = received;
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  if (announce !== undefined) io.progress.write(`${announce}\n`);
  let current: BatchView;
  try {
    current = await followBatch(deps, workspaceId, batch, progressReporter(io.progress), () => !!signal);
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
  if (signal && isOpen(current)) {
    io.progress.write(
      [
        `Stopped: batch ${current.id} has ${current.generated.toLocaleString('en-US')} of ${current.total.toLocaleString('en-US')} codes and stays ${current.status}.`,
        'A `perks serve` on this store finishes it (unless PERKS_WORKERS=false), or carry on here with:',
        `  ${resumeCommand(current, workspaceId)}${sink ? ` --output ${sink.name}` : ''}`,
        '',
      ].join('\n'),
    );
    process.exitCode = 128 + constants.signals[signal];
    return;
  }
  const filter = { promotion: current.promotion_id, batch: current.id };
  const written = sink && (await exportCodes(deps, workspaceId, filter, sink));
  io.out(
    json
      ? JSON.stringify(current, null, 2)
      : [
          current.status === 'succeeded'
            ? `Generated ${current.generated} codes in batch ${current.id}.`
            : `Batch ${current.id} ${current.status} after ${current.generated} of ${current.total} codes: ${current.error ?? ''}`,
          sink
            ? `Wrote ${written} codes to ${sink.name}.`
            : `Export them with: ${exportCommand(current, workspaceId)}`,
        ].join('\n'),
  );
  if (current.status !== 'succeeded') process.exitCode = 1;
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
    .description('List promotions, newest first')
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .option('--limit <n>', 'at most this many (1 to 100)', integer, 20)
    .option('--json', 'print JSON')
    .action(async (opts: { workspace: string; limit: number; json?: boolean }) => {
      const { limit } = parse(listInput, { limit: opts.limit });
      await inWorkspace('promotions list', opts.workspace, async (deps) => {
        const page = await listPromotions(deps.db, opts.workspace, { limit });
        print(
          page,
          opts.json,
          () =>
            page.data
              .map(
                (p) =>
                  `${p.id}\t${p.name}\t${describeTerms(p)}\t${p.duration}\tredeemed ${p.times_redeemed}${p.max_redemptions !== null ? `/${p.max_redemptions}` : ''}\t${p.expires_at ? `expires ${p.expires_at}` : 'no expiry'}`,
              )
              .join('\n') || '(none)',
        );
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
    .option('--output <file>', 'write the codes of the batch to this CSV file')
    .option('--json', 'print the finished batch as JSON')
    .action(async (promotion: string, opts: Record<string, unknown>) => {
      const workspace = opts.workspace as string;
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
      const file = opts.output as string | undefined;
      await inWorkspace('promotions generate', workspace, async (deps, db) => {
        let sink: CodeSink | undefined;
        try {
          const { batch } = await db.transaction(async (tx) => {
            const requested = await requestGeneration(deps, tx, workspace, promotion, input);
            // Opened before the batch commits: a file that cannot be written leaves no codes behind.
            if (file !== undefined) sink = await openOutput(file, exportAgain(requested.batch, workspace));
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
    .option('--output <file>', 'write the codes of the batch to this CSV file')
    .option('--json', 'print the finished batch as JSON')
    .action(async (promotion: string, batchId: string, opts: Record<string, unknown>) => {
      const workspace = opts.workspace as string;
      const file = opts.output as string | undefined;
      await inWorkspace('promotions resume', workspace, async (deps) => {
        const batch = await getBatch(deps.db, workspace, promotion, batchId);
        const sink = file === undefined ? undefined : await openOutput(file, exportAgain(batch, workspace));
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
      const file = opts.output === '-' ? undefined : (opts.output as string | undefined);
      await inWorkspace('promotions codes', workspace, async (deps) => {
        const { id } = await requirePromotion(deps.db, workspace, promotion, 'promotion');
        if (batch !== undefined) await getBatch(deps.db, workspace, id, batch);
        const sink = file === undefined ? stdoutSink(io) : await openOutput(file);
        try {
          const format = opts.json ? 'json' : 'csv';
          const n = await exportCodes(deps, workspace, { promotion: id, batch }, sink, format);
          if (file !== undefined) io.out(`Wrote ${n} codes to ${file}.`);
        } finally {
          await sink.close();
        }
      });
    });
}
