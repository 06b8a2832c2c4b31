import { PerksError } from '../core/errors.js';
import { normalizeCode } from '../core/promo/normalize.js';
import {
  type Accepted,
  type CodeFacts,
  decideRedemption,
  type Rejected,
  type Rejection,
} from '../core/promo/rules.js';
import { requireCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';
import { assertNotBlocked, ipSubject } from './promo_failures.js';
import { type PromotionTermsRow, termsOf } from './promo_promotions.js';

/**
 * Validating and redeeming codes, and voiding redemptions.
 *
 * A redemption reads its facts in one call (promo_redemption_facts), asks the core whether the code
 * may be redeemed, then writes in one call (promo_redeem) that enforces the customer's and the
 * subscription's limits again with conditional writes; the promotion's and the code's counters are
 * taken by a trigger deferred to COMMIT, so the row every redemption of a popular code contends on is
 * locked for the commit alone. Locks are taken in one order (customer's uses, subscription slot,
 * promotion counter, code counter), which void follows too.
 */

export interface RedeemInput {
  code: string;
  customer: string;
  subscription?: string | undefined;
  plan?: string | undefined;
  amount?: number | undefined;
  currency?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface RedemptionRow {
  workspace_id: string;
  id: string;
  promotion_id: string;
  promotion_code_id: string;
  code: string;
  customer_id: string;
  subscription_id: string | null;
  slot_key: string;
  stackable: boolean;
  periods_total: number | null;
  applies_from: Date | null;
  metadata: Record<string, string>;
  redeemed_at: Date;
  completed_at: Date | null;
  voided_at: Date | null;
}

/** One row of promo_redemption_facts (migration 0005_promotions_functions.sql). */
interface FactsRow extends PromotionTermsRow {
  id: string | null;
  code_id: string | null;
  code_text: string | null;
  code_customer_id: string | null;
  code_max_redemptions: number | null;
  code_times_redeemed: number | null;
  code_expires_at: Date | null;
  cust_id: string | null;
  sub_customer_id: string | null;
  sub_plan_id: string | null;
  sub_amount: number | null;
  sub_currency: string | null;
  sub_status: string | null;
  paid_through: Date | null;
  customer_uses: number | null;
  has_paid: boolean;
  slot_active: number | null;
  slot_exclusive: number | null;
  cust_failures: number | null;
  cust_window: Date | null;
  ip_failures: number | null;
  ip_window: Date | null;
}

/** Where a rejection points in the request. */
const REJECTION_PARAM: Record<Rejection, string> = {
  code_invalid: 'code',
  code_expired: 'code',
  code_not_yet_active: 'code',
  code_exhausted: 'code',
  code_already_used_by_customer: 'customer',
  subscription_already_has_promotion: 'subscription',
  not_first_time: 'customer',
  minimum_not_met: 'amount',
  plan_not_eligible: 'plan',
  code_bound_to_other_customer: 'customer',
  promotion_currency_mismatch: 'currency',
};

export function rejectionError(r: Rejected): PerksError {
  return new PerksError(r.reason, r.message, REJECTION_PARAM[r.reason], r.details);
}

/** The code and promotion a request names, when both exist. */
interface Found {
  promotionId: string;
  codeId: string;
  code: string;
}

type Evaluation = { facts: FactsRow; customerId: string; slotKey: string } & (
  { ok: false; decision: Rejected } | { ok: true; decision: Accepted; found: Found }
);

/**
 * Loads the facts and decides. Throws for what is not an answer about the code (unknown customer, a
 * subscription of another customer, too many failures); returns the decision otherwise.
 */
async function evaluate(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<Evaluation> {
  const normal = normalizeCode(input.code);
  // A malformed code is looked up as "no code" so it is answered exactly like an unknown one.
  const code = normal.ok ? normal.code : null;
  const [facts] = await tx.query<FactsRow>('select * from promo_redemption_facts($1, $2, $3, $4, $5)', [
    workspaceId,
    input.customer,
    code,
    input.subscription ?? null,
    ip ? ipSubject(ip) : null,
  ]);
  if (!facts?.cust_id) {
    throw new PerksError('resource_not_found', `no customer '${input.customer}'`, 'customer');
  }
  const now = deps.clock.now();
  assertNotBlocked(
    {
      customer:
        facts.cust_failures === null || facts.cust_window === null
          ? null
          : { failures: facts.cust_failures, window_started_at: facts.cust_window },
      ip:
        facts.ip_failures === null || facts.ip_window === null
          ? null
          : { failures: facts.ip_failures, window_started_at: facts.ip_window },
    },
    now,
  );
  if (input.subscription !== undefined && facts.sub_customer_id !== null) {
    if (facts.sub_customer_id !== facts.cust_id) {
      throw new PerksError(
        'parameter_invalid',
        `'subscription': subscription '${input.subscription}' belongs to another customer`,
        'subscription',
      );
    }
    if (facts.sub_status === 'canceled') {
      throw new PerksError(
        'parameter_invalid',
        `'subscription': subscription '${input.subscription}' is canceled`,
        'subscription',
      );
    }
  }
  const found: Found | undefined =
    facts.id !== null && facts.code_id !== null && facts.code_text !== null
      ? { promotionId: facts.id, codeId: facts.code_id, code: facts.code_text }
      : undefined;
  const codeFacts: CodeFacts | undefined = found && {
    code: found.code,
    customer_id: facts.code_customer_id,
    max_redemptions: facts.code_max_redemptions,
    times_redeemed: facts.code_times_redeemed ?? 0,
    expires_at: facts.code_expires_at,
  };
  const decision = decideRedemption(found && termsOf(facts), codeFacts, {
    now,
    customer_id: facts.cust_id,
    customer_uses: facts.customer_uses ?? 0,
    has_paid: facts.has_paid,
    slot: {
      kind: input.subscription === undefined ? 'customer' : 'subscription',
      active: facts.slot_active ?? 0,
      exclusive: facts.slot_exclusive ?? 0,
    },
    plan: input.plan ?? facts.sub_plan_id,
    amount: input.amount ?? facts.sub_amount,
    currency: input.currency ?? facts.sub_currency,
    paid_through: facts.paid_through,
  });
  const slotKey = input.subscription === undefined ? `cus:${facts.cust_id}` : `sub:${input.subscription}`;
  const base = { facts, customerId: facts.cust_id, slotKey };
  if (!decision.ok) return { ...base, ok: false, decision };
  // decideRedemption answers code_invalid when the code or its promotion is missing.
  if (!found) throw new Error('an accepted redemption always names an existing code');
  return { ...base, ok: true, decision, found };
}

function discountView(p: FactsRow, promotionId: string, accepted: Accepted) {
  return {
    promotion_id: promotionId,
    percent_off_bps: p.percent_off_bps,
    amount_off: p.amount_off,
    currency: p.currency,
    max_discount_amount: p.max_discount_amount,
    duration: p.duration,
    duration_periods: p.duration_periods,
    periods_total: accepted.periods_total,
    applies_from: accepted.applies_from?.toISOString() ?? null,
    stackable: p.stackable,
  };
}

export type DiscountView = ReturnType<typeof discountView>;

export interface ValidationView {
  object: 'promotion_code_validation';
  valid: boolean;
  code: string | null;
  promotion_code_id: string | null;
  discount: DiscountView | null;
  preview: Accepted['preview'];
  error: { code: Rejection; message: string; param: string } | null;
}

/** The dry run: the same checks as a redemption, and nothing written. */
export async function validateCode(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<ValidationView> {
  const ev = await evaluate(deps, tx, workspaceId, input, ip);
  if (!ev.ok) {
    const { reason, message } = ev.decision;
    return {
      object: 'promotion_code_validation',
      valid: false,
      // Echoing nothing for an invalid code keeps unknown and malformed codes indistinguishable.
      code: reason === 'code_invalid' ? null : ev.facts.code_text,
      promotion_code_id: null,
      discount: null,
      preview: null,
      error: { code: reason, message, param: REJECTION_PARAM[reason] },
    };
  }
  return {
    object: 'promotion_code_validation',
    valid: true,
    code: ev.found.code,
    promotion_code_id: ev.found.codeId,
    discount: discountView(ev.facts, ev.found.promotionId, ev.decision),
    preview: ev.decision.preview,
    error: null,
  };
}

/** What promo_redeem reports: 1 for each limit that took the use, 0 for the one that refused it. */
interface WriteResult {
  uses_ok: number;
  slot_ok: number | null;
}

/**
 * Redeems a code: the same checks as validate, then one statement that takes the customer's use and
 * the subscription's slot and records the redemption. The code's and the promotion's counters are
 * taken when the transaction commits (a deferred trigger), so a commit can fail with a limit reached:
 * `redemptionCommitError` turns that failure into code_exhausted. Any refusal rolls everything back.
 */
export async function redeemCode(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<RedemptionView> {
  const ev = await evaluate(deps, tx, workspaceId, input, ip);
  if (!ev.ok) throw rejectionError(ev.decision);
  const { facts, customerId, slotKey, decision, found } = ev;
  const { promotionId, codeId } = found;
  const row: RedemptionRow = {
    workspace_id: workspaceId,
    id: deps.ids.id('redm'),
    promotion_id: promotionId,
    promotion_code_id: codeId,
    code: found.code,
    customer_id: customerId,
    subscription_id: input.subscription ?? null,
    slot_key: slotKey,
    stackable: facts.stackable,
    periods_total: decision.periods_total,
    applies_from: decision.applies_from,
    metadata: input.metadata ?? {},
    redeemed_at: deps.clock.now(),
    completed_at: null,
    voided_at: null,
  };
  const [result] = await tx.query<WriteResult>(
    'select * from promo_redeem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)',
    [
      workspaceId,
      promotionId,
      customerId,
      facts.max_per_customer,
      slotKey,
      facts.stackable ? 0 : 1,
      codeId,
      row.id,
      row.code,
      row.subscription_id,
      row.stackable,
      row.periods_total,
      row.applies_from,
      JSON.stringify(row.metadata),
      row.redeemed_at,
      facts.cust_failures !== null,
    ],
  );
  if (!result || result.uses_ok !== 1 || result.slot_ok !== 1) throw rejectionError(raceLoser(facts, result));
  return redemptionView(row, 0);
}

/** Which limit a concurrent redemption reached first, from what promo_redeem reports. */
function raceLoser(facts: FactsRow, row: WriteResult | undefined): Rejected {
  if (!row || row.uses_ok === 0) {
    return {
      ok: false,
      reason: 'code_already_used_by_customer',
      message: 'this customer has already used this promotion',
      details: { max_per_customer: facts.max_per_customer },
    };
  }
  return {
    ok: false,
    reason: 'subscription_already_has_promotion',
    message: 'this subscription already has a promotion; only stackable promotions combine',
  };
}

/**
 * The typed answer for a redemption whose COMMIT failed because the code's or the promotion's limit
 * was reached by concurrent redemptions (SQLSTATE PRX01/PRX02 from promo_take_redemption_use), or
 * undefined for any other failure.
 */
export function redemptionCommitError(err: unknown): PerksError | undefined {
  const e = err as { code?: unknown; detail?: unknown } | null;
  if (!e || (e.code !== 'PRX01' && e.code !== 'PRX02')) return undefined;
  const max = Number(e.detail);
  const what = e.code === 'PRX01' ? 'promotion' : 'code';
  return rejectionError({
    ok: false,
    reason: 'code_exhausted',
    message: `this ${what} has reached its limit of ${max} redemptions`,
    details: { max_redemptions: max },
  });
}

/**
 * Voids a redemption and gives its use back (code and promotion counts, the customer's uses, the
 * subscription's slot), taking the same locks in the same order as a redemption. Voiding twice
 * answers the voided redemption again. Discounts already applied to invoices stay on them.
 */
export async function voidRedemption(deps: Deps, tx: Sql, workspaceId: string, id: string) {
  const [r] = await tx.query<RedemptionRow>(
    'select * from redemptions where workspace_id = $1 and id = $2 for update',
    [workspaceId, id],
  );
  if (!r) throw new PerksError('resource_not_found', `no redemption '${id}'`, 'id');
  if (r.voided_at) return redemptionView(r, await periodsApplied(tx, workspaceId, r.id));
  const now = deps.clock.now();
  const [voided] = await tx.query<RedemptionRow>(
    'update redemptions set voided_at = $3 where workspace_id = $1 and id = $2 returning *',
    [workspaceId, id, now],
  );
  await tx.query(
    `update promotion_customer_uses set uses = uses - 1
     where workspace_id = $1 and promotion_id = $2 and customer_id = $3`,
    [workspaceId, r.promotion_id, r.customer_id],
  );
  // A completed redemption already gave its slot back when its last invoice was settled.
  if (!r.completed_at) {
    await tx.query(
      `update promotion_slots set active_count = active_count - 1, exclusive_count = exclusive_count - $3
       where workspace_id = $1 and slot_key = $2`,
      [workspaceId, r.slot_key, r.stackable ? 0 : 1],
    );
  }
  await tx.query(
    `update promotions set redeemed_against_limit = redeemed_against_limit - 1
     where workspace_id = $1 and id = $2 and max_redemptions is not null`,
    [workspaceId, r.promotion_id],
  );
  await tx.query(
    'update promotion_codes set times_redeemed = times_redeemed - 1 where workspace_id = $1 and id = $2',
    [workspaceId, r.promotion_code_id],
  );
  return redemptionView(voided!, await periodsApplied(tx, workspaceId, r.id));
}

async function periodsApplied(sql: Sql, workspaceId: string, redemptionId: string) {
  const counts = await periodsAppliedMany(sql, workspaceId, [redemptionId]);
  return counts.get(redemptionId) ?? 0;
}

export async function periodsAppliedMany(sql: Sql, workspaceId: string, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, number>();
  const rows = await sql.query<{ redemption_id: string; n: number }>(
    `select redemption_id, count(*)::int8 as n from promotion_discounts
     where workspace_id = $1 and redemption_id = any($2::text[]) and voided_at is null group by redemption_id`,
    [workspaceId, ids],
  );
  return new Map(rows.map((r) => [r.redemption_id, r.n]));
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function redemptionView(r: RedemptionRow, applied: number) {
  return {
    id: r.id,
    object: 'redemption' as const,
    promotion_id: r.promotion_id,
    promotion_code_id: r.promotion_code_id,
    code: r.code,
    customer_id: r.customer_id,
    subscription: r.subscription_id,
    status: r.voided_at ? ('voided' as const) : r.completed_at ? ('completed' as const) : ('active' as const),
    stackable: r.stackable,
    periods_total: r.periods_total,
    periods_applied: applied,
    periods_remaining: r.periods_total === null ? null : Math.max(0, r.periods_total - applied),
    applies_from: iso(r.applies_from),
    metadata: r.metadata,
    redeemed_at: r.redeemed_at.toISOString(),
    completed_at: iso(r.completed_at),
    voided_at: iso(r.voided_at),
  };
}

export type RedemptionView = ReturnType<typeof redemptionView>;

export async function getRedemption(sql: Sql, workspaceId: string, id: string) {
  const [r] = await sql.query<RedemptionRow>(
    'select * from redemptions where workspace_id = $1 and id = $2',
    [workspaceId, id],
  );
  if (!r) throw new PerksError('resource_not_found', `no redemption '${id}'`, 'id');
  return redemptionView(r, await periodsApplied(sql, workspaceId, r.id));
}

export interface RedemptionFilter {
  limit: number;
  starting_after?: string | undefined;
  customer?: string | undefined;
  subscription?: string | undefined;
  promotion?: string | undefined;
  promotion_code?: string | undefined;
  status?: 'active' | 'completed' | 'voided' | undefined;
}

export async function listRedemptions(sql: Sql, workspaceId: string, f: RedemptionFilter) {
  const customerId =
    f.customer === undefined ? null : (await requireCustomer(sql, workspaceId, f.customer)).id;
  const rows = await sql.query<RedemptionRow>(
    `select * from redemptions where workspace_id = $1 and ($2::text is null or id < $2)
       and ($3::text is null or customer_id = $3) and ($4::text is null or subscription_id = $4)
       and ($5::text is null or promotion_id = $5) and ($6::text is null or promotion_code_id = $6)
       and ($7::text is null
         or ($7 = 'voided' and voided_at is not null)
         or ($7 = 'completed' and voided_at is null and completed_at is not null)
         or ($7 = 'active' and voided_at is null and completed_at is null))
     order by id desc limit $8`,
    [
      workspaceId,
      f.starting_after ?? null,
      customerId,
      f.subscription ?? null,
      f.promotion ?? null,
      f.promotion_code ?? null,
      f.status ?? null,
      f.limit + 1,
    ],
  );
  const page = rows.slice(0, f.limit);
  const applied = await periodsAppliedMany(
    sql,
    workspaceId,
    page.map((r) => r.id),
  );
  return {
    object: 'list' as const,
    data: page.map((r) => redemptionView(r, applied.get(r.id) ?? 0)),
    has_more: rows.length > f.limit,
  };
}
