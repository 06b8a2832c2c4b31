import { type AssetDefinition, type AssetInput, defineAsset, sameDefinition } from '../core/ledger/assets.js';
import { type AccountKind, SYSTEM_ACCOUNT_KINDS } from '../core/ledger/invariants.js';
import { PerksError } from '../core/errors.js';
import type { Page } from './customers.js';
import type { Deps, Sql } from './ports.js';

export interface AssetRow extends AssetDefinition {
  workspace_id: string;
  id: string;
  created_at: Date;
}

export type SystemKind = Exclude<AccountKind, 'customer'>;
export type SystemAccounts = Record<SystemKind, string>;

export function assetView(a: AssetRow) {
  return {
    id: a.id,
    object: 'asset' as const,
    key: a.key,
    kind: a.kind,
    currency: a.currency,
    unit: a.unit,
    purpose: a.purpose,
    negative_policy: a.negative_policy,
    payout_minimum: a.payout_minimum,
    created_at: a.created_at.toISOString(),
  };
}
export type AssetView = ReturnType<typeof assetView>;

/**
 * Creates an asset with its system accounts. Creating the same key again with the same definition
 * answers with the existing asset; another definition under a taken key is refused, because assets
 * are immutable: balances already held in an asset must keep meaning what they meant.
 */
export async function createAsset(deps: Deps, tx: Sql, workspaceId: string, input: AssetInput) {
  const def = defineAsset(input);
  const now = deps.clock.now();
  const id = deps.ids.id('ast');
  const inserted = await tx.query<AssetRow>(
    `insert into ledger_assets (workspace_id, id, key, kind, currency, unit, purpose, negative_policy,
       payout_minimum, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (workspace_id, key) do nothing returning *`,
    [
      workspaceId,
      id,
      def.key,
      def.kind,
      def.currency,
      def.unit,
      def.purpose,
      def.negative_policy,
      def.payout_minimum,
      now,
    ],
  );
  const row = inserted[0];
  if (!row) {
    const existing = (await findAsset(tx, workspaceId, def.key))!;
    if (!sameDefinition(existing, def)) {
      throw new PerksError(
        'asset_key_taken',
        `asset '${def.key}' already exists with another definition; assets cannot change, create another key`,
        'key',
        { asset: assetView(existing) },
      );
    }
    return { asset: existing, created: false };
  }
  await tx.query(
    `insert into ledger_accounts (workspace_id, id, asset_id, kind, created_at)
     select $1, k.id, $2, k.kind, $3 from jsonb_to_recordset($4::jsonb) as k(id text, kind text)`,
    [
      workspaceId,
      id,
      now,
      JSON.stringify(SYSTEM_ACCOUNT_KINDS.map((kind) => ({ id: deps.ids.id('acc'), kind }))),
    ],
  );
  return { asset: row, created: true };
}

export async function findAsset(sql: Sql, workspaceId: string, key: string): Promise<AssetRow | undefined> {
  const rows = await sql.query<AssetRow>('select * from ledger_assets where workspace_id = $1 and key = $2', [
    workspaceId,
    key,
  ]);
  return rows[0];
}

/**
 * Assets never change and are never deleted, so a committed asset found by key is cached for the
 * life of the process (per workspace, so one workspace's key never finds another's asset). Only rows
 * read by `requireAsset` are cached, and it never runs in the transaction that creates the asset.
 */
const assetCache = new Map<string, AssetRow>();
const ASSET_CACHE_LIMIT = 10_000;

export async function requireAsset(sql: Sql, workspaceId: string, key: string, param = 'asset') {
  const cacheKey = `${workspaceId}/${key}`;
  const hit = assetCache.get(cacheKey);
  if (hit) return hit;
  const row = await findAsset(sql, workspaceId, key);
  if (!row)
    throw new PerksError('resource_not_found', `no asset '${key}'; create it with POST /v1/assets`, param);
  if (assetCache.size >= ASSET_CACHE_LIMIT) assetCache.clear();
  assetCache.set(cacheKey, row);
  return row;
}

export async function assetsById(sql: Sql, workspaceId: string, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, AssetRow>();
  const rows = await sql.query<AssetRow>(
    'select * from ledger_assets where workspace_id = $1 and id = any($2::text[])',
    [workspaceId, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export async function listAssets(sql: Sql, workspaceId: string, page: Page) {
  const rows = await sql.query<AssetRow>(
    `select * from ledger_assets where workspace_id = $1 and ($2::text is null or id < $2)
     order by id desc limit $3`,
    [workspaceId, page.starting_after ?? null, page.limit + 1],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map(assetView),
    has_more: rows.length > page.limit,
  };
}

/**
 * System account ids never change once their asset exists, and asset ids are never reused, so they
 * are cached for the life of the process: a grant then needs no query to find program_expense.
 */
const systemCache = new Map<string, SystemAccounts>();
const SYSTEM_CACHE_LIMIT = 10_000;

export async function systemAccounts(
  sql: Sql,
  workspaceId: string,
  assetId: string,
): Promise<SystemAccounts> {
  const key = `${workspaceId}/${assetId}`;
  const hit = systemCache.get(key);
  if (hit) return hit;
  const rows = await sql.query<{ id: string; kind: SystemKind }>(
    `select id, kind from ledger_accounts where workspace_id = $1 and asset_id = $2 and kind <> 'customer'`,
    [workspaceId, assetId],
  );
  const found = Object.fromEntries(rows.map((r) => [r.kind, r.id])) as Partial<SystemAccounts>;
  for (const kind of SYSTEM_ACCOUNT_KINDS) {
    if (!found[kind]) throw new Error(`asset ${assetId} has no ${kind} account`);
  }
  const accounts = found as SystemAccounts;
  if (systemCache.size >= SYSTEM_CACHE_LIMIT) systemCache.clear();
  systemCache.set(key, accounts);
  return accounts;
}
