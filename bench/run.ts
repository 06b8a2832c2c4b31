/**
 * Runs the benchmarks in bench/ (`npm run bench [filters...]`): every `*.bench.ts`, or those whose
 * name contains one of the filters. Each reports its figure, a baseline measured in the same run and
 * their ratio. Prints a readable table and a markdown table for docs/benchmarks.md, and writes the raw
 * results to bench/results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import type { BenchContext, BenchFunction, BenchResult } from './lib.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = path.join(BENCH_DIR, 'results', 'latest.json');
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

interface FileOutcome {
  file: string;
  seconds: number;
  results: BenchResult[];
  error?: string;
}

function benchFiles(filters: readonly string[]): string[] {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
}

function checkResult(file: string, r: BenchResult): string | undefined {
  const numbers = { value: r.value, 'baseline.value': r.baseline.value, ratio: r.ratio };
  for (const [field, n] of Object.entries(numbers)) {
    if (!Number.isFinite(n) || n <= 0) return `${file}: '${r.name}' has ${field} = ${n}`;
  }
  if (Math.abs(r.ratio - r.value / r.baseline.value) > 1e-9 * Math.abs(r.ratio)) {
    return `${file}: '${r.name}' has ratio ${r.ratio}, but value / baseline is ${r.value / r.baseline.value}`;
  }
  return undefined;
}

async function runFile(file: string, databaseUrl: string): Promise<FileOutcome> {
  const name = file.replace(/\.bench\.ts$/, '');
  const ctx: BenchContext = {
    databaseUrl,
    log: (line) => console.log(`[${name}] ${line}`),
  };
  const start = performance.now();
  const seconds = () => Math.round(performance.now() - start) / 1000;
  try {
    const mod = (await import(pathToFileURL(path.join(BENCH_DIR, file)).href)) as { default?: unknown };
    if (typeof mod.default !== 'function') {
      throw new Error('it must export a default async function run(ctx): Promise<BenchResult[]>');
    }
    const results = await (mod.default as BenchFunction)(ctx);
    if (!Array.isArray(results) || results.length === 0) throw new Error('it returned no results');
    const problems = results.map((r) => checkResult(file, r)).filter((p) => p !== undefined);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return { file, seconds: seconds(), results };
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`[${name}] FAILED: ${message}`);
    return { file, seconds: seconds(), results: [], error: message };
  }
}

// ---------------------------------------------------------------------------------------------------
// Formatting

/** Three significant figures, grouped thousands: 1234.5 -> "1,235", 0.01234 -> "0.0123". */
function formatValue(n: number): string {
  const digits = n >= 100 ? 0 : Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n) || 1)));
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function formatRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

function metCell(r: BenchResult): string {
  if (r.met === undefined) return r.target ? '?' : '';
  return r.met ? 'yes' : 'NO';
}

interface Row {
  bench: string;
  value: string;
  baseline: string;
  baselineValue: string;
  ratio: string;
  target: string;
  met: string;
  notes: string;
}

function rows(outcomes: readonly FileOutcome[]): Row[] {
  return outcomes.flatMap((o) =>
    o.results.map((r) => ({
      bench: r.name,
      value: `${formatValue(r.value)} ${r.unit}`,
      baseline: r.baseline.name,
      baselineValue: `${formatValue(r.baseline.value)} ${r.unit}`,
      ratio: formatRatio(r.ratio),
      target: r.target ?? '',
      met: metCell(r),
      notes: r.notes ?? '',
    })),
  );
}

const HEADERS: Row = {
  bench: 'Benchmark',
  value: 'Perks',
  baseline: 'Baseline',
  baselineValue: 'Baseline figure',
  ratio: 'Ratio',
  target: 'Target',
  met: 'Met',
  notes: 'Notes',
};
const COLUMNS = Object.keys(HEADERS) as (keyof Row)[];

function textTable(table: readonly Row[]): string {
  // Notes are long; they go under the table so the columns stay readable on a terminal.
  const columns = COLUMNS.filter((c) => c !== 'notes');
  const width = (c: keyof Row) => Math.max(HEADERS[c].length, ...table.map((r) => r[c].length));
  const line = (r: Row) =>
    columns
      .map((c) =>
        c === 'value' || c === 'baselineValue' || c === 'ratio'
          ? r[c].padStart(width(c))
          : r[c].padEnd(width(c)),
      )
      .join('  ')
      .trimEnd();
  const out = [line(HEADERS), columns.map((c) => '-'.repeat(width(c))).join('  ')];
  out.push(...table.map(line));
  const notes = table.filter((r) => r.notes).map((r) => `  ${r.bench}: ${r.notes}`);
  if (notes.length) out.push('', 'Notes:', ...notes);
  return out.join('\n');
}

function markdownTable(table: readonly Row[]): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const line = (cells: string[]) => `| ${cells.map(escape).join(' | ')} |`;
  const align = COLUMNS.map((c) =>
    c === 'value' || c === 'baselineValue' || c === 'ratio' ? '---:' : '---',
  );
  return [
    line(COLUMNS.map((c) => HEADERS[c])),
    `|${align.join('|')}|`,
    ...table.map((r) => line(COLUMNS.map((c) => r[c]))),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// The machine, recorded with the results

async function postgresVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version ?? 'unknown';
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function main() {
  const filters = process.argv.slice(2);
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const files = benchFiles(filters);
  if (files.length === 0) {
    console.error(`no benchmark in bench/ matches ${filters.map((f) => `'${f}'`).join(', ')}`);
    process.exit(1);
  }
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: await postgresVersion(databaseUrl),
    load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const started = new Date();
  const command = `DATABASE_URL=${databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')} npm run bench${filters.length ? ` -- ${filters.join(' ')}` : ''}`;
  console.log(`Benchmarks: ${files.join(', ')}`);
  console.log(
    `Machine: ${machine.cpus} x ${machine.cpu_model}, ${machine.memory_gb} GB, Node ${machine.node}, PostgreSQL ${machine.postgres}`,
  );
  console.log(`Load average at start: ${machine.load_average_at_start.join(' ')}\n`);

  const outcomes: FileOutcome[] = [];
  for (const file of files) {
    console.log(`--- ${file}`);
    const outcome = await runFile(file, databaseUrl);
    outcomes.push(outcome);
    console.log(`--- ${file}: ${outcome.error ? 'FAILED' : 'done'} in ${outcome.seconds.toFixed(1)} s\n`);
  }

  const table = rows(outcomes);
  const failed = outcomes.filter((o) => o.error);
  if (table.length > 0) {
    console.log(textTable(table));
    console.log(
      `\nMarkdown (${started.toISOString().slice(0, 10)}, ${machine.cpus} cores, \`${command}\`):\n`,
    );
    console.log(markdownTable(table));
  }
  if (failed.length > 0) console.error(`\nFAILED: ${failed.map((o) => o.file).join(', ')}`);

  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        started_at: started.toISOString(),
        finished_at: new Date().toISOString(),
        command,
        commit: gitCommit(),
        machine,
        files: outcomes,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nRaw results: ${path.relative(process.cwd(), RESULTS_FILE)}`);
  process.exit(failed.length > 0 ? 1 : 0);
}

await main();
