import { createHash } from 'node:crypto';
import { PerksError } from '../core/errors.js';
import type { Deps, Sql } from './ports.js';

/** 256 bits of randomness; base62 makes that 43 characters after `sk_`. */
const KEY_BITS = 256;
export const KEY_PATTERN = /^sk_[0-9A-Za-z]{43}$/;
const VISIBLE_PREFIX_LENGTH = 10;

export interface ApiKeyView {
  id: string;
  object: 'api_key';
  workspace_id: string;
  name: string | null;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

interface ApiKeyRow {
  workspace_id: string;
  id: string;
  name: string | null;
  prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

function keyView(r: ApiKeyRow): ApiKeyView {
  return {
    id: r.id,
    object: 'api_key',
    workspace_id: r.workspace_id,
    name: r.name,
    prefix: r.prefix,
    created_at: r.created_at.toISOString(),
    revoked_at: r.revoked_at?.toISOString() ?? null,
  };
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

async function insertKey(deps: Deps, tx: Sql, workspaceId: string, name: string | null) {
  const secret = deps.ids.secret('sk', KEY_BITS);
  const rows = await tx.query<ApiKeyRow>(
    `insert into api_keys (workspace_id, id, name, prefix, key_hash, created_at)
     values ($1, $2, $3, $4, $5, $6) returning *`,
    [
      workspaceId,
      deps.ids.id('key'),
      name,
      secret.slice(0, VISIBLE_PREFIX_LENGTH),
      hashKey(secret),
      deps.clock.now(),
    ],
  );
  return { key: keyView(rows[0]!), secret };
}

export interface WorkspaceView {
  id: string;
  object: 'workspace';
  name: string;
  created_at: string;
}

export async function createWorkspace(deps: Deps, name: string) {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) {
    throw new PerksError('parameter_invalid', 'a workspace name is 1 to 200 characters', 'name');
  }
  return deps.db.transaction(async (tx) => {
    const id = deps.ids.id('ws');
    const now = deps.clock.now();
    await tx.query('insert into workspaces (workspace_id, name, created_at) values ($1, $2, $3)', [
      id,
      trimmed,
      now,
    ]);
    const { key, secret } = await insertKey(deps, tx, id, 'default');
    const workspace: WorkspaceView = {
      id,
      object: 'workspace',
      name: trimmed,
      created_at: now.toISOString(),
    };
    return { workspace, key, secret };
  });
}

export async function listWorkspaces(deps: Deps): Promise<WorkspaceView[]> {
  const rows = await deps.db.query<{ workspace_id: string; name: string; created_at: Date }>(
    'select * from workspaces order by workspace_id',
  );
  return rows.map((r) => ({
    id: r.workspace_id,
    object: 'workspace',
    name: r.name,
    created_at: r.created_at.toISOString(),
  }));
}

async function requireWorkspace(sql: Sql, workspaceId: string) {
  const rows = await sql.query('select 1 from workspaces where workspace_id = $1', [workspaceId]);
  if (rows.length === 0)
    throw new PerksError('resource_not_found', `no workspace '${workspaceId}'`, 'workspace');
}

export async function createKey(deps: Deps, workspaceId: string, name: string | null) {
  return deps.db.transaction(async (tx) => {
    await requireWorkspace(tx, workspaceId);
    return insertKey(deps, tx, workspaceId, name);
  });
}

export async function listKeys(deps: Deps, workspaceId: string): Promise<ApiKeyView[]> {
  await requireWorkspace(deps.db, workspaceId);
  const rows = await deps.db.query<ApiKeyRow>('select * from api_keys where workspace_id = $1 order by id', [
    workspaceId,
  ]);
  return rows.map(keyView);
}

/**
 * Revoking is permanent and idempotent; the first revocation time is kept. This process forgets the
 * key's cached lookup at once; other server processes may still accept it for up to their
 * PERKS_AUTH_CACHE_MS.
 */
export async function revokeKey(deps: Deps, keyId: string): Promise<ApiKeyView> {
  const rows = await deps.db.query<ApiKeyRow>(
    'update api_keys set revoked_at = coalesce(revoked_at, $2) where id = $1 returning *',
    [keyId, deps.clock.now()],
  );
  if (rows.length === 0) throw new PerksError('resource_not_found', `no API key '${keyId}'`, 'key');
  forgetKey(keyId);
  return keyView(rows[0]!);
}

/**
 * How long a server process trusts an API key lookup before asking the store again, by default
 * (PERKS_AUTH_CACHE_MS). Every request needs its key checked; without this, that check is one more
 * round trip to the database on every request.
 */
export const AUTH_CACHE_DEFAULT_MS = 5_000;
/** The most lookups kept; beyond it the oldest is dropped (a key only costs a lookup again). */
const AUTH_CACHE_MAX_ENTRIES = 10_000;

interface CachedKey {
  keyId: string;
  workspaceId: string;
  revokedAt: Date | null;
  /** The clock's time of the lookup, in ms. */
  at: number;
}

/**
 * Lookups of known keys by hash, shared by every server in the process so that `revokeKey` can drop
 * a revoked key's entry. Unknown keys are not kept: a guess must not fill the cache, and a key
 * created later must work at once.
 */
const keyCache = new Map<string, CachedKey>();

function forgetKey(keyId: string): void {
  for (const [hash, entry] of keyCache) if (entry.keyId === keyId) keyCache.delete(hash);
}

async function lookUpKey(deps: Pick<Deps, 'db' | 'clock'>, secret: string, cacheMs: number) {
  const hash = hashKey(secret);
  const now = deps.clock.now().getTime();
  const cached = keyCache.get(hash);
  // A clock that moved backwards (tests move theirs) also makes the entry stale.
  if (cached && now >= cached.at && now - cached.at < cacheMs) return cached;
  keyCache.delete(hash);
  const [row] = await deps.db.query<{ id: string; workspace_id: string; revoked_at: Date | null }>(
    'select id, workspace_id, revoked_at from api_keys where key_hash = $1',
    [hash],
  );
  if (!row) return undefined;
  const entry: CachedKey = {
    keyId: row.id,
    workspaceId: row.workspace_id,
    revokedAt: row.revoked_at,
    at: now,
  };
  if (cacheMs > 0) {
    if (keyCache.size >= AUTH_CACHE_MAX_ENTRIES) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(hash, entry);
  }
  return entry;
}

/**
 * Resolves an `Authorization` header to the one workspace its key reaches. A lookup is trusted for
 * `cacheMs` (0: every request asks the store), so a key revoked by another process keeps working here
 * for at most that long.
 */
export async function authenticate(
  deps: Pick<Deps, 'db' | 'clock'>,
  header: string | undefined,
  cacheMs: number = AUTH_CACHE_DEFAULT_MS,
): Promise<string> {
  if (!header) {
    throw new PerksError('api_key_missing', 'no API key: send `Authorization: Bearer sk_...`');
  }
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match || !KEY_PATTERN.test(match[1]!)) {
    throw new PerksError(
      'api_key_malformed',
      'the Authorization header must be `Bearer ` followed by a secret key (sk_ and 43 letters or digits)',
    );
  }
  const key = await lookUpKey(deps, match[1]!, cacheMs);
  if (!key) throw new PerksError('api_key_invalid', 'this API key is not known');
  if (key.revokedAt) {
    throw new PerksError('api_key_revoked', `this API key was revoked at ${key.revokedAt.toISOString()}`);
  }
  return key.workspaceId;
}
