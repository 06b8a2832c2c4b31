import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import stringify from 'safe-stable-stringify';
import type { Deps, Sql } from '../../app/ports.js';
import { isPerksError, PerksError } from '../../core/errors.js';
import { envelope } from './errors.js';

/**
 * Every POST accepts an `Idempotency-Key`. The first response is stored permanently per workspace,
 * in the same transaction as the effects it reports, so a stored response always matches what was
 * written. A key is claimed ('started') before the work runs, which is how a concurrent duplicate is
 * told apart (409 idempotency_key_in_use) from a finished one (replayed).
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const MAX_KEY_LENGTH = 255;
/**
 * A claim older than this is taken to belong to a process that died mid-request, and a retry may take
 * it over. Should the first request still be running after all, it can no longer store its answer
 * (see `store`), so its transaction rolls back and only the retry's effects are kept.
 */
const ABANDONED_AFTER_MS = 60_000;

export interface IdempotencyClaim {
  key: string;
  /** The request that holds the claim: only it may store an answer under the key or release it. */
  holder: string;
}

export function requestHash(req: FastifyRequest): string {
  return createHash('sha256')
    .update(`${req.method} ${req.url.split('?')[0]}\n${stringify(req.body ?? null)}`)
    .digest('hex');
}

interface KeyRow {
  request_hash: string;
  state: 'started' | 'done';
  response_status: number | null;
  response_body: unknown;
  locked_at: Date;
  /** The request whose answer the key holds; null for keys stored before migration 0027. */
  request_id: string | null;
}

/**
 * The request's Idempotency-Key, or undefined without one; a malformed key is refused with
 * idempotency_key_invalid. Checked on every POST, including those whose answer is never stored.
 */
export function idempotencyKey(req: FastifyRequest): string | undefined {
  const raw = req.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0]! : raw;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
    throw new PerksError(
      'idempotency_key_invalid',
      `the Idempotency-Key header must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`,
      'Idempotency-Key',
    );
  }
  return key;
}

/**
 * Claims the key for this request. Returns the claim when the request should run, or undefined when
 * the reply (a replay) has already been sent.
 */
export async function claim(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  workspaceId: string,
  hash: string,
): Promise<IdempotencyClaim | undefined> {
  const key = idempotencyKey(req);
  if (key === undefined) return undefined;
  const now = deps.clock.now();
  const path = req.url.split('?')[0]!;
  const inserted = await deps.db.query(
    `insert into idempotency_keys (workspace_id, key, method, path, request_hash, state, locked_at, created_at,
       request_id)
     values ($1, $2, $3, $4, $5, 'started', $6, $6, $7) on conflict (workspace_id, key) do nothing returning key`,
    [workspaceId, key, req.method, path, hash, now, req.id],
  );
  if (inserted.length > 0) return { key, holder: req.id };

  const [row] = await deps.db.query<KeyRow>(
    `select request_hash, state, response_status, response_body, locked_at, request_id from idempotency_keys
     where workspace_id = $1 and key = $2`,
    [workspaceId, key],
  );
  if (!row) return claim(deps, req, reply, workspaceId, hash); // released between the two statements
  if (row.request_hash !== hash) {
    throw new PerksError(
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different request; use a new key for a new request',
      'Idempotency-Key',
    );
  }
  if (row.state === 'done') {
    reply.header('idempotent-replayed', 'true');
    // The stored answer is sent as it was, so an error in it names the first request's id; say which.
    if (row.request_id) reply.header('original-request', row.request_id);
    reply.code(row.response_status ?? 200).send(row.response_body);
    return undefined;
  }
  if (now.getTime() - row.locked_at.getTime() > ABANDONED_AFTER_MS) {
    const taken = await deps.db.query(
      `update idempotency_keys set locked_at = $3, request_id = $5
       where workspace_id = $1 and key = $2 and state = 'started' and locked_at = $4 returning key`,
      [workspaceId, key, now, row.locked_at, req.id],
    );
    if (taken.length > 0) return { key, holder: req.id };
  }
  throw new PerksError(
    'idempotency_key_in_use',
    'a request with this Idempotency-Key is still running; retry after it finishes',
    'Idempotency-Key',
  );
}

/** Stores the answer under the key while `claim` still holds it; false when a retry took it over. */
async function store(sql: Sql, workspaceId: string, claim: IdempotencyClaim, status: number, body: unknown) {
  const stored = await sql.query(
    `update idempotency_keys set state = 'done', response_status = $3, response_body = $4
     where workspace_id = $1 and key = $2 and state = 'started' and request_id = $5 returning key`,
    [workspaceId, claim.key, status, JSON.stringify(body), claim.holder],
  );
  return stored.length > 0;
}

function takenOver(): PerksError {
  return new PerksError(
    'idempotency_key_in_use',
    `this request ran for over ${ABANDONED_AFTER_MS / 1000} s and a retry with the same Idempotency-Key took ` +
      "the key over; nothing this request did was kept. Send it again to get the retry's answer",
    'Idempotency-Key',
  );
}

/** Codes of input refused as such, answered but not stored under an Idempotency-Key. */
const BAD_INPUT = new Set(['parameter_invalid', 'parameter_missing', 'parameter_unknown']);

export interface Result<T> {
  status: number;
  body: T;
}

/**
 * Runs a mutation in one transaction and, when the request carries an idempotency key, stores its
 * response in that same transaction. A typed (4xx) failure is stored too, so a retry answers the
 * same, except bad input; an unexpected failure releases the key so the caller can retry. `typed` turns a failure that
 * only surfaces as a database error (e.g. a limit checked when the transaction commits) into the
 * typed error it stands for, so that it is stored like any other.
 */
export async function execute<T>(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  fn: (tx: Sql) => Promise<Result<T>>,
  typed: (err: unknown) => unknown | Promise<unknown> = (err) => err,
): Promise<T> {
  const claimed = req.idempotency;
  const ws = req.workspaceId;
  try {
    const result = await deps.db.transaction(async (tx) => {
      const out = await fn(tx);
      // Rolls the effects back when a retry took the key over: only the retry's are kept.
      if (claimed && !(await store(tx, ws, claimed, out.status, out.body))) throw takenOver();
      return out;
    });
    reply.code(result.status);
    return result.body;
  } catch (caught) {
    let err: unknown;
    try {
      err = await typed(caught);
    } catch (failed) {
      // Telling what the failure was failed too (a statement it runs): nothing is stored, and the key
      // is released for a retry.
      if (claimed) await release(deps, ws, claimed);
      throw failed;
    }
    if (claimed) {
      // Bad input writes nothing and is not stored, wherever it was found (the schema, or a check that
      // needs more than one field): the same key may then be sent again with the input corrected.
      if (isPerksError(err) && !BAD_INPUT.has(err.code)) {
        const { status, body } = envelope(err, req.id);
        // Not stored when a retry took the key over: the key then holds the retry's answer.
        await store(deps.db, ws, claimed, status, body);
      } else {
        await release(deps, ws, claimed);
      }
    }
    throw err;
  }
}

/** Frees a key whose request stored no answer, so that the same request can be sent again. */
async function release(deps: Deps, workspaceId: string, claim: IdempotencyClaim) {
  await deps.db.query(
    `delete from idempotency_keys where workspace_id = $1 and key = $2 and state = 'started' and request_id = $3`,
    [workspaceId, claim.key, claim.holder],
  );
}
