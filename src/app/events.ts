import { earliest, isStale, nextPaymentStatus, type PaymentStatus } from '../core/billing/facts.js';
import { isPerksError, PerksError } from '../core/errors.js';
import { type CustomerInput, ensureCustomer, upsertCustomer } from './customers.js';
import { ingestBatch, MIN_BATCH_PAYMENTS } from './events_batch.js';
import type { Deps, Sql } from './ports.js';
import { onBillingFact, type ReferralEventResult } from './referrals.js';

/**
 * The provider-neutral billing events: the single door through which billing facts enter Perks.
 * `customer` in every event but customer.created is the caller's external id (or a Perks id).
 */
export type BillingEvent = { id: string; occurred_at: Date } & (
  | {
      type: 'customer.created';
      data: { customer: CustomerInput; referral_code?: string | undefined; click_id?: string | undefined };
    }
  | {
      type: 'card.attached';
      data: {
        customer: string;
        referral_code?: string | undefined;
        click_id?: string | undefined;
        payment_method: {
          id?: string | undefined;
          fingerprint: string;
          brand?: string | undefined;
          last4?: string | undefined;
        };
      };
    }
  | {
      type: 'subscription.updated';
      data: {
        customer: string;
        subscription: {
          id: string;
          plan_id: string;
          plan_units?: number | undefined;
          interval: 'month' | 'year';
          status: string;
          current_period_start: Date;
          current_period_end: Date;
          amount: number;
          currency: string;
        };
      };
    }
  | { type: 'subscription.canceled'; data: { customer: string; subscription: { id: string } } }
  | {
      type: 'payment.succeeded';
      data: {
        customer: string;
        payment: {
          id: string;
          amount: number;
          currency: string;
          interval?: 'month' | 'year' | undefined;
          period_start?: Date | undefined;
          period_end?: Date | undefined;
          subscription?: string | undefined;
        };
      };
    }
  | {
      type: 'payment.refunded';
      data: { customer: string; payment: { id: string; amount_refunded?: number | undefined } };
    }
  | { type: 'payment.disputed'; data: { customer: string; payment: { id: string } } }
);

export type EventType = BillingEvent['type'];
export const EVENT_TYPES: readonly EventType[] = [
  'customer.created',
  'card.attached',
  'subscription.updated',
  'subscription.canceled',
  'payment.succeeded',
  'payment.refunded',
  'payment.disputed',
];
export const MAX_EVENTS_PER_BATCH = 1000;

export type Outcome = 'applied' | 'stale';

export interface EventResult {
  object: 'event';
  id: string;
  event_id: string;
  type: string;
  occurred_at: string;
  duplicate: boolean;
  outcome: Outcome;
  /** Events that carried a referral_code or click_id: the referral it made, or why it made none. */
  referral?: ReferralEventResult;
}

/**
 * Stores each event first, keyed permanently by (workspace, source, event id), and applies it in the
 * same transaction: a duplicate changes nothing, and a crash leaves either both or neither.
 */
export async function ingestEvents(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  source: string,
  events: readonly BillingEvent[],
  paramPrefix: (index: number) => string = () => '',
): Promise<EventResult[]> {
  // Every event is checked before anything is written, so a refused batch is refused whole.
  const now = deps.clock.now();
  events.forEach((event, index) => checkEvent(event, now, index, events.length, paramPrefix(index)));
  await lockCustomers(tx, workspaceId, events);
  const one = (index: number) => ingestOne(deps, tx, workspaceId, source, events, index, paramPrefix);
  // A batch with enough payments is applied as a whole (events_batch.ts); it ends in the same state.
  if (events.filter((e) => e.type === 'payment.succeeded').length >= MIN_BATCH_PAYMENTS)
    return ingestBatch(deps, tx, workspaceId, source, events, one);
  const results: EventResult[] = [];
  for (let index = 0; index < events.length; index++) results.push(await one(index));
  return results;
}

/**
 * How far ahead of the server's clock an event's occurred_at may be: room for clock skew between the
 * sender and Perks (and for senders that stamp a fact a little ahead, as a scheduled job may), no more. The event's time is taken as "now" when it is applied, so an event from
 * further in the future would act today on rules that should only run then (a referrer suspended for
 * a year without referrals) and make every real fact after it stale.
 */
export const MAX_EVENT_CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * Refuses what the shape alone cannot: an event from the future (beyond the clock-skew allowance)
 * and a billing period that ends before it starts. Other instants in the event are not bounded by
 * the clock: a period legitimately ends in the future.
 */
function checkEvent(event: BillingEvent, now: Date, index: number, count: number, prefix: string) {
  const refuse = (field: string, message: string, details?: Record<string, unknown>) => {
    throw new PerksError(
      'parameter_invalid',
      count > 1 ? `event ${index} ('${event.id}'): ${message}` : message,
      `${prefix}${field}`,
      details,
    );
  };
  const limit = new Date(now.getTime() + MAX_EVENT_CLOCK_SKEW_MS);
  if (event.occurred_at.getTime() > limit.getTime()) {
    refuse(
      'occurred_at',
      `occurred_at must not be later than the server's time plus ${MAX_EVENT_CLOCK_SKEW_MS / 60_000} minutes of clock skew (${limit.toISOString()}); the server's time is ${now.toISOString()}`,
      { max_occurred_at: limit.toISOString(), server_time: now.toISOString() },
    );
  }
  if (event.type === 'subscription.updated') {
    const s = event.data.subscription;
    if (s.current_period_end.getTime() < s.current_period_start.getTime())
      refuse(
        'data.subscription.current_period_end',
        `current_period_end (${s.current_period_end.toISOString()}) must not be before current_period_start (${s.current_period_start.toISOString()})`,
      );
  }
  if (event.type === 'payment.succeeded') {
    const p = event.data.payment;
    if (p.period_start && p.period_end && p.period_end.getTime() < p.period_start.getTime())
      refuse(
        'data.payment.period_end',
        `period_end (${p.period_end.toISOString()}) must not be before period_start (${p.period_start.toISOString()})`,
      );
  }
}

/** Stores and applies one event of a batch, or answers it as a duplicate of the first with its id. */
async function ingestOne(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  source: string,
  events: readonly BillingEvent[],
  index: number,
  paramPrefix: (index: number) => string,
): Promise<EventResult> {
  const event = events[index]!;
  const prefix = paramPrefix(index);
  const inserted = await tx.query<{ id: string }>(
    `insert into events (workspace_id, source, event_id, id, type, occurred_at, payload, outcome, received_at)
     values ($1, $2, $3, $4, $5, $6, $7, 'applied', $8)
     on conflict (workspace_id, source, event_id) do nothing returning id`,
    [
      workspaceId,
      source,
      event.id,
      deps.ids.id('evt'),
      event.type,
      event.occurred_at,
      event,
      deps.clock.now(),
    ],
  );
  if (inserted.length === 0) {
    const [prior] = await tx.query<{ id: string; type: string; occurred_at: Date; outcome: Outcome }>(
      'select id, type, occurred_at, outcome from events where workspace_id = $1 and source = $2 and event_id = $3',
      [workspaceId, source, event.id],
    );
    return {
      object: 'event',
      id: prior!.id,
      event_id: event.id,
      type: prior!.type,
      occurred_at: prior!.occurred_at.toISOString(),
      duplicate: true,
      outcome: prior!.outcome,
    };
  }
  let outcome: Outcome;
  let referral: ReferralEventResult | undefined;
  try {
    outcome = await applyEvent(deps, tx, workspaceId, event, `${prefix}data.`);
    referral = await onBillingFact(deps, tx, workspaceId, event, `${prefix}data.`);
  } catch (err) {
    if (isPerksError(err) && events.length > 1) {
      throw new PerksError(
        err.code,
        `event ${index} ('${event.id}'): ${err.message}`,
        err.param,
        err.details,
      );
    }
    throw err;
  }
  if (outcome !== 'applied') {
    await tx.query(
      'update events set outcome = $4 where workspace_id = $1 and source = $2 and event_id = $3',
      [workspaceId, source, event.id, outcome],
    );
  }
  return {
    object: 'event',
    id: inserted[0]!.id,
    event_id: event.id,
    type: event.type,
    occurred_at: event.occurred_at.toISOString(),
    duplicate: false,
    outcome,
    ...(referral ? { referral } : {}),
  };
}

/** The customer an event is about: the key its state rows hang from. */
function customerKey(event: BillingEvent): string {
  return event.type === 'customer.created' ? event.data.customer.external_id : event.data.customer;
}

/**
 * Two batches that touch the same customers in different orders would deadlock on their rows. Every
 * event's writes hang from its customer, so each transaction first takes one lock per customer it
 * names, in one global order (sorted here; unnest keeps array order); concurrent batches then queue instead of deadlocking.
 */
async function lockCustomers(tx: Sql, workspaceId: string, events: readonly BillingEvent[]) {
  await lockCustomerKeys(tx, workspaceId, [...new Set(events.map(customerKey))].sort());
}

/**
 * The lock applying an event about the customer (by your id) takes, for a caller that must read the
 * customer's state before the event is applied and decide on it after. Taken again by the event, it
 * is the same lock (re-entrant within the transaction).
 */
export async function lockCustomerKeys(tx: Sql, workspaceId: string, externalIds: readonly string[]) {
  await tx.query(
    `select pg_advisory_xact_lock(hashtextextended($1 || ':' || k, 0))
     from unnest($2::text[]) as k`,
    [workspaceId, externalIds],
  );
}

async function applyEvent(
  deps: Deps,
  tx: Sql,
  ws: string,
  event: BillingEvent,
  param: string,
): Promise<Outcome> {
  const at = event.occurred_at;
  switch (event.type) {
    case 'customer.created': {
      const { stale } = await upsertCustomer(deps, tx, ws, event.data.customer, at, `${param}customer.`);
      return stale ? 'stale' : 'applied';
    }
    case 'card.attached': {
      const customer = await ensureCustomer(deps, tx, ws, event.data.customer, at);
      const pm = event.data.payment_method;
      const existing = await tx.query<{ attached_at: Date }>(
        `select attached_at from payment_methods where workspace_id = $1 and customer_id = $2 and fingerprint = $3
         for update`,
        [ws, customer.id, pm.fingerprint],
      );
      if (existing[0]) {
        await tx.query(
          `update payment_methods set attached_at = $4, brand = coalesce($5, brand), last4 = coalesce($6, last4),
             external_id = coalesce(external_id, $7)
           where workspace_id = $1 and customer_id = $2 and fingerprint = $3`,
          [ws, customer.id, pm.fingerprint, earliest(existing[0].attached_at, at), pm.brand, pm.last4, pm.id],
        );
        return 'applied';
      }
      await tx.query(
        `insert into payment_methods (workspace_id, id, customer_id, external_id, fingerprint, brand, last4, attached_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          ws,
          deps.ids.id('pm'),
          customer.id,
          pm.id ?? null,
          pm.fingerprint,
          pm.brand ?? null,
          pm.last4 ?? null,
          at,
        ],
      );
      return 'applied';
    }
    case 'subscription.updated': {
      const customer = await ensureCustomer(deps, tx, ws, event.data.customer, at);
      const s = event.data.subscription;
      const state = await subscriptionState(tx, ws, s.id);
      if (state && isStale(state, at)) return 'stale';
      await tx.query(
        `insert into subscriptions (workspace_id, id, external_id, customer_id, plan_id, plan_units, interval, status,
           current_period_start, current_period_end, amount, currency, canceled_at, state_as_of, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
         on conflict (workspace_id, external_id) do update set
           plan_id = excluded.plan_id, plan_units = excluded.plan_units, interval = excluded.interval,
           status = excluded.status, current_period_start = excluded.current_period_start,
           current_period_end = excluded.current_period_end, amount = excluded.amount,
           currency = excluded.currency, canceled_at = excluded.canceled_at,
           state_as_of = excluded.state_as_of, updated_at = excluded.updated_at`,
        [
          ws,
          deps.ids.id('sub'),
          s.id,
          customer.id,
          s.plan_id,
          s.plan_units ?? null,
          s.interval,
          s.status,
          s.current_period_start,
          s.current_period_end,
          s.amount,
          s.currency,
          s.status === 'canceled' ? at : null,
          at,
          deps.clock.now(),
        ],
      );
      return 'applied';
    }
    case 'subscription.canceled': {
      const customer = await ensureCustomer(deps, tx, ws, event.data.customer, at);
      const id = event.data.subscription.id;
      const state = await subscriptionState(tx, ws, id);
      if (state && isStale(state, at)) return 'stale';
      await tx.query(
        `insert into subscriptions (workspace_id, id, external_id, customer_id, status, canceled_at, state_as_of,
           created_at, updated_at)
         values ($1, $2, $3, $4, 'canceled', $5, $5, $6, $6)
         on conflict (workspace_id, external_id) do update set status = 'canceled', canceled_at = excluded.canceled_at,
           state_as_of = excluded.state_as_of, updated_at = excluded.updated_at`,
        [ws, deps.ids.id('sub'), id, customer.id, at, deps.clock.now()],
      );
      return 'applied';
    }
    case 'payment.succeeded': {
      const p = event.data.payment;
      await upsertPayment(
        deps,
        tx,
        ws,
        event.data.customer,
        p.id,
        'succeeded',
        {
          amount: p.amount,
          currency: p.currency,
          interval: p.interval ?? null,
          period_start: p.period_start ?? null,
          period_end: p.period_end ?? null,
          subscription_external_id: p.subscription ?? null,
          paid_at: at,
        },
        at,
      );
      return 'applied';
    }
    case 'payment.refunded':
      await upsertPayment(
        deps,
        tx,
        ws,
        event.data.customer,
        event.data.payment.id,
        'refunded',
        {
          amount_refunded: event.data.payment.amount_refunded ?? null,
        },
        at,
      );
      return 'applied';
    case 'payment.disputed':
      await upsertPayment(deps, tx, ws, event.data.customer, event.data.payment.id, 'disputed', {}, at);
      return 'applied';
  }
}

async function subscriptionState(tx: Sql, ws: string, externalId: string): Promise<Date | null> {
  const rows = await tx.query<{ state_as_of: Date }>(
    'select state_as_of from subscriptions where workspace_id = $1 and external_id = $2 for update',
    [ws, externalId],
  );
  return rows[0]?.state_as_of ?? null;
}

interface PaymentFacts {
  amount?: number;
  currency?: string;
  interval?: string | null;
  period_start?: Date | null;
  period_end?: Date | null;
  subscription_external_id?: string | null;
  paid_at?: Date;
  amount_refunded?: number | null;
}

/**
 * Payments may be reported refunded before they are reported paid; each fact fills what it knows and
 * the status only moves forward.
 */
async function upsertPayment(
  deps: Deps,
  tx: Sql,
  ws: string,
  customerRef: string,
  externalId: string,
  status: PaymentStatus,
  facts: PaymentFacts,
  at: Date,
) {
  const customer = await ensureCustomer(deps, tx, ws, customerRef, at);
  const [current] = await tx.query<{ status: PaymentStatus; amount: number | null; amount_refunded: number }>(
    'select status, amount, amount_refunded from payments where workspace_id = $1 and external_id = $2 for update',
    [ws, externalId],
  );
  const now = deps.clock.now();
  const refunded =
    status === 'refunded' ? (facts.amount_refunded ?? facts.amount ?? current?.amount ?? 0) : undefined;
  if (!current) {
    await tx.query(
      `insert into payments (workspace_id, id, external_id, customer_id, subscription_external_id, amount, currency,
         interval, period_start, period_end, status, amount_refunded, paid_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
      [
        ws,
        deps.ids.id('pay'),
        externalId,
        customer.id,
        facts.subscription_external_id ?? null,
        facts.amount ?? null,
        facts.currency ?? null,
        facts.interval ?? null,
        facts.period_start ?? null,
        facts.period_end ?? null,
        status,
        refunded ?? 0,
        facts.paid_at ?? null,
        now,
      ],
    );
    return;
  }
  await tx.query(
    `update payments set status = $3,
       amount = coalesce(amount, $4), currency = coalesce(currency, $5), interval = coalesce(interval, $6),
       period_start = coalesce(period_start, $7), period_end = coalesce(period_end, $8),
       subscription_external_id = coalesce(subscription_external_id, $9), paid_at = coalesce(paid_at, $10),
       amount_refunded = greatest(amount_refunded, $11), updated_at = $12
     where workspace_id = $1 and external_id = $2`,
    [
      ws,
      externalId,
      nextPaymentStatus(current.status, status),
      facts.amount ?? null,
      facts.currency ?? null,
      facts.interval ?? null,
      facts.period_start ?? null,
      facts.period_end ?? null,
      facts.subscription_external_id ?? null,
      facts.paid_at ?? null,
      refunded ?? (current.status === 'refunded' && current.amount_refunded === 0 ? (facts.amount ?? 0) : 0),
      now,
    ],
  );
}

export async function listEvents(
  sql: Sql,
  workspaceId: string,
  page: { limit: number; starting_after?: string | undefined },
  type?: string,
) {
  const rows = await sql.query<{
    id: string;
    event_id: string;
    source: string;
    type: string;
    occurred_at: Date;
    received_at: Date;
    outcome: string;
    payload: unknown;
  }>(
    `select id, event_id, source, type, occurred_at, received_at, outcome, payload from events
     where workspace_id = $1 and ($2::text is null or id < $2) and ($3::text is null or type = $3)
     order by id desc limit $4`,
    [workspaceId, page.starting_after ?? null, type ?? null, page.limit + 1],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map((r) => ({
      object: 'event' as const,
      id: r.id,
      event_id: r.event_id,
      source: r.source,
      type: r.type,
      occurred_at: r.occurred_at.toISOString(),
      received_at: r.received_at.toISOString(),
      outcome: r.outcome,
      payload: r.payload,
    })),
    has_more: rows.length > page.limit,
  };
}
