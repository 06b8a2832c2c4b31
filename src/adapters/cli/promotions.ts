import { createWriteStream } from 'node:fs';
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
import { makeDeps, openStore } from '../../main.js';
import { migrate } from '../db/migrate.js';
import { fromZod } from '../http/errors.js';
import { codeInput, generateInput, promotionInput } from '../http/routes/promo_schema.js';
import { pageQuery } from '../http/schemas.js';

/**
 * `perks promotions ...`: promotions and codes from the command line, on the configured store. The
 * input goes through the same schemas as the HTTP API, so the limits and the error messages are the
 * same. `generate` works its batch in this process (a running server's worker may take chunks too)
 * and shows a progress bar while it runs.
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

/**
 * Works a batch to the end from this process, reporting progress after each chunk. When another
 * process holds the batch (a server's worker mid-chunk), it waits and polls instead.
 */
async function followBatch(
  deps: Deps,
  workspaceId: string,
  batch: BatchView,
  report: ReturnType<typeof progressReporter>,
): Promise<BatchView> {
  let current = batch;
  report.update(current.generated, current.total);
  while (current.status === 'pending' || current.status === 'running') {
    const worked = await workCodeBatchOnce(deps, undefined, { workspaceId, batchId: current.id });
    if (!worked) await sleep(200);
    current = await getBatch(deps.db, workspaceId, current.promotion_id, current.id);
    report.update(current.generated, current.total);
  }
  report.done();
  return current;
}

/** Writes the codes of a promotion (or one batch) as CSV, page by page. Returns how many. */
async function exportCodes(
  deps: Deps,
  workspaceId: string,
  filter: { promotion: string; batch?: string | undefined },
  file: string,
): Promise<number> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  const write = (line: string) =>
    new Promise<void>((resolve, reject) => out.write(line, (err) => (err ? reject(err) : resolve())));
  let n = 0;
  try {
    await write('code,id,promotion_id,batch_id,max_redemptions,expires_at\n');
    let after: string | undefined;
    for (;;) {
      const page = await listCodes(deps.db, workspaceId, { ...filter, limit: 100, starting_after: after });
      for (const c of page.data) {
        await write(
          `${c.code},${c.id},${c.promotion_id},${c.batch_id ?? ''},${c.max_redemptions ?? ''},${c.expires_at ?? ''}\n`,
        );
        n++;
      }
      if (!page.has_more) break;
      after = page.data.at(-1)?.id;
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return n;
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
                  `${p.id}\t${p.name}\t${p.percent_off_bps !== null ? `${p.percent_off_bps / 100}%` : `${p.amount_off} ${p.currency}`}\t${p.duration}\tredeemed ${p.times_redeemed}${p.max_redemptions !== null ? `/${p.max_redemptions}` : ''}\t${p.expires_at ? `expires ${p.expires_at}` : 'no expiry'}`,
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
      await inWorkspace('promotions generate', workspace, async (deps, db) => {
        const { batch } = await db.transaction((tx) =>
          requestGeneration(deps, tx, workspace, promotion, input),
        );
        const finished = await followBatch(deps, workspace, batch, progressReporter(io.progress));
        let written: number | undefined;
        if (typeof opts.output === 'string') {
          written = await exportCodes(deps, workspace, { promotion, batch: finished.id }, opts.output);
        }
        print(finished, opts.json as boolean | undefined, () =>
          [
            finished.status === 'succeeded'
              ? `Generated ${finished.generated} codes in batch ${finished.id}.`
              : `Batch ${finished.id} ${finished.status} after ${finished.generated} of ${finished.total} codes: ${finished.error ?? ''}`,
            written === undefined
              ? `List them with GET /v1/promotion_codes?batch=${finished.id} or --output <file>.`
              : `Wrote ${written} codes to ${String(opts.output)}.`,
          ].join('\n'),
        );
        if (finished.status !== 'succeeded') process.exitCode = 1;
      });
    });

  promotions
    .command('codes <promotion-id>')
    .description("Write a promotion's codes (or one batch's) to a CSV file")
    .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
    .requiredOption('--output <file>', 'the CSV file to write')
    .option('--batch <id>', 'only the codes of this batch')
    .action(async (promotion: string, opts: { workspace: string; output: string; batch?: string }) => {
      await inWorkspace('promotions codes', opts.workspace, async (deps) => {
        await requirePromotion(deps.db, opts.workspace, promotion, 'promotion');
        const n = await exportCodes(deps, opts.workspace, { promotion, batch: opts.batch }, opts.output);
        io.out(`Wrote ${n} codes to ${opts.output}.`);
      });
    });
}
