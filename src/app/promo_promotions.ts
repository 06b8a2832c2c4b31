import { PerksError } from '../core/errors.js';
import type { Duration } from '../core/promo/discount.js';
import { checkTerms, type PromotionFacts, type PromotionTerms } from '../core/promo/rules.js';
import { type BoundaryInput, canonicalTimeZone, resolveBoundary } from '../core/promo/time.js';
import { isInInstantRange, outOfInstantRange } from '../core/time/instants.js';
import type { Deps, Sql } from './ports.js';

/** Promotions: the offer that codes give access to. Immutable once created, so redemptions never drift. */

export interface PromotionInput {
  name: string;
  percent_off_bps?: number | undefined;
  amount_off?: number | undefined;
  currency?: string | undefined;
  max_discount_amount?: number | undefined;
  duration?: Duration | undefined;
  duration_periods?: number | undefined;
  applies_to?: string[] | undefined;
  first_time_only?: boolean | undefined;
  minimum_amount?: number | undefined;
  starts_at?: BoundaryInput | undefined;
  expires_at?: BoundaryInput | undefined;
  time_zone?: string | undefined;
  max_redemptions?: number | undefined;
  max_per_customer?: number | undefined;
  stackable?: boolean | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface PromotionRow {
  workspace_id: string;
  id: string;
  name: string;
  percent_off_bps: number | null;
  amount_off: number | null;
  currency: string | null;
  max_discount_amount: number | null;
  duration: Duration;
  duration_periods: number | null;
  applies_to: string[] | null;
  first_time_only: boolean;
  minimum_amount: number | null;
  starts_at: Date | null;
  expires_at: Date | null;
  time_zone: string;
  max_redemptions: number | null;
  max_per_customer: number;
  stackable: boolean;
  redeemed_against_limit: number;
  metadata: Record<string, string>;
  created_at: Date;
}

export const DEFAULT_TIME_ZONE = 'UTC';

export function requireTimeZone(name: string | undefined, param = 'time_zone'): string {
  if (name === undefined) return DEFAULT_TIME_ZONE;
  const zone = canonicalTimeZone(name);
  if (!zone) {
    throw new PerksError(
      'parameter_invalid',
      `'${param}': '${name}' is not an IANA time zone name (e.g. America/New_York or UTC)`,
      param,
    );
  }
  return zone;
}

/** Resolves a window boundary; a date that does not exist in the zone (skipped by it) is refused. */
export function boundary(
  input: BoundaryInput | undefined,
  edge: 'start' | 'end',
  zone: string,
  param: string,
): Date | null {
  if (input === undefined) return null;
  const at = resolveBoundary(input, edge, zone);
  if (!at)
    throw new PerksError('parameter_invalid', `'${param}': that date does not exist in ${zone}`, param);
  if (!isInInstantRange(at)) {
    // A promotion without an end leaves expires_at out; a far-off date is no way to say so.
    throw new PerksError(
      'parameter_invalid',
      `'${param}': ${outOfInstantRange(at)}${edge === 'end' ? ' (leave expires_at out for no expiry)' : ''}`,
      param,
    );
  }
  return at;
}

/** The columns of a promotion that its rules read. */
export type PromotionTermsRow = Pick<
  PromotionRow,
  | 'percent_off_bps'
  | 'amount_off'
  | 'currency'
  | 'max_discount_amount'
  | 'duration'
  | 'duration_periods'
  | 'applies_to'
  | 'first_time_only'
  | 'minimum_amount'
  | 'starts_at'
  | 'expires_at'
  | 'max_redemptions'
  | 'max_per_customer'
  | 'stackable'
  | 'redeemed_against_limit'
>;

export function termsOf(row: PromotionTermsRow): PromotionFacts {
  return {
    percent_off_bps: row.percent_off_bps,
    amount_off: row.amount_off,
    currency: row.currency,
    max_discount_amount: row.max_discount_amount,
    duration: row.duration,
    duration_periods: row.duration_periods,
    applies_to: row.applies_to,
    first_time_only: row.first_time_only,
    minimum_amount: row.minimum_amount,
    starts_at: row.starts_at,
    expires_at: row.expires_at,
    max_redemptions: row.max_redemptions,
    max_per_customer: row.max_per_customer,
    stackable: row.stackable,
    times_redeemed: row.redeemed_against_limit,
  };
}

export async function createPromotion(deps: Deps, tx: Sql, workspaceId: string, input: PromotionInput) {
  const zone = requireTimeZone(input.time_zone);
  const terms: PromotionTerms = {
    percent_off_bps: input.percent_off_bps ?? null,
    amount_off: input.amount_off ?? null,
    currency: input.currency ?? null,
    max_discount_amount: input.max_discount_amount ?? null,
    duration: input.duration ?? 'once',
    duration_periods: input.duration_periods ?? null,
    applies_to: input.applies_to ?? null,
    first_time_only: input.first_time_only ?? false,
    minimum_amount: input.minimum_amount ?? null,
    starts_at: boundary(input.starts_at, 'start', zone, 'starts_at'),
    expires_at: boundary(input.expires_at, 'end', zone, 'expires_at'),
    max_redemptions: input.max_redemptions ?? null,
    max_per_customer: input.max_per_customer ?? 1,
    stackable: input.stackable ?? false,
  };
  const issue = checkTerms(terms);
  if (issue) throw new PerksError(issue.code, `'${issue.param}': ${issue.message}`, issue.param);
  const rows = await tx.query<PromotionRow>(
    `insert into promotions (workspace_id, id, name, percent_off_bps, amount_off, currency, max_discount_amount,
       duration, duration_periods, applies_to, first_time_only, minimum_amount, starts_at, expires_at, time_zone,
       max_redemptions, max_per_customer, stackable, metadata, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
     returning *`,
    [
      workspaceId,
      deps.ids.id('promo'),
      input.name,
      terms.percent_off_bps,
      terms.amount_off,
      terms.currency,
      terms.max_discount_amount,
      terms.duration,
      terms.duration_periods,
      terms.applies_to === null ? null : JSON.stringify(terms.applies_to),
      terms.first_time_only,
      terms.minimum_amount,
      terms.starts_at,
      terms.expires_at,
      zone,
      terms.max_redemptions,
      terms.max_per_customer,
      terms.stackable,
      input.metadata ?? {},
      deps.clock.now(),
    ],
  );
  return promotionView(tx, rows[0]!);
}

export async function findPromotion(sql: Sql, workspaceId: string, id: string, lock = false) {
  const rows = await sql.query<PromotionRow>(
    `select * from promotions where workspace_id = $1 and id = $2${lock ? ' for share' : ''}`,
    [workspaceId, id],
  );
  return rows[0];
}

export async function requirePromotion(sql: Sql, workspaceId: string, id: string, param = 'promotion') {
  const row = await findPromotion(sql, workspaceId, id);
  if (!row) throw new PerksError('resource_not_found', `no promotion '${id}'`, param);
  return row;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Redemptions shown for a promotion: active ones over all its codes (voided ones give the use back). */
async function timesRedeemed(sql: Sql, workspaceId: string, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, number>();
  const rows = await sql.query<{ promotion_id: string; n: number }>(
    `select promotion_id, coalesce(sum(times_redeemed), 0)::int8 as n from promotion_codes
     where workspace_id = $1 and promotion_id = any($2::text[]) group by promotion_id`,
    [workspaceId, ids],
  );
  return new Map(rows.map((r) => [r.promotion_id, r.n]));
}

function view(row: PromotionRow, redeemed: number) {
  return {
    id: row.id,
    object: 'promotion' as const,
    name: row.name,
    percent_off_bps: row.percent_off_bps,
    amount_off: row.amount_off,
    currency: row.currency,
    max_discount_amount: row.max_discount_amount,
    duration: row.duration,
    duration_periods: row.duration_periods,
    applies_to: row.applies_to,
    first_time_only: row.first_time_only,
    minimum_amount: row.minimum_amount,
    starts_at: iso(row.starts_at),
    expires_at: iso(row.expires_at),
    time_zone: row.time_zone,
    max_redemptions: row.max_redemptions,
    max_per_customer: row.max_per_customer,
    stackable: row.stackable,
    times_redeemed: redeemed,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
  };
}

export type PromotionView = ReturnType<typeof view>;

export async function promotionView(sql: Sql, row: PromotionRow): Promise<PromotionView> {
  const counts = await timesRedeemed(sql, row.workspace_id, [row.id]);
  return view(row, counts.get(row.id) ?? 0);
}

export interface PromotionFilter {
  limit: number;
  starting_after?: string | undefined;
  /** Only promotions valid at this instant (inside their window). */
  valid_at?: Date | undefined;
  /** Only promotions that apply to this plan id (those without applies_to apply to every plan). */
  plan?: string | undefined;
}

export async function listPromotions(sql: Sql, workspaceId: string, filter: PromotionFilter) {
  const rows = await sql.query<PromotionRow>(
    `select * from promotions where workspace_id = $1 and ($2::text is null or id < $2)
       and ($3::timestamptz is null or ((starts_at is null or starts_at <= $3) and (expires_at is null or expires_at > $3)))
       and ($5::text is null or applies_to is null or applies_to ? $5)
     order by id desc limit $4`,
    [
      workspaceId,
      filter.starting_after ?? null,
      filter.valid_at ?? null,
      filter.limit + 1,
      filter.plan ?? null,
    ],
  );
  const page = rows.slice(0, filter.limit);
  const counts = await timesRedeemed(
    sql,
    workspaceId,
    page.map((r) => r.id),
  );
  return {
    object: 'list' as const,
    data: page.map((r) => view(r, counts.get(r.id) ?? 0)),
    has_more: rows.length > filter.limit,
  };
}
