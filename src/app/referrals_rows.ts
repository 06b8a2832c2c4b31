import type { Rejection } from '../core/programs/attribution.js';
import { canTransition, pathTo, type ReferralStatus } from '../core/programs/lifecycle.js';
import type { Deps, Sql } from './ports.js';
import { emitReferral } from './referrals_webhooks.js';

/** The referral row and its transitions: every status change is written with the change itself. */

export interface ReferralRow {
  workspace_id: string;
  id: string;
  program_id: string;
  program_version: number;
  referrer_customer_id: string;
  referee_customer_id: string;
  method: 'code' | 'link' | 'manual';
  source: 'event' | 'api' | 'manual';
  code: string | null;
  click_id: string | null;
  event_id: string | null;
  status: ReferralStatus;
  reason: string | null;
  reason_message: string | null;
  reason_details: Record<string, unknown> | null;
  referee_claim: boolean;
  cap_period_start: Date | null;
  attributed_at: Date;
  qualified_at: Date | null;
  rewarded_at: Date | null;
  rejected_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface TransitionMeta {
  actor?: string | null | undefined;
  event_id?: string | null | undefined;
}

export async function recordTransition(
  tx: Sql,
  row: Pick<ReferralRow, 'workspace_id' | 'id'>,
  from: ReferralStatus | null,
  to: ReferralStatus,
  at: Date,
  meta: TransitionMeta & { reason?: string | null; message?: string | null } = {},
) {
  await tx.query(
    `insert into referral_transitions (workspace_id, referral_id, seq, from_status, to_status, reason, message, actor,
       event_id, at)
     select $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9
     from referral_transitions where workspace_id = $1 and referral_id = $2`,
    [
      row.workspace_id,
      row.id,
      from,
      to,
      meta.reason ?? null,
      meta.message ?? null,
      meta.actor ?? null,
      meta.event_id ?? null,
      at,
    ],
  );
}

/**
 * Moves a referral forward, through every step on the way (pending -> qualified -> rewarded), in one
 * statement: a conditional update (only from the status it is in, so two concurrent triggers cannot
 * both move it), the transitions, and the referrer's converted counter.
 */
export async function advance(
  deps: Deps,
  tx: Sql,
  row: ReferralRow,
  to: 'qualified' | 'rewarded',
  meta: TransitionMeta = {},
  /** False when the caller already announced the qualification (before the rewards it brings). */
  announce = true,
): Promise<ReferralRow> {
  const steps = pathTo(row.status, to);
  if (steps.length === 0) return row;
  const now = deps.clock.now();
  let from = row.status;
  const path = steps.map((step, i) => {
    const item = { n: i + 1, from_status: from, to_status: step };
    from = step;
    return item;
  });
  const [updated] = await tx.query<ReferralRow>(
    `with moved as (
       update referrals set status = $4, qualified_at = coalesce(qualified_at, $5),
         rewarded_at = case when $4 = 'rewarded' then $5 else rewarded_at end, updated_at = $5
       where workspace_id = $1 and id = $2 and status = $3 returning *
     ), counted as (
       update referrers set qualified = qualified + 1, updated_at = $5
       where $3 = 'pending' and workspace_id = $1 and program_id = $6 and customer_id = $7
         and exists (select 1 from moved)
     ), steps as (
       insert into referral_transitions (workspace_id, referral_id, seq, from_status, to_status, actor, event_id, at)
       select $1, $2, coalesce((select max(seq) from referral_transitions where workspace_id = $1 and referral_id = $2), 0)
           + t.n, t.from_status, t.to_status, $8, $9, $5
       from jsonb_to_recordset($10::jsonb) as t(n integer, from_status text, to_status text)
       where exists (select 1 from moved)
     )
     select * from moved`,
    [
      row.workspace_id,
      row.id,
      row.status,
      to,
      now,
      row.program_id,
      row.referrer_customer_id,
      meta.actor ?? null,
      meta.event_id ?? null,
      JSON.stringify(path),
    ],
  );
  if (!updated) return row;
  if (announce && row.status === 'pending') await emitReferral(deps, tx, updated, 'referral.qualified');
  return updated;
}

/** Rejects a pending referral with the rule that refused it, freeing what it had claimed. */
export async function rejectReferral(
  deps: Deps,
  tx: Sql,
  row: ReferralRow,
  rejection: Rejection,
  meta: TransitionMeta = {},
): Promise<ReferralRow> {
  if (!canTransition(row.status, 'rejected')) return row;
  const now = deps.clock.now();
  const [updated] = await tx.query<ReferralRow>(
    `update referrals set status = 'rejected', reason = $4, reason_message = $5, reason_details = $6,
       rejected_at = $7, updated_at = $7
     where workspace_id = $1 and id = $2 and status = $3 returning *`,
    [
      row.workspace_id,
      row.id,
      row.status,
      rejection.reason,
      rejection.message,
      rejection.details ? JSON.stringify(rejection.details) : null,
      now,
    ],
  );
  if (!updated) return row;
  await emitReferral(deps, tx, updated, 'referral.rejected');
  await recordTransition(tx, row, row.status, 'rejected', now, {
    ...meta,
    reason: rejection.reason,
    message: rejection.message,
  });
  await releaseClaims(tx, row);
  await tx.query(
    `update referrers set referred = referred - 1, rejected = rejected + 1,
       signups = signups - (case when $4 then 1 else 0 end), updated_at = $5
     where workspace_id = $1 and program_id = $2 and customer_id = $3`,
    [row.workspace_id, row.program_id, row.referrer_customer_id, isSignup(row), now],
  );
  return updated;
}

/** A referral counts as a signup when the referee came through a code or a link, not a repair. */
export function isSignup(row: Pick<ReferralRow, 'method'>): boolean {
  return row.method !== 'manual';
}

/** Gives back the card claims and the cap slot a referral held. */
export async function releaseClaims(tx: Sql, row: ReferralRow) {
  await tx.query(
    'delete from referral_card_claims where workspace_id = $1 and program_id = $2 and referral_id = $3',
    [row.workspace_id, row.program_id, row.id],
  );
  if (row.cap_period_start === null) return;
  await tx.query(
    `update referral_cap_counts set count = count - 1
     where workspace_id = $1 and program_id = $2 and customer_id = $3 and period_start = $4 and count > 0`,
    [row.workspace_id, row.program_id, row.referrer_customer_id, row.cap_period_start],
  );
}
