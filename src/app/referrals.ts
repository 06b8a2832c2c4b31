import { isPerksError, PerksError } from '../core/errors.js';
import {
  type AttributionContext,
  type AttributionInput,
  decideAttribution,
  type Rejection,
  rejectionForClaim,
} from '../core/programs/attribution.js';
import type { ReferralStatus } from '../core/programs/lifecycle.js';
import type { BillingInterval } from '../core/programs/rewards.js';
import { type CustomerRow, findCustomer, requireCustomer } from './customers.js';
import type { BillingEvent } from './events.js';
import type { Deps, Sql } from './ports.js';
import { type ProgramRow, requireProgram, type VersionRow, versionAt } from './programs.js';
import {
  codeInvalid,
  eligibilityFacts,
  ensureReferrer,
  findCode,
  findCodeWithProgram,
  verifyClickId,
} from './referrals_codes.js';
import { audit, type ReferrerFacts, referrerStanding } from './referrals_referrers.js';
import { emitReferral } from './referrals_webhooks.js';
import {
  fireTrigger,
  makeClaim,
  type RewardRow,
  restoreReward,
  reversePaymentRewards,
  reverseReward,
  type TriggerContext,
} from './referrals_rewards.js';
import {
  isSignup,
  type ReferralRow,
  recordTransition,
  rejectReferral,
  type TransitionMeta,
} from './referrals_rows.js';

/**
 * Attribution: a code, a link click or a support repair names a referrer for a referee; the core
 * decides whether the program accepts it; the claims it asks for (referred once, one referral per
 * card, the cap) are made in the store; and the referral is recorded pending or rejected with the
 * rule that refused it. Billing facts then drive it forward through the triggers.
 */

export type Via =
  | { kind: 'code'; code: string; param: string }
  | { kind: 'click'; click_id: string; param: string }
  | { kind: 'manual'; program: ProgramRow; referrer: CustomerRow };

export interface Attempt {
  referee: CustomerRow;
  via: Via;
  context: AttributionContext;
  source: ReferralRow['source'];
  at: Date;
  event_id?: string | undefined;
  actor?: string | undefined;
  card_attached?: { fingerprint: string; first: boolean } | undefined;
}

interface Resolved {
  program: ProgramRow;
  version: VersionRow;
  referrerId: string;
  method: ReferralRow['method'];
  code: string | null;
  click_id: string | null;
  clicked_at?: Date | undefined;
}

async function resolveVia(deps: Deps, tx: Sql, ws: string, attempt: Attempt): Promise<Resolved> {
  const via = attempt.via;
  let program: ProgramRow;
  let referrerId: string;
  let method: ReferralRow['method'];
  let code: string | null = null;
  let clickId: string | null = null;
  let clickedAt: Date | undefined;
  if (via.kind === 'manual') {
    program = via.program;
    referrerId = via.referrer.id;
    method = 'manual';
  } else {
    let typed: string;
    if (via.kind === 'click') {
      const click = await verifyClickId(deps, tx, ws, via.click_id);
      if (!click) {
        throw new PerksError(
          'referral_code_invalid',
          'the click id is not one this workspace issued',
          via.param,
        );
      }
      typed = click.code;
      clickId = via.click_id;
      clickedAt = click.clicked_at;
      method = 'link';
    } else {
      typed = via.code;
      method = 'code';
    }
    const found = await findCodeWithProgram(tx, ws, typed);
    if (!found) throw codeInvalid(typed, via.param);
    code = found.code;
    referrerId = found.customer_id;
    program = found.program;
  }
  const version =
    (await versionAt(tx, ws, program.id, attempt.at)) ??
    (await versionAt(tx, ws, program.id, deps.clock.now()));
  if (!version) {
    throw new PerksError(
      'referral_code_invalid',
      `program '${program.key}' is not in effect at ${attempt.at.toISOString()}`,
      via.kind === 'manual' ? 'program' : via.param,
    );
  }
  return { program, version, referrerId, method, code, click_id: clickId, clicked_at: clickedAt };
}

async function fingerprints(sql: Sql, ws: string, customerId: string): Promise<string[]> {
  const rows = await sql.query<{ fingerprint: string }>(
    'select fingerprint from payment_methods where workspace_id = $1 and customer_id = $2 order by attached_at, id',
    [ws, customerId],
  );
  return rows.map((r) => r.fingerprint);
}

interface CustomerFacts {
  parent_customer_id: string | null;
  fingerprints: string[];
  has_paid_subscription: boolean;
  /** A subscription or a payment dated before `at`: a customer before the referral. */
  billed_before: boolean;
}

/** What attribution needs to know of a customer, in one query. */
async function customerFacts(sql: Sql, ws: string, customerId: string, at: Date): Promise<CustomerFacts> {
  const [row] = await sql.query<CustomerFacts>(
    `select c.parent_customer_id,
       coalesce((select array_agg(fingerprint order by attached_at, id) from payment_methods
                 where workspace_id = $1 and customer_id = $2), '{}') as fingerprints,
       exists (select 1 from subscriptions where workspace_id = $1 and customer_id = $2 and status = 'active'
               and coalesce(amount, 0) > 0) as has_paid_subscription,
       exists (select 1 from subscriptions where workspace_id = $1 and customer_id = $2 and state_as_of < $3)
         or exists (select 1 from payments where workspace_id = $1 and customer_id = $2 and paid_at < $3)
         as billed_before
     from customers c where c.workspace_id = $1 and c.id = $2`,
    [ws, customerId, at],
  );
  return row!;
}

async function insertReferral(
  deps: Deps,
  tx: Sql,
  ws: string,
  attempt: Attempt,
  r: Resolved,
  status: 'pending' | 'rejected',
  claim: boolean,
  rejection?: Rejection,
): Promise<ReferralRow | undefined> {
  const now = deps.clock.now();
  const rows = await tx.query<ReferralRow>(
    `insert into referrals (workspace_id, id, program_id, program_version, referrer_customer_id, referee_customer_id,
       method, source, code, click_id, event_id, status, reason, reason_message, reason_details, referee_claim,
       attributed_at, rejected_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
     on conflict (workspace_id, program_id, referee_customer_id) where referee_claim and status <> 'rejected'
       do nothing
     returning *`,
    [
      ws,
      deps.ids.id('ref'),
      r.program.id,
      r.version.version,
      r.referrerId,
      attempt.referee.id,
      r.method,
      attempt.source,
      r.code,
      r.click_id,
      attempt.event_id ?? null,
      status,
      rejection?.reason ?? null,
      rejection?.message ?? null,
      rejection?.details ? JSON.stringify(rejection.details) : null,
      claim,
      attempt.at,
      status === 'rejected' ? now : null,
      now,
    ],
  );
  const row = rows[0];
  if (!row) return undefined;
  await emitReferral(deps, tx, row, status === 'pending' ? 'referral.created' : 'referral.rejected');
  await recordTransition(tx, row, null, status, now, {
    actor: attempt.actor,
    event_id: attempt.event_id,
    reason: rejection?.reason,
    message: rejection?.message,
  });
  if (status === 'rejected') {
    await tx.query(
      `update referrers set rejected = rejected + 1, updated_at = $4
       where workspace_id = $1 and program_id = $2 and customer_id = $3`,
      [ws, r.program.id, r.referrerId, now],
    );
  } else {
    await tx.query(
      `update referrers set referred = referred + 1, signups = signups + $4, active_since = greatest(active_since, $5),
         updated_at = $6
       where workspace_id = $1 and program_id = $2 and customer_id = $3`,
      [ws, r.program.id, r.referrerId, isSignup(row) ? 1 : 0, attempt.at, now],
    );
  }
  return row;
}

async function activeReferral(sql: Sql, ws: string, programId: string, refereeId: string) {
  const [row] = await sql.query<ReferralRow>(
    `select * from referrals where workspace_id = $1 and program_id = $2 and referee_customer_id = $3
       and status <> 'rejected' order by id limit 1`,
    [ws, programId, refereeId],
  );
  return row;
}

/**
 * Records an attribution attempt: a pending referral (then driven by its triggers), a rejected one
 * with the reason, or the existing referral when the same referrer refers the same referee again.
 * Throws `referral_code_invalid` for a code or click id the workspace does not know.
 */
export async function attribute(deps: Deps, tx: Sql, ws: string, attempt: Attempt): Promise<ReferralRow> {
  const r = await resolveVia(deps, tx, ws, attempt);
  const program = r.version.document;
  await ensureReferrer(tx, ws, r.program.id, r.referrerId, deps.clock.now());
  const { status: standing } = await referrerStanding(
    deps,
    tx,
    ws,
    r.program.id,
    program,
    r.referrerId,
    attempt.at,
  );
  const existing = await activeReferral(tx, ws, r.program.id, attempt.referee.id);
  if (existing && existing.referrer_customer_id === r.referrerId) return existing;
  const referrer = await customerFacts(tx, ws, r.referrerId, attempt.at);
  const referee = await customerFacts(tx, ws, attempt.referee.id, attempt.at);
  const input: AttributionInput = {
    context: attempt.context,
    method: r.method,
    at: attempt.at,
    clicked_at: r.clicked_at,
    referrer: {
      id: r.referrerId,
      parent_id: referrer.parent_customer_id,
      fingerprints: referrer.fingerprints,
      has_card: referrer.fingerprints.length > 0,
      has_paid_subscription: referrer.has_paid_subscription,
      suspended: standing.status === 'suspended',
    },
    referee: {
      id: attempt.referee.id,
      parent_id: attempt.referee.parent_customer_id,
      fingerprints: referee.fingerprints,
      created_at: attempt.referee.created_at,
      billed_before: referee.billed_before,
      already_referred: existing !== undefined,
      card_attached: attempt.card_attached,
    },
  };

  const decision = decideAttribution(program, input);
  if (!decision.ok)
    return (await insertReferral(deps, tx, ws, attempt, r, 'rejected', false, decision.rejection))!;

  const claimsOnce = decision.claims.some((c) => c.kind === 'referee_once');
  const inserted = await insertReferral(deps, tx, ws, attempt, r, 'pending', claimsOnce);
  if (!inserted) {
    const holder = await activeReferral(tx, ws, r.program.id, attempt.referee.id);
    if (holder && holder.referrer_customer_id === r.referrerId) return holder;
    const rejection = rejectionForClaim({ kind: 'referee_once' });
    return (await insertReferral(deps, tx, ws, attempt, r, 'rejected', false, {
      ...rejection,
      details: { referral: holder?.id ?? null },
    }))!;
  }
  const meta: TransitionMeta = { actor: attempt.actor, event_id: attempt.event_id };
  let referral = inserted;
  for (const claim of decision.claims) {
    if (await makeClaim(tx, referral, claim, deps.clock.now())) {
      if (claim.kind === 'cap') {
        const [updated] = await tx.query<ReferralRow>(
          'update referrals set cap_period_start = $3 where workspace_id = $1 and id = $2 returning *',
          [ws, referral.id, claim.period_start],
        );
        referral = updated!;
      }
      continue;
    }
    return rejectReferral(deps, tx, referral, rejectionForClaim(claim), meta);
  }

  const ctx: TriggerContext = {
    at: attempt.at,
    source_key: '',
    event_id: attempt.event_id,
    actor: attempt.actor,
    cards: {
      referee: referee.fingerprints,
      referrer: referrer.fingerprints,
      claimed: new Set(decision.claims.flatMap((c) => (c.kind === 'card' ? [c.fingerprint] : []))),
    },
  };
  if (attempt.context === 'manual') return catchUp(deps, tx, referral, meta);
  referral = await fireTrigger(deps, tx, referral, 'signup', ctx);
  if (attempt.card_attached?.first)
    referral = await fireTrigger(deps, tx, referral, 'first_card_attached', ctx);
  return referral;
}

// ---------------------------------------------------------------------------------------------------
// Triggers from billing facts

interface PaymentRow {
  external_id: string;
  customer_id: string;
  subscription_external_id: string | null;
  amount: number | null;
  currency: string | null;
  interval: BillingInterval | null;
  period_start: Date | null;
  status: 'succeeded' | 'refunded' | 'disputed';
  paid_at: Date | null;
}

interface SubscriptionRow {
  external_id: string;
  plan_units: number | null;
  interval: BillingInterval | null;
  status: string;
  amount: number | null;
  state_as_of: Date;
}

async function subscriptionFacts(sql: Sql, ws: string, externalId: string | null) {
  if (externalId === null) return undefined;
  const [row] = await sql.query<SubscriptionRow>(
    'select * from subscriptions where workspace_id = $1 and external_id = $2',
    [ws, externalId],
  );
  return row;
}

async function paymentContext(sql: Sql, ws: string, p: PaymentRow, at: Date, meta: TransitionMeta) {
  const sub = await subscriptionFacts(sql, ws, p.subscription_external_id);
  const ctx: TriggerContext = {
    at,
    source_key: p.external_id,
    event_id: meta.event_id,
    actor: meta.actor,
    payment:
      p.amount === null || p.currency === null
        ? undefined
        : {
            external_id: p.external_id,
            amount: p.amount,
            currency: p.currency,
            interval: p.interval ?? sub?.interval ?? null,
            period_start: p.period_start,
          },
    subscription: sub
      ? { external_id: sub.external_id, plan_units: sub.plan_units, interval: sub.interval }
      : undefined,
  };
  return ctx;
}

function subscriptionContext(sub: SubscriptionRow, at: Date, meta: TransitionMeta): TriggerContext {
  return {
    at,
    source_key: sub.external_id,
    event_id: meta.event_id,
    actor: meta.actor,
    subscription: { external_id: sub.external_id, plan_units: sub.plan_units, interval: sub.interval },
  };
}

const isPaid = (s: Pick<SubscriptionRow, 'status' | 'amount'>) =>
  s.status === 'active' && (s.amount ?? 0) > 0;

/**
 * Grants what is due to a referral from facts that happened before it was recorded (a support
 * repair, or a reassignment): its first card, its paid subscriptions and its payments since it was
 * attributed. Business keys make every grant at most once.
 */
export async function catchUp(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  meta: TransitionMeta,
): Promise<ReferralRow> {
  const ws = referral.workspace_id;
  const refereeId = referral.referee_customer_id;
  let current = await fireTrigger(deps, tx, referral, 'signup', {
    at: referral.attributed_at,
    source_key: '',
    ...meta,
  });
  const [card] = await tx.query<{ attached_at: Date }>(
    'select attached_at from payment_methods where workspace_id = $1 and customer_id = $2 order by attached_at, id limit 1',
    [ws, refereeId],
  );
  if (card)
    current = await fireTrigger(deps, tx, current, 'first_card_attached', {
      at: card.attached_at,
      source_key: '',
      ...meta,
    });
  const subs = await tx.query<SubscriptionRow>(
    `select * from subscriptions where workspace_id = $1 and customer_id = $2 and coalesce(amount, 0) > 0
       and status not in ('incomplete', 'trialing') order by created_at, id`,
    [ws, refereeId],
  );
  for (const sub of subs) {
    current = await fireTrigger(
      deps,
      tx,
      current,
      'subscription_activated',
      subscriptionContext(sub, sub.state_as_of, meta),
    );
  }
  const payments = await tx.query<PaymentRow>(
    `select * from payments where workspace_id = $1 and customer_id = $2 and status = 'succeeded'
       and paid_at >= $3 order by paid_at, id`,
    [ws, refereeId, referral.attributed_at],
  );
  for (const p of payments) {
    current = await fireTrigger(
      deps,
      tx,
      current,
      'payment_succeeded',
      await paymentContext(tx, ws, p, p.paid_at!, meta),
    );
  }
  return current;
}

/** What an event with a referral code or click id reports about it. */
export interface ReferralEventResult {
  referral: string | null;
  status: ReferralStatus | null;
  reason: string | null;
  error: { code: 'referral_code_invalid'; message: string } | null;
}

function eventResult(row: ReferralRow): ReferralEventResult {
  return { referral: row.id, status: row.status, reason: row.reason, error: null };
}

async function refereeReferrals(sql: Sql, ws: string, customerRef: string): Promise<ReferralRow[]> {
  return sql.query<ReferralRow>(
    `select * from referrals where workspace_id = $1 and status <> 'rejected' and referee_customer_id = (
       select id from customers where workspace_id = $1 and (id = $2 or external_id = $2)
       order by (id = $2) desc limit 1)
     order by id`,
    [ws, customerRef],
  );
}

type PaymentReferralRow = ReferralRow & {
  rr_active_since: Date | null;
  rr_suspended_at: Date | null;
  rr_option: string | null;
  rc_signed_at: Date | null;
  p_external_id: string | null;
  p_subscription_external_id: string | null;
  p_amount: number | null;
  p_currency: string | null;
  p_interval: BillingInterval | null;
  p_period_start: Date | null;
  p_status: PaymentRow['status'] | null;
  p_paid_at: Date | null;
};

async function paymentReferrals(sql: Sql, ws: string, customerRef: string, paymentId: string) {
  return sql.query<PaymentReferralRow>(
    `select r.*, rr.active_since as rr_active_since, rr.suspended_at as rr_suspended_at, rr.option as rr_option,
       rc.signed_at as rc_signed_at, p.external_id as p_external_id,
       p.subscription_external_id as p_subscription_external_id, p.amount as p_amount, p.currency as p_currency,
       p.interval as p_interval, p.period_start as p_period_start, p.status as p_status, p.paid_at as p_paid_at
     from referrals r
       left join referrers rr on rr.workspace_id = r.workspace_id and rr.program_id = r.program_id
         and rr.customer_id = r.referrer_customer_id
       left join referral_contracts rc on rc.workspace_id = r.workspace_id and rc.customer_id = r.referrer_customer_id
       left join payments p on p.workspace_id = r.workspace_id and p.external_id = $3
     where r.workspace_id = $1 and r.status <> 'rejected' and r.referee_customer_id = (
       select id from customers where workspace_id = $1 and (id = $2 or external_id = $2)
       order by (id = $2) desc limit 1)
     order by r.id`,
    [ws, customerRef, paymentId],
  );
}

/** The standing fields of a joined row, as the reward rules read them. */
function referrerOf(row: PaymentReferralRow): ReferrerFacts | undefined {
  if (row.rr_active_since === null) return undefined;
  return { active_since: row.rr_active_since, suspended_at: row.rr_suspended_at, option: row.rr_option };
}

/**
 * Attributes from an event's referral_code or click_id. An unknown code is reported on the event's
 * result; the event's billing facts are applied regardless.
 */
async function attributeFromEvent(
  deps: Deps,
  tx: Sql,
  ws: string,
  referee: CustomerRow,
  data: { referral_code?: string | undefined; click_id?: string | undefined },
  attempt: Omit<Attempt, 'via' | 'referee'>,
  param: string,
): Promise<{ result: ReferralEventResult; referral?: ReferralRow }> {
  const via: Via =
    data.click_id !== undefined
      ? { kind: 'click', click_id: data.click_id, param: `${param}click_id` }
      : { kind: 'code', code: data.referral_code!, param: `${param}referral_code` };
  try {
    const referral = await attribute(deps, tx, ws, { ...attempt, referee, via });
    return { result: eventResult(referral), referral };
  } catch (err) {
    if (isPerksError(err) && err.code === 'referral_code_invalid') {
      return {
        result: {
          referral: null,
          status: null,
          reason: null,
          error: { code: err.code, message: err.message },
        },
      };
    }
    throw err;
  }
}

/**
 * The referral side of a billing fact, called by the event use case in the same transaction after
 * the fact is applied. Returns what to report on the event's result when it carried a code.
 */
export async function onBillingFact(
  deps: Deps,
  tx: Sql,
  ws: string,
  event: BillingEvent,
  param = 'data.',
): Promise<ReferralEventResult | undefined> {
  const meta: TransitionMeta = { event_id: event.id };
  const at = event.occurred_at;
  switch (event.type) {
    case 'customer.created': {
      const data = event.data;
      if (data.referral_code === undefined && data.click_id === undefined) return undefined;
      const referee = await findCustomer(tx, ws, data.customer.external_id);
      if (!referee) return undefined;
      const { result } = await attributeFromEvent(
        deps,
        tx,
        ws,
        referee,
        data,
        { context: 'signup', source: 'event', at, event_id: event.id },
        param,
      );
      return result;
    }
    case 'card.attached': {
      const data = event.data;
      const referee = await findCustomer(tx, ws, data.customer);
      if (!referee) return undefined;
      const first = await isFirstCard(tx, ws, referee.id, data.payment_method.fingerprint, at);
      let result: ReferralEventResult | undefined;
      let attributed: string | undefined;
      if (data.referral_code !== undefined || data.click_id !== undefined) {
        const out = await attributeFromEvent(
          deps,
          tx,
          ws,
          referee,
          data,
          {
            context: 'card_attached',
            source: 'event',
            at,
            event_id: event.id,
            card_attached: { fingerprint: data.payment_method.fingerprint, first },
          },
          param,
        );
        result = out.result;
        attributed = out.referral?.id;
      }
      if (first) {
        for (const referral of await refereeReferrals(tx, ws, referee.id)) {
          if (referral.id === attributed) continue;
          await fireTrigger(deps, tx, referral, 'first_card_attached', { at, source_key: '', ...meta });
        }
      }
      return result;
    }
    case 'subscription.updated': {
      const s = event.data.subscription;
      if (!isPaid(s)) return undefined;
      const referrals = await refereeReferrals(tx, ws, event.data.customer);
      if (referrals.length === 0) return undefined;
      const sub = await subscriptionFacts(tx, ws, s.id);
      if (!sub || !isPaid(sub)) return undefined;
      for (const referral of referrals) {
        await fireTrigger(deps, tx, referral, 'subscription_activated', subscriptionContext(sub, at, meta));
      }
      return undefined;
    }
    case 'payment.succeeded': {
      // The hottest path: one query reads the referee's referrals with each referrer's standing and
      // contract, and the payment as stored.
      const rows = await paymentReferrals(tx, ws, event.data.customer, event.data.payment.id);
      const first = rows[0];
      if (!first || first.p_external_id === null) return undefined;
      const payment: PaymentRow = {
        external_id: first.p_external_id,
        customer_id: first.referee_customer_id,
        subscription_external_id: first.p_subscription_external_id,
        amount: first.p_amount,
        currency: first.p_currency,
        interval: first.p_interval,
        period_start: first.p_period_start,
        status: first.p_status!,
        paid_at: first.p_paid_at,
      };
      const ctx = await paymentContext(tx, ws, payment, at, meta);
      for (const row of rows) {
        await fireTrigger(deps, tx, row, 'payment_succeeded', {
          ...ctx,
          referrer: { row: referrerOf(row), contract_signed_at: row.rc_signed_at },
        });
      }
      // A refund or dispute that arrived before this payment was reported paid takes effect now.
      if (payment.status !== 'succeeded') await reversePaymentRewards(deps, tx, ws, payment.external_id);
      return undefined;
    }
    case 'payment.refunded':
    case 'payment.disputed':
      await reversePaymentRewards(deps, tx, ws, event.data.payment.id);
      return undefined;
    case 'subscription.canceled':
      // Cancelling keeps what was granted; a later subscription finds once-per-referral keys taken.
      return undefined;
  }
}

/**
 * Whether this attach is the customer's first card: no other card was attached at or before it, and
 * this card was not already attached earlier (a re-attach is not a first card).
 */
async function isFirstCard(sql: Sql, ws: string, customerId: string, fingerprint: string, at: Date) {
  const rows = await sql.query<{ fingerprint: string; attached_at: Date }>(
    'select fingerprint, attached_at from payment_methods where workspace_id = $1 and customer_id = $2',
    [ws, customerId],
  );
  const mine = rows.find((r) => r.fingerprint === fingerprint);
  if (!mine || mine.attached_at.getTime() < at.getTime()) return false;
  return !rows.some(
    (r) => r.fingerprint !== fingerprint && r.attached_at.getTime() <= mine.attached_at.getTime(),
  );
}

// ---------------------------------------------------------------------------------------------------
// The API and support repairs

export interface CreateReferralInput {
  referee: string;
  source: 'api' | 'manual';
  code?: string | undefined;
  click_id?: string | undefined;
  program?: string | undefined;
  referrer?: string | undefined;
  reason?: string | undefined;
  actor?: string | undefined;
  attributed_at?: Date | undefined;
}

/**
 * `POST /v1/referrals`. With source `api` a code or click id attributes the referee as an event
 * would (a refusal is recorded as a rejected referral). With source `manual`, support names the
 * referrer (or its code) with a reason: the rules that protect against fraud still apply, the
 * moment rules do not, the repair is written to the audit log, and rewards already due are granted.
 */
export async function createReferral(
  deps: Deps,
  tx: Sql,
  ws: string,
  input: CreateReferralInput,
): Promise<{ referral: ReferralRow; created: boolean }> {
  const referee = await requireCustomer(tx, ws, input.referee, 'referee');
  const now = deps.clock.now();
  if (input.source === 'api') {
    if ((input.code === undefined) === (input.click_id === undefined)) {
      throw new PerksError(
        'parameter_missing',
        "give exactly one of 'code' or 'click_id'",
        input.code ? 'click_id' : 'code',
      );
    }
    for (const field of ['program', 'referrer', 'reason', 'actor', 'attributed_at'] as const) {
      if (input[field] !== undefined) {
        throw new PerksError(
          'parameter_invalid',
          `'${field}' is for source manual (support repairs) only`,
          field,
        );
      }
    }
    const via: Via =
      input.click_id !== undefined
        ? { kind: 'click', click_id: input.click_id, param: 'click_id' }
        : { kind: 'code', code: input.code!, param: 'code' };
    const before = await latestReferralId(tx, ws, referee.id);
    const referral = await attribute(deps, tx, ws, { referee, via, context: 'api', source: 'api', at: now });
    return { referral, created: referral.id !== before };
  }

  if (!input.reason)
    throw new PerksError('parameter_missing', "a manual referral needs a 'reason'", 'reason');
  if (!input.actor) throw new PerksError('parameter_missing', "a manual referral needs an 'actor'", 'actor');
  let program: ProgramRow;
  let referrer: CustomerRow;
  if (input.code !== undefined) {
    const found = await findCode(tx, ws, input.code);
    if (!found) throw codeInvalid(input.code, 'code');
    const [p] = await tx.query<ProgramRow>('select * from programs where workspace_id = $1 and id = $2', [
      ws,
      found.program_id,
    ]);
    program = p!;
    referrer = await requireCustomer(tx, ws, found.customer_id, 'code');
  } else {
    if (!input.program)
      throw new PerksError('parameter_missing', "give 'code', or 'program' and 'referrer'", 'program');
    if (!input.referrer)
      throw new PerksError('parameter_missing', "give 'code', or 'program' and 'referrer'", 'referrer');
    program = await requireProgram(tx, ws, input.program);
    referrer = await requireCustomer(tx, ws, input.referrer, 'referrer');
  }
  const attributedAt = input.attributed_at ?? referee.created_at;
  if (attributedAt.getTime() > now.getTime()) {
    throw new PerksError('parameter_invalid', "'attributed_at' must not be in the future", 'attributed_at');
  }
  const existing = await activeReferral(tx, ws, program.id, referee.id);
  if (existing) {
    if (existing.referrer_customer_id === referrer.id) return { referral: existing, created: false };
    throw new PerksError(
      'referral_repair_refused',
      `the customer is already referred in this program by ${existing.referrer_customer_id}; ` +
        `move it with POST /v1/referrals/${existing.id}/reassign`,
      'referee',
      { referral: existing.id },
    );
  }
  const via: Via = { kind: 'manual', program, referrer };
  const attempt: Attempt = {
    referee,
    via,
    context: 'manual',
    source: 'manual',
    at: attributedAt,
    actor: input.actor,
  };
  const referral = await attribute(deps, tx, ws, attempt);
  if (referral.status === 'rejected') {
    throw new PerksError(
      'referral_repair_refused',
      `the program refuses this referral: ${referral.reason_message}`,
      'referrer',
      {
        reason: referral.reason,
      },
    );
  }
  await audit(deps, tx, ws, {
    action: 'manual_referral',
    program_id: program.id,
    referral_id: referral.id,
    customer_id: referee.id,
    actor: input.actor,
    reason: input.reason,
    details: { referrer: referrer.id, attributed_at: attributedAt.toISOString() },
  });
  return { referral, created: true };
}

async function latestReferralId(sql: Sql, ws: string, refereeId: string) {
  const [row] = await sql.query<{ id: string }>(
    'select id from referrals where workspace_id = $1 and referee_customer_id = $2 order by id desc limit 1',
    [ws, refereeId],
  );
  return row?.id;
}

/**
 * Moves a referral to another referrer. What the old referrer received for it is reversed; what the
 * new one is due is granted (or given back, if it once had it); the referee's rewards stay. Both
 * sides are in the audit log.
 */
export async function reassignReferral(
  deps: Deps,
  tx: Sql,
  ws: string,
  id: string,
  input: { referrer: string; reason: string; actor: string },
): Promise<{ referral: ReferralRow; changed: boolean }> {
  const [referral] = await tx.query<ReferralRow>(
    'select * from referrals where workspace_id = $1 and id = $2 for update',
    [ws, id],
  );
  if (!referral) throw new PerksError('resource_not_found', `no referral '${id}'`, 'id');
  if (referral.status === 'rejected') {
    throw new PerksError(
      'referral_repair_refused',
      'a rejected referral cannot be reassigned; record the right one with POST /v1/referrals (source manual)',
      'id',
    );
  }
  const target = await requireCustomer(tx, ws, input.referrer, 'referrer');
  if (target.id === referral.referrer_customer_id) return { referral, changed: false };

  const [program] = await tx.query<ProgramRow>('select * from programs where workspace_id = $1 and id = $2', [
    ws,
    referral.program_id,
  ]);
  const version = await versionAt(tx, ws, program!.id, referral.attributed_at).then(
    async (v) => v ?? (await versionAt(tx, ws, program!.id, deps.clock.now())),
  );
  const doc = version!.document;
  const now = deps.clock.now();
  await ensureReferrer(tx, ws, referral.program_id, target.id, now);
  const { status: standing } = await referrerStanding(deps, tx, ws, referral.program_id, doc, target.id, now);
  const [referee] = await tx.query<CustomerRow>(
    'select * from customers where workspace_id = $1 and id = $2',
    [ws, referral.referee_customer_id],
  );
  const decision = decideAttribution(doc, {
    context: 'manual',
    method: 'manual',
    at: now,
    referrer: {
      id: target.id,
      parent_id: target.parent_customer_id,
      fingerprints: await fingerprints(tx, ws, target.id),
      ...(await eligibilityFacts(tx, ws, target.id)),
      suspended: standing.status === 'suspended',
    },
    referee: {
      id: referee!.id,
      parent_id: referee!.parent_customer_id,
      fingerprints: await fingerprints(tx, ws, referee!.id),
      created_at: referee!.created_at,
      billed_before: false,
      already_referred: false,
    },
  });
  if (!decision.ok) {
    throw new PerksError(
      'referral_repair_refused',
      `the program refuses this referrer: ${decision.rejection.message}`,
      'referrer',
      {
        reason: decision.rejection.reason,
      },
    );
  }

  const from = referral.referrer_customer_id;
  const [moved] = await tx.query<ReferralRow>(
    'update referrals set referrer_customer_id = $3, updated_at = $4 where workspace_id = $1 and id = $2 returning *',
    [ws, referral.id, target.id, now],
  );
  const qualifiedNow = referral.status === 'qualified' || referral.status === 'rewarded' ? 1 : 0;
  const signup = isSignup(referral) ? 1 : 0;
  await tx.query(
    `update referrers set referred = referred + $4, signups = signups + $5, qualified = qualified + $6, updated_at = $7
     where workspace_id = $1 and program_id = $2 and customer_id = $3`,
    [ws, referral.program_id, from, -1, -signup, -qualifiedNow, now],
  );
  await tx.query(
    `update referrers set referred = referred + 1, signups = signups + $4, qualified = qualified + $5,
       active_since = greatest(active_since, $6), updated_at = $6
     where workspace_id = $1 and program_id = $2 and customer_id = $3`,
    [ws, referral.program_id, target.id, signup, qualifiedNow, now],
  );

  // The old referrer's rewards for this referral are taken back in full.
  const held = await tx.query<RewardRow>(
    `select * from referral_rewards where workspace_id = $1 and referral_id = $2 and recipient = 'referrer'
       and recipient_customer_id = $3 and status = 'granted' order by id for update`,
    [ws, referral.id, from],
  );
  for (const row of held) {
    await reverseReward(
      deps,
      tx,
      moved!,
      row,
      row.amount - row.reversed_amount,
      `referral reassigned to ${target.id}`,
    );
    await tx.query(`update referral_rewards set reason = 'reassigned' where workspace_id = $1 and id = $2`, [
      ws,
      row.id,
    ]);
  }
  // A referrer that held this referral before gets back what a reassignment took from it.
  const takenBefore = await tx.query<RewardRow>(
    `select rr.* from referral_rewards rr
       left join payments p on p.workspace_id = rr.workspace_id and p.external_id = rr.payment_external_id
     where rr.workspace_id = $1 and rr.referral_id = $2 and rr.recipient_customer_id = $3
       and rr.status = 'reversed' and rr.reason = 'reassigned' and (p.status is null or p.status = 'succeeded')
     order by rr.id`,
    [ws, referral.id, target.id],
  );
  for (const row of takenBefore) await restoreReward(deps, tx, moved!, row);

  const meta: TransitionMeta = { actor: input.actor };
  await emitReferral(deps, tx, moved!, 'referral.reassigned');
  const caughtUp = await catchUp(deps, tx, moved!, meta);
  await audit(deps, tx, ws, {
    action: 'referral_reassigned',
    program_id: referral.program_id,
    referral_id: referral.id,
    customer_id: referral.referee_customer_id,
    actor: input.actor,
    reason: input.reason,
    details: { from, to: target.id },
  });
  return { referral: caughtUp, changed: true };
}
