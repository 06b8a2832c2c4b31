import { isDeepStrictEqual } from 'node:util';
import { PerksError } from '../core/errors.js';
import { type AssetFacts, assetErrors } from '../core/programs/rewards.js';
import { type Program, parseProgram, type SchemaError } from '../core/programs/schema.js';
import { findTemplate, TEMPLATE_NAMES } from '../core/programs/templates.js';
import type { Page } from './customers.js';
import { createAsset } from './ledger_assets.js';
import type { Deps, Sql } from './ports.js';

/**
 * Programs as versioned documents. Applying a document under an existing key appends a version
 * with its own effective_at; versions never change, so a referral bound to a version keeps the
 * terms it was made under.
 */

export interface ProgramRow {
  workspace_id: string;
  id: string;
  key: string;
  name: string;
  latest_version: number;
  created_at: Date;
  updated_at: Date;
}

export interface VersionRow {
  workspace_id: string;
  program_id: string;
  version: number;
  document: Program;
  effective_at: Date;
  actor: string | null;
  created_at: Date;
}

function versionView(v: VersionRow) {
  return {
    object: 'program_version' as const,
    version: v.version,
    effective_at: v.effective_at.toISOString(),
    actor: v.actor,
    created_at: v.created_at.toISOString(),
    document: v.document,
  };
}
export type VersionView = ReturnType<typeof versionView>;

function programView(p: ProgramRow, inForce: VersionRow | undefined, latest: VersionRow) {
  return {
    id: p.id,
    object: 'program' as const,
    key: p.key,
    name: p.name,
    /** The version in force now; null while the first version's effective_at is still ahead. */
    version: inForce?.version ?? null,
    latest_version: latest.version,
    effective_at: (inForce ?? latest).effective_at.toISOString(),
    document: (inForce ?? latest).document,
    pending_version: latest.version !== inForce?.version ? versionView(latest) : null,
    created_at: p.created_at.toISOString(),
    updated_at: p.updated_at.toISOString(),
  };
}
export type ProgramView = ReturnType<typeof programView>;

/**
 * Versions are immutable and their ids never reused, so a parsed version is cached for the life of
 * the process; an event then needs no query to learn the terms of its referral.
 */
const versionCache = new Map<string, VersionRow>();
const VERSION_CACHE_LIMIT = 10_000;

function cacheVersion(v: VersionRow): VersionRow {
  if (versionCache.size >= VERSION_CACHE_LIMIT) versionCache.clear();
  versionCache.set(`${v.workspace_id}/${v.program_id}/${v.version}`, v);
  return v;
}

export async function loadVersion(sql: Sql, workspaceId: string, programId: string, version: number) {
  const hit = versionCache.get(`${workspaceId}/${programId}/${version}`);
  if (hit) return hit;
  const [row] = await sql.query<VersionRow>(
    'select * from program_versions where workspace_id = $1 and program_id = $2 and version = $3',
    [workspaceId, programId, version],
  );
  if (!row) throw new Error(`program ${programId} has no version ${version}`);
  return cacheVersion(row);
}

/** The version in force at `at`: the latest whose effective_at has passed. */
export async function versionAt(
  sql: Sql,
  workspaceId: string,
  programId: string,
  at: Date,
): Promise<VersionRow | undefined> {
  const [row] = await sql.query<{ version: number }>(
    `select version from program_versions where workspace_id = $1 and program_id = $2 and effective_at <= $3
     order by version desc limit 1`,
    [workspaceId, programId, at],
  );
  return row ? loadVersion(sql, workspaceId, programId, row.version) : undefined;
}

export async function findProgram(
  sql: Sql,
  workspaceId: string,
  ref: string,
): Promise<ProgramRow | undefined> {
  const rows = await sql.query<ProgramRow>(
    'select * from programs where workspace_id = $1 and (id = $2 or key = $2) order by (id = $2) desc limit 1',
    [workspaceId, ref],
  );
  return rows[0];
}

export async function requireProgram(sql: Sql, workspaceId: string, ref: string, param = 'program') {
  const row = await findProgram(sql, workspaceId, ref);
  if (!row) throw new PerksError('resource_not_found', `no program '${ref}'`, param);
  return row;
}

/** The version in force now, or a typed error naming when the first one starts. */
export async function requireVersionNow(deps: Deps, sql: Sql, program: ProgramRow, param = 'program') {
  const now = deps.clock.now();
  const v = await versionAt(sql, program.workspace_id, program.id, now);
  if (v) return v;
  const first = await loadVersion(sql, program.workspace_id, program.id, 1);
  throw new PerksError(
    'resource_not_found',
    `program '${program.key}' is not in effect yet: its first version starts at ${first.effective_at.toISOString()}`,
    param,
  );
}

/**
 * Ledger assets never change once created (the ledger refuses another definition under a taken
 * key), so what the core needs of them is cached for the life of the process once seen.
 */
const assetCache = new Map<string, AssetFacts>();
const ASSET_CACHE_LIMIT = 10_000;

/** The ledger assets a set of keys names, as the core sees them. */
export async function assetFacts(sql: Sql, workspaceId: string, keys: readonly string[], cached = true) {
  const found = new Map<string, AssetFacts>();
  const missing: string[] = [];
  for (const key of new Set(keys)) {
    const hit = cached ? assetCache.get(`${workspaceId}/${key}`) : undefined;
    if (hit) found.set(key, hit);
    else missing.push(key);
  }
  if (missing.length === 0) return found;
  const rows = await sql.query<{ key: string; kind: AssetFacts['kind']; currency: string | null }>(
    'select key, kind, currency from ledger_assets where workspace_id = $1 and key = any($2::text[])',
    [workspaceId, missing],
  );
  if (assetCache.size >= ASSET_CACHE_LIMIT) assetCache.clear();
  for (const r of rows) {
    const facts: AssetFacts = { kind: r.kind, currency: r.currency };
    if (cached) assetCache.set(`${workspaceId}/${r.key}`, facts);
    found.set(r.key, facts);
  }
  return found;
}

function invalid(errors: SchemaError[]): PerksError {
  const first = errors[0]!;
  return new PerksError(
    'program_invalid',
    `the program document has ${errors.length} error${errors.length > 1 ? 's' : ''}; the first: '${first.path}': ${first.message}`,
    first.path,
    { errors: errors.map((e) => ({ param: e.path, message: e.message })) },
  );
}

export interface ApplyOptions {
  actor?: string | null | undefined;
}

/**
 * Creates the program or appends a version. Applying a document identical to the latest version
 * changes nothing (so `perks programs apply` can run on every deploy). A new version takes effect
 * at its effective_at, which may not be in the past: changed terms never pay retroactively.
 */
export async function applyProgram(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: unknown,
  options: ApplyOptions = {},
): Promise<{ program: ProgramView; created: boolean; changed: boolean }> {
  const parsed = parseProgram(input);
  if (!parsed.ok) throw invalid(parsed.errors);
  const doc = parsed.program;
  // Read afresh, not from the cache: an asset made earlier in this same transaction may yet roll back.
  const assets = await assetFacts(
    tx,
    workspaceId,
    doc.rewards.map((r) => r.asset),
    false,
  );
  const assetProblems = assetErrors(doc, assets);
  if (assetProblems.length > 0) throw invalid(assetProblems);

  const now = deps.clock.now();
  const requested = (input as { effective_at?: unknown }).effective_at;
  const effectiveAt = typeof requested === 'string' ? new Date(requested) : now;
  if (effectiveAt.getTime() < now.getTime()) {
    throw invalid([
      {
        path: 'effective_at',
        message: `must not be in the past (now is ${now.toISOString()}): changed terms never apply retroactively`,
      },
    ]);
  }

  await tx.query(
    `insert into programs (workspace_id, id, key, name, latest_version, created_at, updated_at)
     values ($1, $2, $3, $4, 0, $5, $5) on conflict (workspace_id, key) do nothing`,
    [workspaceId, deps.ids.id('prg'), doc.key, doc.name, now],
  );
  const [program] = await tx.query<ProgramRow>(
    'select * from programs where workspace_id = $1 and key = $2 for update',
    [workspaceId, doc.key],
  );
  const row = program!;
  const created = row.latest_version === 0;
  if (!created) {
    const latest = await loadVersion(tx, workspaceId, row.id, row.latest_version);
    if (isDeepStrictEqual(latest.document, doc) && typeof requested !== 'string') {
      return { program: await programState(deps, tx, row), created: false, changed: false };
    }
    if (effectiveAt.getTime() < latest.effective_at.getTime()) {
      throw invalid([
        {
          path: 'effective_at',
          message: `must not be before version ${latest.version}'s effective_at (${latest.effective_at.toISOString()})`,
        },
      ]);
    }
  }
  const version = row.latest_version + 1;
  await tx.query(
    `insert into program_versions (workspace_id, program_id, version, document, effective_at, actor, created_at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [workspaceId, row.id, version, JSON.stringify(doc), effectiveAt, options.actor ?? null, now],
  );
  const [updated] = await tx.query<ProgramRow>(
    `update programs set latest_version = $3, name = $4, updated_at = $5 where workspace_id = $1 and id = $2
     returning *`,
    [workspaceId, row.id, version, doc.name, now],
  );
  return { program: await programState(deps, tx, updated!), created, changed: true };
}

export interface TemplateRequest {
  template: string;
  key?: string | undefined;
  name?: string | undefined;
  landing_url?: string | undefined;
}

/**
 * Creates a program from one of the reference templates, first creating the ledger assets it pays
 * in (an asset that exists with the same definition is reused; another definition under the same
 * key is refused by the ledger, naming the asset).
 */
export async function createFromTemplate(deps: Deps, tx: Sql, workspaceId: string, req: TemplateRequest) {
  const template = findTemplate(req.template);
  if (!template) {
    throw new PerksError(
      'resource_not_found',
      `no template '${req.template}'; the templates are: ${TEMPLATE_NAMES.join(', ')}`,
      'template',
    );
  }
  for (const asset of template.assets) await createAsset(deps, tx, workspaceId, asset);
  const document = {
    ...template.document,
    ...(req.key !== undefined ? { key: req.key } : {}),
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.landing_url !== undefined ? { landing_url: req.landing_url } : {}),
  };
  return applyProgram(deps, tx, workspaceId, document, { actor: `template:${template.name}` });
}

async function programState(deps: Deps, sql: Sql, row: ProgramRow): Promise<ProgramView> {
  const latest = await loadVersion(sql, row.workspace_id, row.id, row.latest_version);
  const inForce = await versionAt(sql, row.workspace_id, row.id, deps.clock.now());
  return programView(row, inForce, latest);
}

export async function retrieveProgram(deps: Deps, workspaceId: string, ref: string) {
  const row = await requireProgram(deps.db, workspaceId, ref, 'id');
  return programState(deps, deps.db, row);
}

export async function listPrograms(deps: Deps, workspaceId: string, page: Page) {
  const rows = await deps.db.query<ProgramRow>(
    `select * from programs where workspace_id = $1 and ($2::text is null or id < $2) order by id desc limit $3`,
    [workspaceId, page.starting_after ?? null, page.limit + 1],
  );
  const data = [];
  for (const row of rows.slice(0, page.limit)) data.push(await programState(deps, deps.db, row));
  return { object: 'list' as const, data, has_more: rows.length > page.limit };
}

/** Versions newest first; `starting_after` is a version number. */
export async function listVersions(
  deps: Deps,
  workspaceId: string,
  ref: string,
  page: { limit: number; starting_after?: number | undefined },
) {
  const program = await requireProgram(deps.db, workspaceId, ref, 'id');
  const rows = await deps.db.query<VersionRow>(
    `select * from program_versions where workspace_id = $1 and program_id = $2
       and ($3::integer is null or version < $3) order by version desc limit $4`,
    [workspaceId, program.id, page.starting_after ?? null, page.limit + 1],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map(versionView),
    has_more: rows.length > page.limit,
  };
}
