import { PerksError } from '../core/errors.js';
import {
  GENERATED_DEFAULT_LENGTH,
  PREFIX_MAX_LENGTH,
  randomBitsFor,
  symbolsFromBase62,
} from '../core/promo/generate.js';
import { CODE_MAX_LENGTH, normalizeCode } from '../core/promo/normalize.js';
import { checkCodeLimits, checkGenerateCount } from '../core/promo/rules.js';
import type { BoundaryInput } from '../core/promo/time.js';
import { type Periodic, startPeriodic } from './periodic.js';
import type { Deps, Ids, Sql } from './ports.js';
import { boundary, requirePromotion, termsOf } from './promo_promotions.js';

/**
 * Bulk generation of codes. A request for up to SYNC_MAX_COUNT codes is done inside the request; a
 * larger one is recorded as a batch and worked in the background by any server process: a worker
 * claims an open batch with FOR UPDATE SKIP LOCKED and adds CHUNK_SIZE codes per transaction, so the
 * batch's progress (generated / total) is visible through the API while it runs, and a crash loses at
 * most one chunk, which the next worker redoes.
 */

export const SYNC_MAX_COUNT = 1_000;
export const CHUNK_SIZE = 5_000;
/** Rounds of fresh draws for codes that collided with existing ones before a batch gives up. */
const MAX_COLLISION_ROUNDS = 10;

export interface GenerateInput {
  count: number;
  prefix?: string | undefined;
  length?: number | undefined;
  /** Per code; defaults to 1 (single-use codes). */
  max_redemptions?: number | undefined;
  expires_at?: BoundaryInput | undefined;
}

export interface BatchRow {
  workspace_id: string;
  id: string;
  promotion_id: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  total: number;
  generated: number;
  prefix: string;
  length: number;
  max_redemptions: number | null;
  expires_at: Date | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function batchView(row: BatchRow) {
  return {
    id: row.id,
    object: 'code_batch' as const,
    promotion_id: row.promotion_id,
    status: row.status,
    total: row.total,
    generated: row.generated,
    prefix: row.prefix,
    length: row.length,
    max_redemptions: row.max_redemptions,
    expires_at: iso(row.expires_at),
    error: row.error,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
  };
}

export type BatchView = ReturnType<typeof batchView>;

function requirePrefix(prefix: string | undefined, length: number): string {
  if (prefix === undefined || prefix === '') return '';
  const normal = normalizeCode(prefix);
  if (!normal.ok) {
    // normalizeCode speaks of a code; this is the part every code of the batch starts with.
    const reason = normal.reason.replace(/^a code /, 'a prefix ');
    throw new PerksError('parameter_invalid', `'prefix': ${reason} (or leave it out)`, 'prefix');
  }
  if (normal.code.length > PREFIX_MAX_LENGTH) {
    throw new PerksError(
      'parameter_invalid',
      `'prefix': must be at most ${PREFIX_MAX_LENGTH} characters once spaces and dashes are removed`,
      'prefix',
    );
  }
  if (normal.code.length + length > CODE_MAX_LENGTH) {
    throw new PerksError(
      'parameter_invalid',
      `'prefix': prefix and length together make codes longer than ${CODE_MAX_LENGTH} characters`,
      'prefix',
    );
  }
  return normal.code;
}

/**
 * Records a generation request. Small ones are generated at once in the caller's transaction and come
 * back finished (`created: true`); large ones come back pending for the worker.
 */
export async function requestGeneration(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  promotionId: string,
  input: GenerateInput,
): Promise<{ batch: BatchView; done: boolean }> {
  const countIssue = checkGenerateCount(input.count);
  if (countIssue) throw new PerksError(countIssue.code, `'count': ${countIssue.message}`, 'count');
  const length = input.length ?? GENERATED_DEFAULT_LENGTH;
  const prefix = requirePrefix(input.prefix, length);
  const promotion = await requirePromotion(tx, workspaceId, promotionId, 'id');
  const expiresAt = boundary(input.expires_at, 'end', promotion.time_zone, 'expires_at');
  const maxRedemptions = input.max_redemptions ?? 1;
  const issue = checkCodeLimits(termsOf(promotion), {
    max_redemptions: maxRedemptions,
    expires_at: expiresAt,
  });
  if (issue) throw new PerksError(issue.code, `'${issue.param}': ${issue.message}`, issue.param);
  const now = deps.clock.now();
  const [row] = await tx.query<BatchRow>(
    `insert into code_batches (workspace_id, id, promotion_id, status, total, prefix, length, max_redemptions,
       expires_at, created_at)
     values ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9) returning *`,
    [
      workspaceId,
      deps.ids.id('cbatch'),
      promotion.id,
      input.count,
      prefix,
      length,
      maxRedemptions,
      expiresAt,
      now,
    ],
  );
  if (input.count > SYNC_MAX_COUNT) return { batch: batchView(row!), done: false };
  const worked = await workChunk(deps, tx, row!, input.count);
  return { batch: batchView(worked), done: worked.status === 'succeeded' };
}

/** Codes drawn from one random number: fewer, larger draws make bulk generation cheaper. */
const CODES_PER_DRAW = 32;

/**
 * Up to `count` distinct codes of `length` random symbols after `prefix`. Each draw asks the ids port
 * for one random base62 string and reads CODES_PER_DRAW codes from it (its symbols are independent and
 * uniform, so consecutive runs of `length` symbols are independent codes). The number of draws is
 * bounded, so a broken random source yields fewer codes (and a failed batch) instead of a hang.
 */
export function drawCodes(ids: Ids, prefix: string, length: number, count: number): string[] {
  const out = new Set<string>();
  const maxDraws = Math.ceil((2 * count) / CODES_PER_DRAW) + 64;
  for (let draws = 0; out.size < count && draws < maxDraws; draws++) {
    const perDraw = Math.min(CODES_PER_DRAW, count - out.size);
    const secret = ids.secret('c', randomBitsFor(length * perDraw));
    const symbols = symbolsFromBase62(secret.slice(secret.indexOf('_') + 1), length * perDraw);
    if (symbols === undefined) continue;
    for (let i = 0; i < perDraw; i++) out.add(prefix + symbols.slice(i * length, (i + 1) * length));
  }
  return [...out];
}

/** The SQLSTATE of a unique violation: a drawn code that another code already has. */
const UNIQUE_VIOLATION = '23505';

/**
 * Inserts the codes with one multi-row insert. `skipTaken` adds ON CONFLICT DO NOTHING, which checks
 * the code index once more per row before inserting (about a fifth of the insert's time): the first
 * round goes without it, since a fresh draw almost never meets an existing code, and only when one
 * does are the codes drawn again, with it.
 */
async function insertCodes(
  tx: Sql,
  batch: BatchRow,
  ids: string[],
  codes: string[],
  now: Date,
  skipTaken: boolean,
) {
  const [inserted] = await tx.query<{ n: number }>(
    `with i as (
       insert into promotion_codes (workspace_id, id, promotion_id, code, batch_id, max_redemptions, expires_at,
         created_at)
       select $1, unnest($2::text[]), $3, unnest($4::text[]), $5, $6, $7, $8
       ${skipTaken ? 'on conflict (workspace_id, code) do nothing' : ''} returning 1)
     select count(*)::int8 as n from i`,
    [
      batch.workspace_id,
      ids,
      batch.promotion_id,
      codes,
      batch.id,
      batch.max_redemptions,
      batch.expires_at,
      now,
    ],
  );
  return inserted?.n ?? 0;
}

/**
 * Adds up to `size` codes to the batch in the caller's transaction (one multi-row insert per round;
 * codes that collide with existing ones are drawn again) and records the progress. Marks the batch
 * succeeded when it is complete, failed when collisions do not let it finish.
 */
async function workChunk(deps: Deps, tx: Sql, batch: BatchRow, size: number): Promise<BatchRow> {
  const wanted = Math.min(size, batch.total - batch.generated);
  const draw = (n: number) => {
    const codes = drawCodes(deps.ids, batch.prefix, batch.length, n);
    return { codes, ids: codes.map(() => deps.ids.id('pcode')) };
  };
  let added = 0;
  // A savepoint keeps the caller's transaction usable when the plain insert meets a taken code.
  const first = draw(wanted);
  await tx.query('savepoint promo_codes_chunk');
  try {
    added = await insertCodes(tx, batch, first.ids, first.codes, deps.clock.now(), false);
    await tx.query('release savepoint promo_codes_chunk');
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await tx.query('rollback to savepoint promo_codes_chunk');
    await tx.query('release savepoint promo_codes_chunk');
  }
  for (let round = 1; added < wanted && round < MAX_COLLISION_ROUNDS; round++) {
    const next = draw(wanted - added);
    added += await insertCodes(tx, batch, next.ids, next.codes, deps.clock.now(), true);
  }
  const now = deps.clock.now();
  const generated = batch.generated + added;
  const failed = added < wanted;
  const status = failed ? 'failed' : generated >= batch.total ? 'succeeded' : 'running';
  const [row] = await tx.query<BatchRow>(
    `update code_batches set generated = $3, status = $4, started_at = coalesce(started_at, $5),
       completed_at = case when $4 in ('succeeded', 'failed') then $5 else null end, error = $6
     where workspace_id = $1 and id = $2 returning *`,
    [
      batch.workspace_id,
      batch.id,
      generated,
      status,
      now,
      failed
        ? `stopped after ${generated} codes: new codes kept colliding with existing ones; use a longer length`
        : null,
    ],
  );
  return row!;
}

/**
 * Claims one open batch (any workspace, or only the one named) and adds one chunk to it, in one
 * transaction. Returns false when no batch was waiting or free, so a caller can loop until the work is
 * done.
 */
export async function workCodeBatchOnce(
  deps: Deps,
  chunkSize = CHUNK_SIZE,
  only?: { workspaceId: string; batchId: string },
): Promise<boolean> {
  return deps.db.transaction(async (tx) => {
    const [batch] = await tx.query<BatchRow>(
      `select * from code_batches where status in ('pending', 'running')
         and ($1::text is null or (workspace_id = $1 and id = $2))
       order by created_at, id limit 1 for update skip locked`,
      [only?.workspaceId ?? null, only?.batchId ?? null],
    );
    if (!batch) return false;
    await workChunk(deps, tx, batch, chunkSize);
    return true;
  });
}

/** Works open batches until none is left. Returns the number of chunks done. */
export async function workCodeBatches(deps: Deps, chunkSize = CHUNK_SIZE): Promise<number> {
  let chunks = 0;
  while (await workCodeBatchOnce(deps, chunkSize)) chunks++;
  return chunks;
}

export type BatchWorker = Periodic;

/**
 * Polls for open batches every `interval_ms` and works them to the end, one chunk per run. Several
 * processes may run a worker on one database: SKIP LOCKED gives each chunk to one of them.
 */
export function startCodeBatchWorker(
  deps: Deps,
  interval_ms: number,
  onError: (err: unknown) => void = () => {},
): BatchWorker {
  return startPeriodic(() => workCodeBatchOnce(deps), interval_ms, onError);
}

export async function getBatch(sql: Sql, workspaceId: string, promotionId: string, batchId: string) {
  const rows = await sql.query<BatchRow>(
    'select * from code_batches where workspace_id = $1 and promotion_id = $2 and id = $3',
    [workspaceId, promotionId, batchId],
  );
  if (!rows[0]) {
    throw new PerksError(
      'resource_not_found',
      `no code batch '${batchId}' for promotion '${promotionId}'`,
      'batch_id',
    );
  }
  return batchView(rows[0]);
}

export async function listBatches(
  sql: Sql,
  workspaceId: string,
  promotionId: string,
  page: { limit: number; starting_after?: string | undefined },
) {
  await requirePromotion(sql, workspaceId, promotionId, 'id');
  const rows = await sql.query<BatchRow>(
    `select * from code_batches where workspace_id = $1 and promotion_id = $2 and ($3::text is null or id < $3)
     order by id desc limit $4`,
    [workspaceId, promotionId, page.starting_after ?? null, page.limit + 1],
  );
  return batchPage(rows, page.limit);
}

/** A workspace's batches over all its promotions, newest first (its primary key orders them). */
export async function listWorkspaceBatches(
  sql: Sql,
  workspaceId: string,
  page: { limit: number; starting_after?: string | undefined },
) {
  const rows = await sql.query<BatchRow>(
    `select * from code_batches where workspace_id = $1 and ($2::text is null or id < $2)
     order by id desc limit $3`,
    [workspaceId, page.starting_after ?? null, page.limit + 1],
  );
  return batchPage(rows, page.limit);
}

/** One page of a list read with `limit + 1` rows: the extra row only says that more follow. */
function batchPage(rows: BatchRow[], limit: number) {
  return {
    object: 'list' as const,
    data: rows.slice(0, limit).map(batchView),
    has_more: rows.length > limit,
  };
}
