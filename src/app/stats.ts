import { PerksError } from '../core/errors.js';
import { bucketIndex, resolveRange, type StatInterval, type StatRange } from '../core/stats/range.js';
import type { Deps } from './ports.js';
import { requireProgram } from './programs.js';

/**
 * The overview figures of the operator dashboard: referrals, conversions, rejections and reward
 * cost per asset over time, the top referrers of the range and the latest rejections with their
 * reasons. Every query reads a bounded time range through an index made for it (migration 0016),
 * so the cost follows the rows in the range, not the size of the history.
 */

export interface OverviewQuery {
  from?: Date | undefined;
  to?: Date | undefined;
  interval: StatInterval;
  program?: string | undefined;
}

export const TOP_REFERRERS = 10;
export const RECENT_REJECTIONS = 10;

interface AssetTotals {
  asset: string;
  granted: number;
  reversed: number;
  net: number;
}

function addTo(list: AssetTotals[], asset: string, granted: number, reversed: number) {
  let row = list.find((r) => r.asset === asset);
  if (!row) {
    row = { asset, granted: 0, reversed: 0, net: 0 };
    list.push(row);
    list.sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  }
  row.granted += granted;
  row.reversed += reversed;
  row.net = row.granted - row.reversed;
}

export async function overviewStats(deps: Deps, ws: string, q: OverviewQuery) {
  const resolved = resolveRange({ from: q.from, to: q.to, interval: q.interval }, deps.clock.now());
  if (!resolved.ok) {
    throw new PerksError(
      'parameter_invalid',
      resolved.message,
      resolved.param,
      resolved.limit_days === undefined ? undefined : { limit_days: resolved.limit_days },
    );
  }
  const range: StatRange = resolved.range;
  const sql = deps.db;
  const program = q.program ? await requireProgram(sql, ws, q.program) : undefined;
  const base = [ws, range.from, range.to, range.interval, program?.id ?? null];

  const [attributed, qualified, rejected, rewards, reasons, recent, top] = await Promise.all([
    sql.query<{ bucket: Date; n: number }>(
      `select date_trunc($4, attributed_at, 'UTC') as bucket, count(*) as n from referrals
       where workspace_id = $1 and attributed_at >= $2 and attributed_at < $3 and status <> 'rejected'
         and ($5::text is null or program_id = $5)
       group by 1`,
      base,
    ),
    sql.query<{ bucket: Date; n: number }>(
      `select date_trunc($4, qualified_at, 'UTC') as bucket, count(*) as n from referrals
       where workspace_id = $1 and qualified_at >= $2 and qualified_at < $3 and qualified_at is not null
         and ($5::text is null or program_id = $5)
       group by 1`,
      base,
    ),
    sql.query<{ bucket: Date; n: number }>(
      `select date_trunc($4, rejected_at, 'UTC') as bucket, count(*) as n from referrals
       where workspace_id = $1 and rejected_at >= $2 and rejected_at < $3 and status = 'rejected'
         and ($5::text is null or program_id = $5)
       group by 1`,
      base,
    ),
    sql.query<{ bucket: Date; asset: string; granted: number; reversed: number }>(
      `select date_trunc($4, occurred_at, 'UTC') as bucket, asset, sum(amount)::int8 as granted,
         sum(reversed_amount)::int8 as reversed
       from referral_rewards
       where workspace_id = $1 and occurred_at >= $2 and occurred_at < $3 and status <> 'skipped'
         and ($5::text is null or program_id = $5)
       group by 1, 2`,
      base,
    ),
    sql.query<{ reason: string; n: number }>(
      `select reason, count(*) as n from referrals
       where workspace_id = $1 and rejected_at >= $2 and rejected_at < $3 and status = 'rejected'
         and ($4::text is null or program_id = $4)
       group by reason order by n desc, reason`,
      [ws, range.from, range.to, program?.id ?? null],
    ),
    sql.query<{
      id: string;
      program_key: string;
      referrer_customer_id: string;
      referrer_external_id: string | null;
      referee_customer_id: string;
      referee_external_id: string | null;
      reason: string;
      reason_message: string | null;
      rejected_at: Date;
    }>(
      `select r.id, p.key as program_key, r.referrer_customer_id, rc.external_id as referrer_external_id,
         r.referee_customer_id, ec.external_id as referee_external_id, r.reason, r.reason_message, r.rejected_at
       from (select * from referrals
             where workspace_id = $1 and rejected_at >= $2 and rejected_at < $3 and status = 'rejected'
               and ($4::text is null or program_id = $4)
             order by rejected_at desc, id desc limit $5) r
       join programs p on p.workspace_id = r.workspace_id and p.id = r.program_id
       left join customers rc on rc.workspace_id = r.workspace_id and rc.id = r.referrer_customer_id
       left join customers ec on ec.workspace_id = r.workspace_id and ec.id = r.referee_customer_id
       order by r.rejected_at desc, r.id desc`,
      [ws, range.from, range.to, program?.id ?? null, RECENT_REJECTIONS],
    ),
    sql.query<{ customer: string; external_id: string | null; referrals: number; converted: number }>(
      `select t.customer, c.external_id, t.referrals, t.converted
       from (select referrer_customer_id as customer, count(*) as referrals,
               count(*) filter (where status in ('qualified', 'rewarded')) as converted
             from referrals
             where workspace_id = $1 and attributed_at >= $2 and attributed_at < $3 and status <> 'rejected'
               and ($4::text is null or program_id = $4)
             group by referrer_customer_id
             order by referrals desc, converted desc, referrer_customer_id limit $5) t
       left join customers c on c.workspace_id = $1 and c.id = t.customer
       order by t.referrals desc, t.converted desc, t.customer`,
      [ws, range.from, range.to, program?.id ?? null, TOP_REFERRERS],
    ),
  ]);

  const series = range.buckets.map((start) => ({
    start: start.toISOString(),
    referrals: 0,
    conversions: 0,
    rejections: 0,
    rewards: [] as AssetTotals[],
  }));
  const totals = { referrals: 0, conversions: 0, rejections: 0, rewards: [] as AssetTotals[] };
  const count = (rows: { bucket: Date; n: number }[], field: 'referrals' | 'conversions' | 'rejections') => {
    for (const row of rows) {
      const i = bucketIndex(range, row.bucket);
      if (i >= 0) series[i]![field] += row.n;
      totals[field] += row.n;
    }
  };
  count(attributed, 'referrals');
  count(qualified, 'conversions');
  count(rejected, 'rejections');
  for (const row of rewards) {
    const i = bucketIndex(range, row.bucket);
    if (i >= 0) addTo(series[i]!.rewards, row.asset, row.granted, row.reversed);
    addTo(totals.rewards, row.asset, row.granted, row.reversed);
  }

  // Rewards earned over all time by the top referrers, from the totals kept with every grant.
  const earned = new Map<string, AssetTotals[]>();
  if (top.length > 0) {
    const rows = await sql.query<{ customer_id: string; asset: string; granted: number; reversed: number }>(
      `select customer_id, asset, sum(granted)::int8 as granted, sum(reversed)::int8 as reversed
       from referral_reward_totals
       where workspace_id = $1 and customer_id = any($2::text[]) and ($3::text is null or program_id = $3)
       group by customer_id, asset`,
      [ws, top.map((t) => t.customer), program?.id ?? null],
    );
    for (const r of rows) {
      const list = earned.get(r.customer_id) ?? [];
      addTo(list, r.asset, r.granted, r.reversed);
      earned.set(r.customer_id, list);
    }
  }

  const assetKeys = [
    ...new Set([...totals.rewards.map((r) => r.asset), ...[...earned.values()].flat().map((r) => r.asset)]),
  ];
  const assets =
    assetKeys.length === 0
      ? []
      : await sql.query<{ key: string; kind: string; currency: string | null; unit: string | null }>(
          `select key, kind, currency, unit from ledger_assets where workspace_id = $1 and key = any($2::text[])
           order by key`,
          [ws, assetKeys],
        );

  return {
    object: 'stats_overview' as const,
    interval: range.interval,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    program: program?.key ?? null,
    totals,
    series,
    assets: assets.map((a) => ({ asset: a.key, kind: a.kind, currency: a.currency, unit: a.unit })),
    top_referrers: top.map((t) => ({
      customer: t.customer,
      external_id: t.external_id,
      referrals: t.referrals,
      converted: t.converted,
      rewards_earned: earned.get(t.customer) ?? [],
    })),
    rejection_reasons: reasons.map((r) => ({ reason: r.reason, count: r.n })),
    recent_rejections: recent.map((r) => ({
      referral: r.id,
      program: r.program_key,
      referrer: r.referrer_customer_id,
      referrer_external_id: r.referrer_external_id,
      referee: r.referee_customer_id,
      referee_external_id: r.referee_external_id,
      reason: r.reason,
      reason_message: r.reason_message,
      rejected_at: r.rejected_at.toISOString(),
    })),
  };
}
export type OverviewStats = Awaited<ReturnType<typeof overviewStats>>;
