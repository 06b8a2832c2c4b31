import { PerksError } from '../core/errors.js';
import type { RejectionReason } from '../core/programs/attribution.js';
import type { ReferralStatus } from '../core/programs/lifecycle.js';
import { requireCustomer } from './customers.js';
import type { Sql } from './ports.js';
import { requireProgram } from './programs.js';
import { findCode } from './referrals_codes.js';
import { referralViews } from './referrals_read.js';
import type { ReferralRow } from './referrals_rows.js';

/**
 * The workspace's referrals, newest first, searched by customer (as referrer, referee or either), by
 * referral code (the referrals its owner made in its program), by program, status and rejection
 * reason. The customer, status and reason filters have indexes that yield rows in id order
 * (migration 0016; a code is searched as its owner, the referrer); a program alone walks the
 * workspace's referrals newest first and keeps that program's. Pages are cut by id
 * (`starting_after`), so a page costs the same on the first or the thousandth page.
 */

export interface ReferralSearch {
  limit: number;
  starting_after?: string | undefined;
  customer?: string | undefined;
  role?: 'any' | 'referrer' | 'referee' | undefined;
  code?: string | undefined;
  program?: string | undefined;
  status?: ReferralStatus | undefined;
  reason?: RejectionReason | undefined;
}

export async function searchReferrals(sql: Sql, ws: string, q: ReferralSearch) {
  if (q.role !== undefined && q.customer === undefined) {
    throw new PerksError(
      'parameter_invalid',
      "'role' says which side 'customer' is on, so it needs 'customer'",
      'role',
    );
  }
  const params: unknown[] = [ws];
  const arg = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const filters: string[] = [];
  let programId: string | undefined;
  if (q.program) programId = (await requireProgram(sql, ws, q.program)).id;

  let referrerId: string | undefined;
  if (q.code !== undefined) {
    const code = await findCode(sql, ws, q.code);
    if (!code) throw new PerksError('resource_not_found', `no referral code '${clip(q.code)}'`, 'code');
    // A code belongs to one customer in one program: its referrals are that referrer's in that program.
    if (programId !== undefined && programId !== code.program_id) return emptyPage();
    programId = code.program_id;
    referrerId = code.customer_id;
  }

  let customerId: string | undefined;
  if (q.customer !== undefined) customerId = (await requireCustomer(sql, ws, q.customer, 'customer')).id;

  if (programId !== undefined) filters.push(`program_id = ${arg(programId)}`);
  if (q.status !== undefined) filters.push(`status = ${arg(q.status)}`);
  if (q.reason !== undefined) filters.push(`reason = ${arg(q.reason)}`);
  if (q.starting_after !== undefined) filters.push(`id < ${arg(q.starting_after)}`);
  if (referrerId !== undefined) filters.push(`referrer_customer_id = ${arg(referrerId)}`);
  const limit = arg(q.limit + 1);

  const select = (extra: string[]) =>
    `select * from referrals where ${['workspace_id = $1', ...filters, ...extra].join(' and ')}
     order by id desc limit ${limit}`;

  let rows: ReferralRow[];
  const role = q.role ?? 'any';
  if (customerId === undefined) {
    rows = await sql.query<ReferralRow>(select([]), params);
  } else if (role !== 'any') {
    const column = role === 'referrer' ? 'referrer_customer_id' : 'referee_customer_id';
    rows = await sql.query<ReferralRow>(select([`${column} = ${arg(customerId)}`]), params);
  } else {
    // Either side: two index walks in id order, merged. An OR of the two columns would make the
    // store read every matching row before sorting; each branch here stops at one page.
    const c = arg(customerId);
    const [asReferrer, asReferee] = await Promise.all([
      sql.query<ReferralRow>(select([`referrer_customer_id = ${c}`]), params),
      sql.query<ReferralRow>(select([`referee_customer_id = ${c}`]), params),
    ]);
    const byId = new Map<string, ReferralRow>();
    for (const r of [...asReferrer, ...asReferee]) byId.set(r.id, r);
    rows = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, q.limit + 1);
  }

  const page = rows.slice(0, q.limit);
  return {
    object: 'list' as const,
    data: await withDisplayFacts(sql, ws, page),
    has_more: rows.length > q.limit,
  };
}

function emptyPage() {
  return { object: 'list' as const, data: [], has_more: false };
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/**
 * What a list of referrals needs to be read by a person: the customers' own (external) ids and what
 * each referral paid, per recipient and asset. Two queries for the whole page, each by primary key
 * or by the rewards' referral index.
 */
async function withDisplayFacts(sql: Sql, ws: string, rows: readonly ReferralRow[]) {
  if (rows.length === 0) return [];
  const customerIds = [...new Set(rows.flatMap((r) => [r.referrer_customer_id, r.referee_customer_id]))];
  const [customers, rewards, views] = await Promise.all([
    sql.query<{ id: string; external_id: string }>(
      'select id, external_id from customers where workspace_id = $1 and id = any($2::text[])',
      [ws, customerIds],
    ),
    sql.query<{ referral_id: string; recipient: string; asset: string; granted: number; reversed: number }>(
      `select referral_id, recipient, asset, sum(amount)::int8 as granted, sum(reversed_amount)::int8 as reversed
       from referral_rewards
       where workspace_id = $1 and referral_id = any($2::text[]) and status <> 'skipped'
       group by referral_id, recipient, asset order by referral_id, recipient desc, asset`,
      [ws, rows.map((r) => r.id)],
    ),
    referralViews(sql, ws, rows),
  ]);
  const external = new Map(customers.map((c) => [c.id, c.external_id]));
  return views.map((v) => ({
    ...v,
    referrer_external_id: external.get(v.referrer) ?? null,
    referee_external_id: external.get(v.referee) ?? null,
    rewards: rewards
      .filter((r) => r.referral_id === v.id)
      .map((r) => ({
        recipient: r.recipient as 'referrer' | 'referee',
        asset: r.asset,
        granted: r.granted,
        reversed: r.reversed,
        net: r.granted - r.reversed,
      })),
  }));
}
