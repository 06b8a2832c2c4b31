import { emitWebhookEvent } from './outbox_webhooks.js';
import type { Deps, Sql } from './ports.js';
import { referralView } from './referrals_read.js';
import type { ReferralRow } from './referrals_rows.js';

/**
 * What the referral use cases tell the product through outbound webhooks, queued in the same
 * transaction as the change (see the webhooks documentation for delivery).
 */

/** A program's key never changes once created, so it is cached by id for the life of the process. */
const programKeys = new Map<string, string>();
const PROGRAM_KEY_CACHE_LIMIT = 10_000;

async function programKey(sql: Sql, workspaceId: string, programId: string): Promise<string> {
  const cacheKey = `${workspaceId}/${programId}`;
  const hit = programKeys.get(cacheKey);
  if (hit) return hit;
  const [row] = await sql.query<{ key: string }>(
    'select key from programs where workspace_id = $1 and id = $2',
    [workspaceId, programId],
  );
  if (programKeys.size >= PROGRAM_KEY_CACHE_LIMIT) programKeys.clear();
  programKeys.set(cacheKey, row!.key);
  return row!.key;
}

export type ReferralWebhook =
  'referral.created' | 'referral.qualified' | 'referral.rejected' | 'referral.reassigned';

export async function emitReferral(
  deps: Deps,
  tx: Sql,
  row: ReferralRow,
  type: ReferralWebhook,
): Promise<void> {
  const key = await programKey(tx, row.workspace_id, row.program_id);
  await emitWebhookEvent(deps, tx, row.workspace_id, type, referralView(row, key));
}

export async function emitReward(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  type: 'reward.granted' | 'reward.reversed',
  data: Record<string, unknown>,
): Promise<void> {
  await emitWebhookEvent(deps, tx, workspaceId, type, data);
}

export async function emitReferrer(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  type: 'referrer.suspended' | 'referrer.reinstated',
  data: { customer: string; program_id: string; suspended_at: string | null },
): Promise<void> {
  const program = await programKey(tx, workspaceId, data.program_id);
  await emitWebhookEvent(deps, tx, workspaceId, type, {
    object: 'referrer',
    customer: data.customer,
    program,
    suspended_at: data.suspended_at,
  });
}
