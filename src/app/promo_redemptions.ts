import { PerksError } from '../core/errors.js';
import { normalizeCode } from '../core/promo/normalize.js';
import {
  type Accepted,
  type CodeFacts,
  decideRedemption,
  type Rejected,
  type Rejection,
  promotionHeldMessage,
  redemptions,
  type SlotFacts,
  slotKey,
  slotKind,
  slotTakenMessage,
} from '../core/promo/rules.js';
import { requireCustomer } from './customers.js';
import { emitWebhookEvent, subscribes } from './outbox_webhooks.js';
import type { Deps, Sql } from './ports.js';
import { assertNotBlocked, currentBlock, guessingWriteError, ipSubject } from './promo_failures.js';
import { type FactsRow, readFacts } from './promo_facts.js';
import { type RedemptionWrite, takeRedemption, writeRedemption } from './promo_redemption_writes.js';
import { termsOf } from './promo_promotions.js';

/**
 * Validating and redeeming codes, and voiding redemptions.
 *
 * A redemption reads its facts in one call (promo_facts.ts), asks the core whether the code
 * may be redeemed, then writes in one call (promo_redeem) that enforces the customer's and the
 * subscription's limits again with conditional writes, raising when one is reached; the promotion's
 * and the code's counters are taken by a trigger deferred to COMMIT, so the row every redemption of a
 * popular code contends on is locked for the commit alone. Locks are taken in one order (customer's
 * uses, subscription slot, the slot's hold on the promotion, promotion counter, code counter), which
 * void follows too.
 *
 * Each read is one statement and sees a fresh snapshot (READ COMMITTED) whether or not it runs inside
 * a transaction, and every limit is enforced again by the write, so a redemption without an enclosing
 * transaction (`redeemCodeStandalone`) reads its facts on their own and needs a transaction only
 * around its write and the webhook it emits: two round trips to the database in all, each shared with
 * the redemptions of the workspace that arrived while its previous read or write was in flight.
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

/**
 * Where a rejection points in the request: a redemption that names no subscription takes the
 * customer's slot, so a slot already taken points at the customer.
 */
function rejectionParam(reason: Rejection, slot: SlotFacts['kind']): string {
  return reason === 'subscription_already_has_promotion' && slot === 'customer'
    ? 'customer'
    : REJECTION_PARAM[reason];
}

export function rejectionError(r: Rejected, slot: SlotFacts['kind'] = 'subscription'): PerksError {
  return new PerksError(r.reason, r.message, rejectionParam(r.reason, slot), r.details);
}

const slotOf = (input: { subscription?: string | undefined }): SlotFacts['kind'] =>
  input.subscription === undefined ? 'customer' : 'subscription';

/** The code and promotion a request names, when both exist. */
interface Found {
  promotionId: string;
  codeId: string;
  code: string;
}

type Evaluation = { facts: FactsRow; customerId: string; slotKey: string; ipSubject: string | null } & (
  { ok: false; decision: Rejected } | { ok: true; decision: Accepted; found: Found }
);

/**
 * Loads the facts and decides. Throws for what is not an answer about the code (unknown customer, a
 * subscription of another customer, too many failures); returns the decision otherwise.
 */
async function evaluate(
  deps: Deps,
  tx: Sql | undefined,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<Evaluation> {
  const normal = normalizeCode(input.code);
  // A malformed code is looked up as "no code" so it is answered exactly like an unknown one.
  const code = normal.ok ? normal.code : null;
  const ipDigest = ip ? ipSubject(ip) : null;
  const facts = await readFacts(deps.db, tx, workspaceId, {
    customer: input.customer,
    code,
    subscription: input.subscription ?? null,
    ipSubject: ipDigest,
  });
  if (!facts.cust_id) {
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
      promotion_active: facts.slot_promotion_active ?? 0,
    },
    plan: input.plan ?? facts.sub_plan_id,
    amount: input.amount ?? facts.sub_amount,
    currency: input.currency ?? facts.sub_currency,
    paid_through: facts.paid_through,
  });
  // A subscription named by its Perks id takes the same slot as by the caller's id (facts.sub_ref).
  const base = {
    facts,
    customerId: facts.cust_id,
    slotKey: slotKey(facts.sub_ref, facts.cust_id),
    ipSubject: ipDigest,
  };
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
  /** The refusal as redeem would answer it: its code, message, param and the facts it names. */
  error: ({ code: Rejection; message: string; param: string } & Record<string, unknown>) | null;
}

/**
 * The dry run: the same checks as a redemption, and nothing written. One statement, in the caller's
 * transaction (an idempotent request's) when given one, else grouped with the workspace's other reads;
 * a valid code takes a second, reading the guessing counters as they are by then.
 */
export async function validateCode(
  deps: Deps,
  tx: Sql | undefined,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<ValidationView> {
  const ev = await evaluate(deps, tx, workspaceId, input, ip);
  if (!ev.ok) {
    const { reason, message, details } = ev.decision;
    return {
      object: 'promotion_code_validation',
      valid: false,
      // Echoing nothing for an invalid code keeps unknown and malformed codes indistinguishable.
      code: reason === 'code_invalid' ? null : ev.facts.code_text,
      promotion_code_id: null,
      discount: null,
      preview: null,
      error: { ...details, code: reason, message, param: rejectionParam(reason, slotOf(input)) },
    };
  }
  // The facts were read before concurrent attempts counted their failures: a burst of guesses must
  // not tell which one is valid once the limit is reached (a redemption checks this as it writes).
  const blocked = await currentBlock(deps, tx ?? deps.db, workspaceId, ev.customerId, ev.ipSubject);
  if (blocked) throw blocked;
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

/**
 * Redeems a code in the caller's transaction (an idempotent request's, or a Stripe event's): the same
 * checks as validate, then one statement that takes the customer's use and the subscription's slot and
 * records the redemption, and the `promotion_code.redeemed` webhook. The code's and the promotion's
 * counters are taken when the transaction commits (a deferred trigger), so a commit can fail with a
 * limit reached: `redemptionLimitError` turns that failure into code_exhausted. Any refusal rolls
 * everything back.
 */
export async function redeemCode(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<RedemptionView> {
  return redeem(deps, workspaceId, input, ip, tx);
}

/**
 * Redeems a code outside any transaction of the caller's, in two round trips: the facts, then the
 * write as one statement, which is a transaction of its own (its counters are taken at its end) and
 * may carry other redemptions of the workspace accepted meanwhile (promo_redemption_writes.ts). Only
 * when a webhook endpoint listens does the write get a transaction around it and the webhook.
 */
export async function redeemCodeStandalone(
  deps: Deps,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
): Promise<RedemptionView> {
  return redeem(deps, workspaceId, input, ip, undefined);
}

async function redeem(
  deps: Deps,
  workspaceId: string,
  input: RedeemInput,
  ip: string | undefined,
  tx: Sql | undefined,
): Promise<RedemptionView> {
  const ev = await evaluate(deps, tx, workspaceId, input, ip);
  if (!ev.ok) throw rejectionError(ev.decision, slotOf(input));
  const { facts, customerId, slotKey, decision, found } = ev;
  const row: RedemptionRow = {
    workspace_id: workspaceId,
    id: deps.ids.id('redm'),
    promotion_id: found.promotionId,
    promotion_code_id: found.codeId,
    code: found.code,
    customer_id: customerId,
    subscription_id: facts.sub_ref,
    slot_key: slotKey,
    stackable: facts.stackable,
    periods_total: decision.periods_total,
    applies_from: decision.applies_from,
    metadata: input.metadata ?? {},
    redeemed_at: deps.clock.now(),
    completed_at: null,
    voided_at: null,
  };
  const view = redemptionView(row, 0);
  const write: RedemptionWrite = {
    workspace_id: workspaceId,
    promotion_id: row.promotion_id,
    customer_id: customerId,
    max_per_customer: facts.max_per_customer,
    slot_key: slotKey,
    exclusive: row.stackable ? 0 : 1,
    promotion_code_id: row.promotion_code_id,
    id: row.id,
    code: row.code,
    subscription_id: row.subscription_id,
    stackable: row.stackable,
    periods_total: row.periods_total,
    applies_from: row.applies_from,
    metadata: row.metadata,
    redeemed_at: row.redeemed_at,
    clear_failures: facts.cust_failures !== null,
    ip_subject: ev.ipSubject,
  };
  // When no endpoint subscribes there is nothing to emit, and without a caller's transaction the
  // write is a statement of its own. Read with the facts, the endpoints are as current as the ones
  // emitWebhookEvent would read: each statement sees what was committed when it started.
  const listening = facts.webhook_endpoints.some((e) => subscribes(e, 'promotion_code.redeemed'));
  const tell = (sql: Sql) => emitWebhookEvent(deps, sql, workspaceId, 'promotion_code.redeemed', view);
  try {
    if (!tx) await writeRedemption(deps, write, listening ? tell : undefined);
    else {
      await takeRedemption(tx, write);
      if (listening) await tell(tx);
    }
  } catch (err) {
    throw redemptionLimitError(err) ?? guessingWriteError(err, deps.clock.now()) ?? err;
  }
  return view;
}

/**
 * The typed answer for a redemption refused by the database because a concurrent redemption reached a
 * limit first, or undefined for any other failure. The SQLSTATEs come from promo_redeem (PRX03 the
 * customer's limit, PRX04 the subscription's slot, PRX07 the slot already holding the promotion) and,
 * at commit, from promo_take_redemption_use (PRX01 the promotion's limit, PRX02 the code's); the
 * detail carries the limit (the slot's key for PRX07).
 */
export function redemptionLimitError(err: unknown): PerksError | undefined {
  const e = err as { code?: unknown; detail?: unknown; message?: unknown } | null;
  switch (e?.code) {
    case 'PRX01':
    case 'PRX02': {
      const max = Number(e.detail);
      const what = e.code === 'PRX01' ? 'promotion' : 'code';
      return rejectionError({
        ok: false,
        reason: 'code_exhausted',
        message: `this ${what} has reached its limit of ${redemptions(max)}`,
        details: { max_redemptions: max },
      });
    }
    case 'PRX03':
      return rejectionError({
        ok: false,
        reason: 'code_already_used_by_customer',
        message: 'this customer has already used this promotion',
        details: { max_per_customer: Number(e.detail) },
      });
    case 'PRX04': {
      // The message names the slot: 'slot <key> already holds a promotion'.
      const kind = slotKind(/^slot (\S+)/.exec(String(e.message))?.[1] ?? '');
      return rejectionError(
        { ok: false, reason: 'subscription_already_has_promotion', message: slotTakenMessage(kind) },
        kind,
      );
    }
    case 'PRX07': {
      const kind = slotKind(String(e.detail));
      return rejectionError(
        { ok: false, reason: 'subscription_already_has_promotion', message: promotionHeldMessage(kind) },
        kind,
      );
    }
    default:
      return undefined;
  }
}

/**
 * Voids a redemption and gives its use back (code and promotion counts, the customer's uses, the
 * subscription's slot) in one statement, taking the same locks in the same order as a redemption, and
 * emits `redemption.voided`. Voiding twice answers the voided redemption again and emits nothing.
 * Discounts already applied to invoices stay on them.
 */
export async function voidRedemption(deps: Deps, tx: Sql, workspaceId: string, id: string) {
  const [r] = await tx.query<RedemptionRow & { voided_now: boolean; periods_applied: number }>(
    `select (v.redemption).*, v.voided_now, v.periods_applied
     from promo_void_redemption($1, $2, $3) as v`,
    [workspaceId, id, deps.clock.now()],
  );
  if (!r) throw new PerksError('resource_not_found', `no redemption '${id}'`, 'id');
  const view = redemptionView(r, r.periods_applied);
  if (r.voided_now) await emitWebhookEvent(deps, tx, workspaceId, 'redemption.voided', view);
  return view;
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
    // A voided redemption discounts nothing more, whatever its schedule had left.
    periods_remaining: r.voided_at
      ? 0
      : r.periods_total === null
        ? null
        : Math.max(0, r.periods_total - applied),
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
  // A subscription by either id: redemptions record the caller's (and, before migration 0026, one
  // named by its Perks id kept that).
  const subscriptionIds =
    f.subscription === undefined
      ? null
      : [
          f.subscription,
          ...(
            await sql.query<{ id: string; external_id: string }>(
              'select id, external_id from subscriptions where workspace_id = $1 and (id = $2 or external_id = $2)',
              [workspaceId, f.subscription],
            )
          ).flatMap((s) => [s.id, s.external_id]),
        ];
  const rows = await sql.query<RedemptionRow>(
    `select * from redemptions where workspace_id = $1 and ($2::text is null or id < $2)
       and ($3::text is null or customer_id = $3) and ($4::text[] is null or subscription_id = any($4))
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
      subscriptionIds,
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
