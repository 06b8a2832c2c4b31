import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openPostgres } from '../src/adapters/db/db.js';
import { migrate } from '../src/adapters/db/migrate.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import { createWorkspace } from '../src/app/workspaces.js';

/**
 * Shared helpers for the benchmarks in bench/. Every benchmark measures Perks and, in the same run on
 * the same machine, a baseline that does the same work without Perks, so a noisy shared machine moves
 * both figures together and the ratio stays meaningful.
 */

export interface BenchContext {
  /** The PostgreSQL server the benchmarks run on; each benchmark creates its own databases next to it. */
  databaseUrl: string;
  log(line: string): void;
}

export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  baseline: { name: string; value: number };
  /** value / baseline.value */
  ratio: number;
  target?: string;
  met?: boolean;
  notes?: string;
}

export type BenchFunction = (ctx: BenchContext) => Promise<BenchResult[]>;

/** Builds a result with its ratio computed one way everywhere. */
export function benchResult(fields: Omit<BenchResult, 'ratio'>): BenchResult {
  return { ...fields, ratio: fields.value / fields.baseline.value };
}

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

// ---------------------------------------------------------------------------------------------------
// Databases

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh, migrated database next to `baseUrl`'s. The name starts with perks_bench_ so a run
 * that was killed before dropping it leaves something recognisable.
 */
export async function createBenchDatabase(baseUrl: string): Promise<BenchDatabase> {
  const name = `perks_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(baseUrl, `create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const database: BenchDatabase = {
    url: url.toString(),
    name,
    drop: () => adminQuery(baseUrl, `drop database if exists ${name} with (force)`),
  };
  try {
    const db = await openPostgres(database.url, 1);
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  } catch (err) {
    await database.drop().catch(() => {});
    throw err;
  }
  return database;
}

async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Leaves a freshly seeded database quiet before a measured run: vacuums and analyses it now, so that
 * autovacuum does not start on the seeded tables during the run, and writes a checkpoint, so that the
 * seed's dirty pages are not flushed during it. Both otherwise land in whichever side is measured
 * next (on two cores, a vacuum of 200,000 rows is most of a core for seconds).
 */
export async function settleDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('vacuum (analyze)');
    await client.query('checkpoint');
  } finally {
    await client.end();
  }
}

/** Row counts of the given tables, to check that Perks and a baseline wrote the same rows. */
export async function countRows(url: string, tables: readonly string[]): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table}`);
      counts[table] = Number(rows[0]!.n);
    }
    return counts;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------
// The real server, as a child process

export interface RunningServer {
  /** e.g. http://127.0.0.1:43121 */
  url: string;
  /** A secret key of the workspace created for the benchmark. */
  key: string;
  workspaceId: string;
  /** The server's recent output (stdout and stderr), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Extra environment for the server, e.g. { DATABASE_POOL_SIZE: '40' }. */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] to profile the server. */
  nodeArgs?: string[];
  startTimeout_ms?: number;
}

const OUTPUT_TAIL_LINES = 40;
const LISTENING = /Perks is listening on (http:\/\/\S+)/;

/**
 * Starts `perks serve` exactly as an operator would (node, tsx, the CLI entry point) on the given
 * database, on a free port, with warnings-only logging. The workspace is created beforehand through
 * the same use case as `perks workspaces create`, so the key is known without parsing it from output.
 */
export async function startServer(databaseUrl: string, options: ServerOptions = {}): Promise<RunningServer> {
  const db = await openPostgres(databaseUrl, 1);
  let created: Awaited<ReturnType<typeof createWorkspace>>;
  try {
    await migrate(db);
    created = await createWorkspace({ db, clock: systemClock, ids: systemIds() }, 'bench');
  } finally {
    await db.close();
  }

  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/adapters/cli/main.ts', 'serve'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...options.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const tail: string[] = [];
  const output = () => tail.join('\n');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const timeout_ms = options.startTimeout_ms ?? 60_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${timeout_ms} ms:\n${output()}`));
    }, timeout_ms);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
      const match = LISTENING.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    lines(child, onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${code}) before listening:\n${output()}`));
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    key: created.secret,
    workspaceId: created.workspace.id,
    output,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        process.removeListener('exit', killOnExit);
      })();
      return stopping;
    },
  };
}

function lines(child: ChildProcess, onLine: (line: string) => void) {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP load

export interface RequestShape {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  /** The server's base URL. */
  url: string;
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  connections: number;
  /** Stop after this many responses ... */
  requests?: number;
  /** ... or after this many seconds. */
  duration_s?: number;
  /** Defaults for every request; a JSON body gets content-type application/json. */
  method?: RequestShape['method'];
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  /**
   * Shapes request number `index` (0, 1, 2, ... across all connections), e.g. to give each request a
   * body with unique event ids. Called once per request sent.
   */
  setupRequest?: (index: number) => RequestShape;
  /** Per-request timeout; a timeout counts as an error. */
  timeout_s?: number;
  /**
   * By default any non-2xx response or connection error makes `load` throw, so a benchmark never
   * prints a figure that counts failures as work done. A benchmark that expects some refusals sets
   * this and must report `non2xx` itself.
   */
  allowFailures?: boolean;
}

export interface LoadResult {
  /** Responses received. */
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** From the first request sent to the last response received. */
  elapsed_s: number;
  /** 2xx responses per second over `elapsed_s`. */
  requestsPerSecond: number;
  latencyP50_ms: number;
  latencyP99_ms: number;
  /** The first few non-2xx response bodies, for the error message. */
  failureSamples: string[];
}

export class LoadFailedError extends Error {
  constructor(
    message: string,
    readonly result: LoadResult,
  ) {
    super(message);
    this.name = 'LoadFailedError';
  }
}

const FAILURE_SAMPLES = 3;

/**
 * Drives HTTP load with autocannon. The rate is computed from our own clock (first request to last
 * response), because autocannon notices the end of a fixed-count run only at its next one-second tick.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  if (options.requests === undefined && options.duration_s === undefined) {
    throw new Error('load: give requests or duration_s');
  }
  const target = new URL(options.url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined || options.setupRequest) headers['content-type'] ??= 'application/json';

  let index = 0;
  const failureSamples: string[] = [];
  const setup = options.setupRequest;
  const request: autocannon.Request = {
    method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'),
    path: options.path ?? target.pathname,
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(setup
      ? {
          setupRequest: (req: autocannon.Request) => {
            const shape = setup(index++);
            return {
              ...req,
              ...(shape.method ? { method: shape.method } : {}),
              ...(shape.path ? { path: shape.path } : {}),
              ...(shape.body !== undefined ? { body: shape.body } : {}),
              headers: { ...req.headers, ...shape.headers },
            };
          },
        }
      : {}),
    onResponse: (status: number, body: string) => {
      if ((status < 200 || status > 299) && failureSamples.length < FAILURE_SAMPLES) {
        failureSamples.push(`${status} ${body.slice(0, 500)}`);
      }
    },
  };

  // Connections open as soon as the instance exists, before its 'start' event, so the clock starts here.
  const first = performance.now();
  let last = first;
  let resolveDone: (result: autocannon.Result) => void = () => {};
  let rejectDone: (err: unknown) => void = () => {};
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const instance = autocannon(
    {
      url: target.origin,
      connections: options.connections,
      ...(options.requests !== undefined ? { amount: options.requests } : {}),
      ...(options.duration_s !== undefined ? { duration: options.duration_s } : {}),
      timeout: options.timeout_s ?? 30,
      requests: [request],
    },
    (err: unknown, result: autocannon.Result) => (err ? rejectDone(err) : resolveDone(result)),
  );
  instance.on('response', () => {
    last = performance.now();
  });
  const raw = await done;

  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(raw.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const ok = raw['2xx'];
  const elapsed_s = (last - first) / 1000;
  const result: LoadResult = {
    requests: raw['1xx'] + raw['2xx'] + raw['3xx'] + raw['4xx'] + raw['5xx'],
    ok,
    non2xx: raw.non2xx,
    errors: raw.errors,
    timeouts: raw.timeouts,
    statusCodes,
    elapsed_s,
    requestsPerSecond: elapsed_s > 0 ? ok / elapsed_s : 0,
    latencyP50_ms: raw.latency.p50,
    latencyP99_ms: raw.latency.p99,
    failureSamples,
  };
  if (!options.allowFailures && (result.non2xx > 0 || result.errors > 0 || result.ok === 0)) {
    throw new LoadFailedError(
      `load on ${request.method} ${request.path} failed: ${result.ok} ok, ${result.non2xx} non-2xx ` +
        `(${JSON.stringify(statusCodes)}), ${result.errors} errors (${result.timeouts} timeouts)` +
        (failureSamples.length ? `; first failures:\n  ${failureSamples.join('\n  ')}` : ''),
      result,
    );
  }
  return result;
}

export interface PacedOptions {
  /** The server's base URL. */
  url: string;
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** Keep-alive connections at most; a request due while all are busy waits for one, and that wait counts. */
  connections: number;
  /** Requests per second, sent evenly: request i is due at i / rate seconds after the start. */
  rate: number;
  duration_s: number;
  /**
   * Seconds sent at the same rate over the same connections before the measured ones, and not
   * counted: the sockets' opening and the first requests on them are not the latency of serving
   * the rate.
   */
  warmup_s?: number;
  method: RequestShape['method'];
  path: string;
  /** The JSON body of request number `index`. */
  body: (index: number) => string;
}

export interface PacedResult {
  sent: number;
  /** 2xx responses per second of the run. */
  answeredPerSecond: number;
  statusCodes: Record<string, number>;
  /** From the time each request was due (not when a connection was free to send it) to its response. */
  latencyP50_ms: number;
  latencyP99_ms: number;
  latencyMax_ms: number;
  failureSamples: string[];
}

/**
 * An offered load: requests sent at a steady rate whether or not earlier ones were answered, and
 * each one's latency counted from when it was due. This is the latency of serving that rate. A
 * closed loop (autocannon, every connection sending its next request when the last is answered)
 * measures something else: with N requests always in flight, latency is N / rate, the queue. And
 * autocannon's own rate limit sends each second's quota in a burst at the start of the second.
 *
 * The client is as light as it can be, because it shares the machine's processors with the server
 * and the database it measures: each connection is a plain socket with one request in flight (HTTP/1.1
 * keep-alive, no pipelining), the request is written in one piece, and the response is read as far as
 * its status line and Content-Length. Node's http client, used here before, took twice the processor
 * time per request (25% of a core at 1,020 requests/s, against 12%), and on two cores the p99 it
 * measured for the same server was 18 to 30 ms where this client measures 11 to 16 ms
 * (docs/benchmarks.md). A response this reader does not expect (no Content-Length, chunked, a
 * response nobody asked for) fails the run rather than being misread.
 */
export async function paced(options: PacedOptions): Promise<PacedResult> {
  const target = new URL(options.url);
  const head = (length: number) =>
    `${options.method} ${options.path} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\n` +
    (options.key ? `authorization: Bearer ${options.key}\r\n` : '') +
    `content-length: ${length}\r\n\r\n`;
  const warmup = Math.floor(options.rate * (options.warmup_s ?? 0));
  const total = warmup + Math.floor(options.rate * options.duration_s);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const failureSamples: string[] = [];
  let ok = 0;
  let answered = 0;
  let sent = 0;
  /** Requests due while every connection was busy, oldest first. */
  const queued: PacedRequest[] = [];
  const idle: PacedConnection[] = [];
  let failure: Error | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const fail = (err: Error) => {
    failure ??= err;
    finish();
  };

  const dispatch = (conn: PacedConnection, request: PacedRequest) => {
    conn.current = request;
    const body = options.body(request.index);
    conn.socket.write(head(Buffer.byteLength(body)) + body);
  };
  const answer = (conn: PacedConnection, status: number, text: string) => {
    const { index, due } = conn.current!;
    conn.current = undefined;
    const measured = index >= warmup;
    if (measured) latencies.push(performance.now() - due);
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    if (status >= 200 && status < 300) {
      if (measured) ok++;
    } else if (failureSamples.length < FAILURE_SAMPLES)
      failureSamples.push(`${status} ${text.slice(0, 500)}`);
    answered++;
    const next = queued.shift();
    if (next) dispatch(conn, next);
    else idle.push(conn);
    if (answered === total) finish();
  };
  const read = (conn: PacedConnection, chunk: Buffer) => {
    conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
    for (;;) {
      const end = conn.buffer.indexOf(HEADERS_END);
      if (end < 0) return;
      const headers = conn.buffer.subarray(0, end).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(headers);
      const length = /\r\ncontent-length: *(\d+)\r?$/im.exec(headers);
      if (!status || !length || /\r\ntransfer-encoding:/i.test(headers) || !conn.current) {
        return fail(new Error(`paced: a response it cannot read (status line, Content-Length):\n${headers}`));
      }
      const bodyEnd = end + HEADERS_END.length + Number(length[1]);
      if (conn.buffer.length < bodyEnd) return;
      const text = conn.buffer.subarray(end + HEADERS_END.length, bodyEnd).toString('utf8');
      conn.buffer = conn.buffer.subarray(bodyEnd);
      answer(conn, Number(status[1]), text);
    }
  };

  const opened = await Promise.allSettled(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<PacedConnection>((resolve, reject) => {
          const socket = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
          const conn: PacedConnection = { socket, buffer: Buffer.alloc(0) };
          socket.once('connect', () => resolve(conn));
          socket.once('error', reject);
          socket.on('data', (chunk: Buffer) => read(conn, chunk));
        }),
    ),
  );
  const connections = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const refused = opened.find((o) => o.status === 'rejected');
  if (refused) {
    for (const conn of connections) conn.socket.destroy();
    throw refused.reason;
  }
  for (const conn of connections) {
    conn.socket.removeAllListeners('error');
    // A broken connection fails the run: the requests on it would go unanswered.
    conn.socket.on('error', fail);
    conn.socket.on('close', () => {
      if (answered < total)
        fail(new Error(`paced: the server closed a connection after ${answered} answers`));
    });
    idle.push(conn);
  }

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (failure) return resolve();
      const elapsed_s = (performance.now() - start) / 1000;
      const due = Math.min(total, Math.floor(elapsed_s * options.rate) + 1);
      for (; sent < due; sent++) {
        const request = { index: sent, due: start + (sent * 1000) / options.rate };
        const conn = idle.pop();
        if (conn) dispatch(conn, request);
        else queued.push(request);
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + (sent * 1000) / options.rate - performance.now()));
    };
    tick();
  });
  if (total > 0) await finished;
  const elapsed_s = (performance.now() - start) / 1000 - warmup / options.rate;
  for (const conn of connections) conn.socket.destroy();
  if (failure) throw failure;

  const latency = latencySummary(latencies);
  return {
    sent: sent - warmup,
    answeredPerSecond: ok / elapsed_s,
    statusCodes,
    latencyP50_ms: latency.p50_ms,
    latencyP99_ms: latency.p99_ms,
    latencyMax_ms: latency.max_ms,
    failureSamples,
  };
}

const HEADERS_END = Buffer.from('\r\n\r\n');

interface PacedRequest {
  index: number;
  /** performance.now() when it was due. */
  due: number;
}

interface PacedConnection {
  socket: net.Socket;
  /** What arrived of the response not yet read. */
  buffer: Buffer;
  /** The request in flight on it. */
  current?: PacedRequest;
}

// ---------------------------------------------------------------------------------------------------
// Timing and data

/** The p-th percentile (0 to 100) of ascending values, by the nearest-rank method; 0 when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p50, p99 and the maximum of latencies in ms (in any order), rounded to the ms. */
export function latencySummary(latencies_ms: readonly number[]) {
  const sorted = [...latencies_ms].sort((a, b) => a - b);
  return {
    p50_ms: Math.round(percentile(sorted, 50)),
    p99_ms: Math.round(percentile(sorted, 99)),
    max_ms: Math.round(percentile(sorted, 100)),
  };
}

/**
 * PERKS_BENCH_SCALE (default 1) multiplies the amount of work each benchmark does, so a quick check
 * of the benchmarks themselves can run with 0.1. Published figures use 1.
 */
export function scaled(n: number, minimum = 1): number {
  const raw = process.env.PERKS_BENCH_SCALE;
  const factor = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new Error(`PERKS_BENCH_SCALE must be a positive number, got '${raw}'`);
  }
  return Math.max(minimum, Math.round(n * factor));
}

/** Runs fn and returns its result with the wall-clock time it took, for the SQL baselines. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - start) / 1000 };
}

/**
 * A small seeded generator (mulberry32) so every run sends the same synthetic data and two runs can
 * be compared.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `worker` over items with at most `concurrency` in flight, in item order per worker slot. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, slot: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async (_, slot) => {
      while (next < items.length) {
        const item = items[next++]!;
        await worker(item, slot);
      }
    }),
  );
}
