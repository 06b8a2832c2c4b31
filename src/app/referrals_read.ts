import { PerksError } from '../core/errors.js';
import { defaultOption } from '../core/programs/schema.js';
import { type CustomerRow, requireCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';
import { loadVersion, requireProgram } from './programs.js';
import { flushClicks } from './referrals_clicks.js';
import { linkPath } from './referrals_codes.js';
import { type ReferrerRow, standingOf, standingView } from './referrals_referrers.js';
import type { RewardRow } from './referrals_rewards.js';
import type { ReferralRow } from './referrals_rows.js';

/** Reading referrals back: one referral with its history, a customer's lists, summary and tree. */

async function programKeys(sql: Sql, ws: string, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, string>();
  const rows = await sql.query<{ id: string; key: string }>(
    'select id, key from programs where workspace_id = $1 and id = any($2::text[])',
    [ws, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r.key]));
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function referralView(r: ReferralRow, programKey: string) {
  return {
    id: r.id,
    object: 'referral' as const,
    program: programKey,
    program_version: r.program_version,
    referrer: r.referrer_customer_id,
    referee: r.referee_customer_id,
    method: r.method,
    source: r.source,
    code: r.code,
    status: r.status,
    reason: r.reason,
    reason_message: r.reason_message,
    reason_details: r.reason_details,
    attributed_at: r.attributed_at.toISOString(),
    qualified_at: iso(r.qualified_at),
    rewarded_at: iso(r.rewarded_at),
    rejected_at: iso(r.rejected_at),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
export type ReferralView = ReturnType<typeof referralView>;

export async function referralViews(sql: Sql, ws: string, rows: readonly ReferralRow[]) {
  const keys = await programKeys(
    sql,
    ws,
    rows.map((r) => r.program_id),
  );
  return rows.map((r) => referralView(r, keys.get(r.program_id) ?? r.program_id));
}

function rewardView(r: RewardRow) {
  return {
    id: r.id,
    object: 'referral_reward' as const,
    reward_index: r.reward_index,
    trigger: r.trigger,
    recipient: r.recipient,
    customer: r.recipient_customer_id,
    asset: r.asset,
    status: r.status,
    reason: r.reason,
    message: r.message,
    amount: r.amount,
    reversed_amount: r.reversed_amount,
    grant: r.grant_id,
    expires_at: iso(r.expires_at),
    payment: r.payment_external_id,
    source_key: r.source_key,
    event_id: r.event_id,
    occurred_at: r.occurred_at.toISOString(),
    created_at: r.created_at.toISOString(),
  };
}

export async function retrieveReferral(sql: Sql, ws: string, id: string) {
  const [row] = await sql.query<ReferralRow>('select * from referrals where workspace_id = $1 and id = $2', [
    ws,
    id,
  ]);
  if (!row) throw new PerksError('resource_not_found', `no referral '${id}'`, 'id');
  const [view] = await referralViews(sql, ws, [row]);
  const transitions = await sql.query<{
    seq: number;
    from_status: string | null;
    to_status: string;
    reason: string | null;
    message: string | null;
    actor: string | null;
    event_id: string | null;
    at: Date;
  }>('select * from referral_transitions where workspace_id = $1 and referral_id = $2 order by seq', [
    ws,
    id,
  ]);
  const rewards = await sql.query<RewardRow>(
    'select * from referral_rewards where workspace_id = $1 and referral_id = $2 order by id',
    [ws, id],
  );
  const log = await sql.query<{
    id: string;
    action: string;
    actor: string | null;
    reason: string | null;
    details: Record<string, unknown>;
    at: Date;
  }>('select * from referral_audit_log where workspace_id = $1 and referral_id = $2 order by id', [ws, id]);
  return {
    ...view!,
    history: transitions.map((t) => ({
      seq: t.seq,
      from: t.from_status,
      to: t.to_status,
      reason: t.reason,
      message: t.message,
      actor: t.actor,
      event_id: t.event_id,
      at: t.at.toISOString(),
    })),
    rewards: rewards.map(rewardView),
    audit_log: log.map((a) => ({
      id: a.id,
      action: a.action,
      actor: a.actor,
      reason: a.reason,
      details: a.details,
      at: a.at.toISOString(),
    })),
  };
}
export type ReferralDetail = Awaited<ReturnType<typeof retrieveReferral>>;

export interface ReferralListQuery {
  limit: number;
  starting_after?: string | undefined;
  program?: string | undefined;
  status?: string | undefined;
  role?: 'referrer' | 'referee' | undefined;
}

/** The customer's referrals, newest first: those it made (default) or those that referred it. */
export async function listCustomerReferrals(sql: Sql, ws: string, customerRef: string, q: ReferralListQuery) {
  const customer = await requireCustomer(sql, ws, customerRef, 'id');
  const program = q.program ? await requireProgram(sql, ws, q.program) : undefined;
  const column = q.role === 'referee' ? 'referee_customer_id' : 'referrer_customer_id';
  const rows = await sql.query<ReferralRow>(
    `select * from referrals where workspace_id = $1 and ${column} = $2
       and ($3::text is null or id < $3) and ($4::text is null or program_id = $4) and ($5::text is null or status = $5)
     order by id desc limit $6`,
    [ws, customer.id, q.starting_after ?? null, program?.id ?? null, q.status ?? null, q.limit + 1],
  );
  return {
    object: 'list' as const,
    data: await referralViews(sql, ws, rows.slice(0, q.limit)),
    has_more: rows.length > q.limit,
  };
}

type SummaryRow = ReferrerRow & {
  program_key: string;
  latest_version: number;
  version_now: number | null;
  code: string | null;
  totals: { asset: string; granted: number; reversed: number }[];
};

/**
 * The referrer's dashboard figures, per program. Everything comes from counters kept with the
 * writes, read in one query, so the answer costs the same for 10 referrals or 100,000. The clicks
 * still waiting to be written are written first, so `clicks` counts them, unless `withClicks` is
 * false (a caller that does not show clicks, such as the widget, need not wait for that write).
 */
export async function referralSummary(
  deps: Deps,
  ws: string,
  customerRef: string,
  programRef?: string,
  { withClicks = true }: { withClicks?: boolean } = {},
) {
  if (withClicks) await flushClicks(deps);
  const sql = deps.db;
  const now = deps.clock.now();
  const customer: CustomerRow = await requireCustomer(sql, ws, customerRef, 'id');
  const rows = await sql.query<SummaryRow>(
    `select rr.*, p.key as program_key, p.latest_version,
       (select v.version from program_versions v where v.workspace_id = rr.workspace_id
          and v.program_id = rr.program_id and v.effective_at <= $4 order by v.version desc limit 1) as version_now,
       (select c.code from referral_codes c where c.workspace_id = rr.workspace_id and c.program_id = rr.program_id
          and c.customer_id = rr.customer_id and c.is_primary) as code,
       coalesce((select jsonb_agg(jsonb_build_object('asset', t.asset, 'granted', t.granted, 'reversed', t.reversed)
                   order by t.asset)
                 from referral_reward_totals t where t.workspace_id = rr.workspace_id
                   and t.program_id = rr.program_id and t.customer_id = rr.customer_id), '[]'::jsonb) as totals
     from referrers rr join programs p on p.workspace_id = rr.workspace_id and p.id = rr.program_id
     where rr.workspace_id = $1 and rr.customer_id = $2 and ($3::text is null or p.id = $3 or p.key = $3)
     order by rr.program_id`,
    [ws, customer.id, programRef ?? null, now],
  );
  // An unknown program is a 404, not an empty summary; only checked when nothing matched.
  if (rows.length === 0 && programRef) await requireProgram(sql, ws, programRef);
  const programs = [];
  for (const r of rows) {
    const version = await loadVersion(sql, ws, r.program_id, r.version_now ?? r.latest_version);
    const doc = version.document;
    const pending = Math.max(0, r.referred - r.qualified);
    const pendingByAsset = new Map<string, number>();
    for (const rule of doc.rewards) {
      if (rule.recipient !== 'referrer' || rule.amount.kind !== 'fixed') continue;
      if (rule.option !== undefined && rule.option !== (r.option ?? defaultOption(doc))) continue;
      pendingByAsset.set(rule.asset, (pendingByAsset.get(rule.asset) ?? 0) + rule.amount.value * pending);
    }
    programs.push({
      program: r.program_key,
      code: r.code,
      link_path: linkPath(r.code, doc.attribution.methods),
      clicks: r.clicks,
      signups: r.signups,
      referred_customers: r.referred,
      converted: r.qualified,
      pending: pending,
      rejected: r.rejected,
      rewards_earned: r.totals.map((t) => ({
        asset: t.asset,
        granted: Number(t.granted),
        reversed: Number(t.reversed),
        net: Number(t.granted) - Number(t.reversed),
      })),
      pending_rewards: [...pendingByAsset.entries()].map(([asset, amount]) => ({
        asset,
        amount,
        referrals: pending,
      })),
      option: r.option ?? defaultOption(doc),
      ...standingView(standingOf(r, doc, now)),
    });
  }
  return { object: 'referral_summary' as const, customer: customer.id, programs };
}
export type ReferralSummary = Awaited<ReturnType<typeof referralSummary>>;

export const MAX_TREE_DEPTH = 5;
export const MAX_TREE_NODES = 1000;

interface TreeRow {
  id: string;
  program_id: string;
  referrer_customer_id: string;
  referee_customer_id: string;
  status: string;
  depth: number;
}

export interface TreeNode {
  referral: string;
  program: string;
  customer: string;
  status: string;
  children: TreeNode[];
}

/**
 * The customers this one referred, and whom they referred, down to `depth` levels; at most
 * MAX_TREE_NODES referrals, oldest first at each level, with `truncated` saying when more exist.
 */
export async function referralTree(
  sql: Sql,
  ws: string,
  customerRef: string,
  depth: number,
  programRef?: string,
) {
  const customer = await requireCustomer(sql, ws, customerRef, 'id');
  const program = programRef ? await requireProgram(sql, ws, programRef) : undefined;
  const rows = await sql.query<TreeRow>(
    `with recursive tree(id, program_id, referrer_customer_id, referee_customer_id, status, depth) as (
       (select id, program_id, referrer_customer_id, referee_customer_id, status, 1 from referrals
        where workspace_id = $1 and referrer_customer_id = $2 and status <> 'rejected'
          and ($4::text is null or program_id = $4)
        order by id limit $5)
       union all
       select r.id, r.program_id, r.referrer_customer_id, r.referee_customer_id, r.status, t.depth + 1
       from tree t join referrals r on r.workspace_id = $1 and r.referrer_customer_id = t.referee_customer_id
       where t.depth < $3 and r.status <> 'rejected' and ($4::text is null or r.program_id = $4)
     )
     select * from tree order by depth, id limit $5`,
    [ws, customer.id, depth, program?.id ?? null, MAX_TREE_NODES + 1],
  );
  const truncated = rows.length > MAX_TREE_NODES;
  const kept = rows.slice(0, MAX_TREE_NODES);
  const keys = await programKeys(
    sql,
    ws,
    kept.map((r) => r.program_id),
  );
  const byReferrer = new Map<string, TreeRow[]>();
  for (const r of kept) {
    const list = byReferrer.get(r.referrer_customer_id) ?? [];
    list.push(r);
    byReferrer.set(r.referrer_customer_id, list);
  }
  const build = (referrerId: string, level: number, seen: Set<string>): TreeNode[] =>
    (byReferrer.get(referrerId) ?? [])
      .filter((r) => r.depth === level && !seen.has(r.referee_customer_id))
      .map((r) => ({
        referral: r.id,
        program: keys.get(r.program_id) ?? r.program_id,
        customer: r.referee_customer_id,
        status: r.status,
        children:
          level < depth
            ? build(r.referee_customer_id, level + 1, new Set([...seen, r.referee_customer_id]))
            : [],
      }));
  return {
    object: 'referral_tree' as const,
    customer: customer.id,
    depth,
    nodes: build(customer.id, 1, new Set([customer.id])),
    truncated,
  };
}
