import { isPerksError, PerksError } from '../core/errors.js';
import type { BillingEvent, EventResult, Outcome } from './events.js';
import { BatchGrantError } from './ledger_posting_batch.js';
import { fromMs, ms } from './batch_sql.js';
import type { WebhookSubscriber } from './outbox_webhooks.js';
import type { Deps, Sql } from './ports.js';
import { type PaymentPlan, PaymentReferrals, writePaymentPlans } from './referrals_batch.js';

/**
 * A batch of events applied as a whole rather than one after another: the facts every event needs
 * are loaded for the whole batch in a few set-based queries, the core decides each event in the
 * batch's order, and the rows are written with one multi-row statement per table. The result is the
 * state the same events sent one by one would leave (test/events_batch.test.ts checks it).
 *
 * Today `payment.succeeded` takes this path: the event that dominates a billing stream, and the one
 * that earns commission. Every other event, and any payment that needs more than a decision (its
 * customer's referral is still pending, a referrer's suspension must be recorded, the payment was
 * already reported), is applied on its own by `one`, in its place in the order: the payments decided
 * before it are written first (unless it cannot touch them, see `independent`), and what it may
 * change (its customer, that customer's referrers, its payment or subscription) is no longer taken
 * from the facts loaded at the start: later payments naming those are applied on their own too.
 *
 * The ids of what the batch writes are taken in the events' order, so that the rows are those the
 * events sent one by one write, up to the ids' random part. A chunk of payments is written under a
 * savepoint: if the store holds a row the plan did not expect (another transaction wrote it since
 * the facts were read), the chunk is rolled back and its events are applied one by one.
 */

type PaymentEvent = Extract<BillingEvent, { type: 'payment.succeeded' }>;

/** A batch has to hold at least this many payments for the set-based path to pay for its queries. */
export const MIN_BATCH_PAYMENTS = 4;

interface Planned {
  index: number;
  event: PaymentEvent;
  event_row_id: string;
  customer_id: string;
  /** Set when the customer is created by this event (first named here). */
  new_customer: boolean;
  payment_row_id: string;
  plan: PaymentPlan;
}

const SAVEPOINT = 'perks_event_batch';

export async function ingestBatch(
  deps: Deps,
  tx: Sql,
  ws: string,
  source: string,
  events: readonly BillingEvent[],
  one: (index: number) => Promise<EventResult>,
): Promise<EventResult[]> {
  const results: EventResult[] = new Array(events.length);
  const payments = events.filter((e): e is PaymentEvent => e.type === 'payment.succeeded');

  // Facts for the whole batch, loaded once.
  const prior = new Map(
    (
      await tx.query<{ event_id: string; id: string; type: string; occurred_at: Date; outcome: Outcome }>(
        `select event_id, id, type, occurred_at, outcome from events
         where workspace_id = $1 and source = $2 and event_id = any($3::text[])`,
        [ws, source, [...new Set(events.map((e) => e.id))]],
      )
    ).map((r) => [r.event_id, r]),
  );
  // Every event's customer, so that a customer named by its Perks id in one event and by its external
  // id in another is known to be the same.
  const refs = [...new Set(events.map(customerRef))];
  const byId = new Map<string, string>();
  const byExternalId = new Map<string, string>();
  for (const row of await tx.query<{ id: string; external_id: string }>(
    `select id, external_id from customers
     where workspace_id = $1 and (id = any($2::text[]) or external_id = any($2::text[]))`,
    [ws, refs],
  )) {
    byId.set(row.id, row.id);
    byExternalId.set(row.external_id, row.id);
  }
  /** Customer reference -> Perks id. A Perks id matches before an external id, as in findCustomer. */
  const customers = new Map<string, string>();
  for (const ref of refs) {
    const id = byId.get(ref) ?? byExternalId.get(ref);
    if (id !== undefined) customers.set(ref, id);
  }
  const knownPayments = new Set(
    (
      await tx.query<{ external_id: string }>(
        'select external_id from payments where workspace_id = $1 and external_id = any($2::text[])',
        [ws, [...new Set(payments.map((e) => e.data.payment.id))]],
      )
    ).map((r) => r.external_id),
  );
  const referrals = await PaymentReferrals.load(
    deps,
    tx,
    ws,
    [...new Set(customers.values())],
    [...new Set(payments.flatMap((e) => (e.data.payment.subscription ? [e.data.payment.subscription] : [])))],
  );
  let endpoints: Promise<WebhookSubscriber[]> | undefined;
  const webhooks = () =>
    (endpoints ??= tx.query<WebhookSubscriber>(
      'select id, event_types, status from webhook_endpoints where workspace_id = $1',
      [ws],
    ));

  /** Customers, referrers and payments whose loaded facts an event applied on its own may have changed. */
  const tainted = new Set<string>();
  const taint = (...keys: string[]) => {
    for (const k of keys) tainted.add(k);
  };
  const firstIndex = new Map<string, number>();
  const seenPayments = new Set<string>();
  let pending: Planned[] = [];
  /** The customers of the pending payments, by reference and by Perks id. */
  const pendingCustomers = new Set<string>();

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingCustomers.clear();
    await tx.query(`savepoint ${SAVEPOINT}`);
    let written = false;
    try {
      written = await writeBatch(deps, tx, ws, source, batch, webhooks);
    } catch (err) {
      if (err instanceof BatchGrantError) {
        const at = batch[err.index]!;
        throw named(err.error, at.index, at.event, events.length);
      }
      // A unique key taken meanwhile by another transaction: the events are applied one by one.
      if ((err as { code?: string }).code !== '23505') throw err;
    }
    if (written) {
      await tx.query(`release savepoint ${SAVEPOINT}`);
      for (const p of batch) {
        results[p.index] = {
          object: 'event',
          id: p.event_row_id,
          event_id: p.event.id,
          type: p.event.type,
          occurred_at: p.event.occurred_at.toISOString(),
          duplicate: false,
          outcome: 'applied',
        };
      }
      return;
    }
    await tx.query(`rollback to savepoint ${SAVEPOINT}`);
    for (const p of batch) {
      // What the plans assumed is void: nothing of these customers is taken from the loaded facts again.
      taint(p.event.data.customer, p.customer_id, ...referrals.referrersOf(p.customer_id));
      if (p.new_customer) customers.delete(p.event.data.customer);
      results[p.index] = await one(p.index);
    }
  };

  for (const [index, event] of events.entries()) {
    const first = firstIndex.get(event.id);
    if (first !== undefined) {
      // The same id earlier in this batch: a duplicate of what that event recorded.
      await flush();
      const earlier = results[first]!;
      results[index] = {
        object: 'event',
        id: earlier.id,
        event_id: event.id,
        type: earlier.type,
        occurred_at: earlier.occurred_at,
        duplicate: true,
        outcome: earlier.outcome,
      };
      continue;
    }
    firstIndex.set(event.id, index);
    const stored = prior.get(event.id);
    if (stored) {
      results[index] = {
        object: 'event',
        id: stored.id,
        event_id: event.id,
        type: stored.type,
        occurred_at: stored.occurred_at.toISOString(),
        duplicate: true,
        outcome: stored.outcome,
      };
      continue;
    }
    const planned =
      event.type === 'payment.succeeded'
        ? await planPayment(
            deps,
            tx,
            index,
            event,
            customers,
            knownPayments,
            seenPayments,
            tainted,
            referrals,
          )
        : undefined;
    if (planned) {
      pending.push(planned);
      pendingCustomers.add(planned.event.data.customer).add(planned.customer_id);
      continue;
    }
    // Applied on its own, after what was decided before it is written, unless it cannot touch any of that.
    if (!independent(event, customers, pendingCustomers, referrals)) await flush();
    results[index] = await one(index);
    const ref = customerRef(event);
    const resolved = customers.get(ref);
    taint(ref, ...(resolved ? [resolved, ...referrals.referrersOf(resolved)] : []));
    if ('payment' in event.data) taint(`payment:${event.data.payment.id}`);
    if ('subscription' in event.data) taint(`subscription:${event.data.subscription.id}`);
    // An attribution names a referrer the loaded facts do not know of: its standing changed.
    const made = results[index]!.referral?.referral;
    if (made) {
      const [row] = await tx.query<{ referrer_customer_id: string }>(
        'select referrer_customer_id from referrals where workspace_id = $1 and id = $2',
        [ws, made],
      );
      if (row) taint(row.referrer_customer_id);
    }
  }
  await flush();
  return results;
}

/**
 * Whether an event applied on its own can be applied before the pending payments are written, without
 * changing what either does: a customer or subscription fact with no referral code, about a customer
 * none of the pending payments names and that is no referee (so no trigger fires, nothing is granted).
 * The rows of both are then the rows of the batch's order; only the order they reach the tables in
 * differs, and their ids were taken in the batch's order.
 */
function independent(
  event: BillingEvent,
  customers: ReadonlyMap<string, string>,
  pendingCustomers: ReadonlySet<string>,
  referrals: PaymentReferrals,
): boolean {
  switch (event.type) {
    case 'customer.created':
    case 'card.attached':
      if (event.data.referral_code !== undefined || event.data.click_id !== undefined) return false;
      break;
    case 'subscription.updated':
    case 'subscription.canceled':
      break;
    default:
      return false;
  }
  const ref = customerRef(event);
  const id = customers.get(ref);
  if (pendingCustomers.has(ref)) return false;
  if (id === undefined) return true;
  return !pendingCustomers.has(id) && referrals.referrersOf(id).length === 0;
}

function customerRef(event: BillingEvent): string {
  return event.type === 'customer.created' ? event.data.customer.external_id : event.data.customer;
}

function named(err: PerksError, index: number, event: BillingEvent, count: number): PerksError {
  if (!isPerksError(err) || count <= 1) return err;
  return new PerksError(err.code, `event ${index} ('${event.id}'): ${err.message}`, err.param, err.details);
}

/** Plans a payment for the batch, or undefined when it must be applied on its own. */
async function planPayment(
  deps: Deps,
  tx: Sql,
  index: number,
  event: PaymentEvent,
  customers: Map<string, string>,
  knownPayments: ReadonlySet<string>,
  seenPayments: Set<string>,
  tainted: ReadonlySet<string>,
  referrals: PaymentReferrals,
): Promise<Planned | undefined> {
  const ref = event.data.customer;
  const p = event.data.payment;
  const paymentKey = `payment:${p.id}`;
  // A payment reported again (or refunded before it was reported paid) is an update: applied alone.
  const repeated = knownPayments.has(p.id) || seenPayments.has(p.id) || tainted.has(paymentKey);
  seenPayments.add(p.id);
  if (repeated || tainted.has(ref)) return undefined;
  if (p.subscription !== undefined && tainted.has(`subscription:${p.subscription}`)) return undefined;
  let customer = customers.get(ref);
  if (customer !== undefined && tainted.has(customer)) return undefined;
  for (const referrer of customer === undefined ? [] : referrals.referrersOf(customer)) {
    if (tainted.has(referrer)) return undefined;
  }
  const eventRowId = deps.ids.id('evt');
  let newCustomer = false;
  if (customer === undefined) {
    // Named before the event that creates it: a bare record, as ensureCustomer makes.
    customer = deps.ids.id('cus');
    customers.set(ref, customer);
    newCustomer = true;
  }
  const plan = await referrals.plan(tx, {
    event_id: event.id,
    at: event.occurred_at,
    customer_id: customer,
    payment: {
      external_id: p.id,
      amount: p.amount,
      currency: p.currency,
      interval: p.interval ?? null,
      period_start: p.period_start ?? null,
      subscription_external_id: p.subscription ?? null,
    },
  });
  if (!plan) return undefined;
  return {
    index,
    event,
    event_row_id: eventRowId,
    customer_id: customer,
    new_customer: newCustomer,
    payment_row_id: deps.ids.id('pay'),
    plan,
  };
}

/**
 * Writes the planned payments: new customers, the event rows, the payments, then the referral side.
 * Returns false when the store did not take a row as planned (it was written meanwhile by another
 * transaction); the caller rolls back to its savepoint and applies the events one by one.
 */
async function writeBatch(
  deps: Deps,
  tx: Sql,
  ws: string,
  source: string,
  batch: readonly Planned[],
  webhooks: () => Promise<readonly WebhookSubscriber[]>,
): Promise<boolean> {
  const now = deps.clock.now();
  // A customer existed by the earliest payment that names it (never later than now), as
  // ensureCustomer records it for an event applied alone.
  const existedAtMs = new Map<string, number>();
  for (const p of batch) {
    const at = Math.min(p.event.occurred_at.getTime(), now.getTime());
    existedAtMs.set(p.customer_id, Math.min(existedAtMs.get(p.customer_id) ?? at, at));
  }
  const created = batch.filter((p) => p.new_customer);
  if (created.length > 0) {
    const rows = await tx.query<{ id: string }>(
      `insert into customers (workspace_id, id, external_id, state_as_of, created_at, updated_at)
       select $1, x.id, x.external_id, null, ${fromMs('x.created_at_ms')}, $3
       from json_to_recordset($2::json) as x(i int, id text, external_id text, created_at_ms bigint)
       order by x.i
       on conflict (workspace_id, external_id) do nothing
       returning id`,
      [
        ws,
        JSON.stringify(
          created.map((p, i) => ({
            i,
            id: p.customer_id,
            external_id: p.event.data.customer,
            created_at_ms: existedAtMs.get(p.customer_id)!,
          })),
        ),
        now,
      ],
    );
    if (rows.length !== created.length) return false;
  }
  const createdIds = new Set(created.map((p) => p.customer_id));
  const known = [...existedAtMs].filter(([id]) => !createdIds.has(id));
  if (known.length > 0) {
    await tx.query(
      `update customers c set created_at = ${fromMs('x.created_at_ms')}
       from json_to_recordset($2::json) as x(id text, created_at_ms bigint)
       where c.workspace_id = $1 and c.id = x.id and c.created_at > ${fromMs('x.created_at_ms')}`,
      [ws, JSON.stringify(known.map(([id, at]) => ({ id, created_at_ms: at })))],
    );
  }
  const events = await tx.query<{ event_id: string }>(
    `insert into events (workspace_id, source, event_id, id, type, occurred_at, payload, outcome, received_at)
     select $1, $2, x.event_id, x.id, x.type, ${fromMs('x.occurred_at_ms')}, x.payload, 'applied', $4
     from json_to_recordset($3::json) as x(event_id text, id text, type text, occurred_at_ms bigint, payload jsonb)
     on conflict (workspace_id, source, event_id) do nothing
     returning event_id`,
    [
      ws,
      source,
      JSON.stringify(
        batch.map((p) => ({
          event_id: p.event.id,
          id: p.event_row_id,
          type: p.event.type,
          occurred_at_ms: ms(p.event.occurred_at),
          payload: p.event,
        })),
      ),
      now,
    ],
  );
  if (events.length !== batch.length) return false;
  const payments = await tx.query<{ external_id: string }>(
    `insert into payments (workspace_id, id, external_id, customer_id, subscription_external_id, amount, currency,
       interval, period_start, period_end, status, amount_refunded, paid_at, created_at, updated_at)
     select $1, x.id, x.external_id, x.customer_id, x.subscription_external_id, x.amount, x.currency, x.interval,
       ${fromMs('x.period_start_ms')}, ${fromMs('x.period_end_ms')}, 'succeeded', 0, ${fromMs('x.paid_at_ms')}, $3, $3
     from json_to_recordset($2::json) as x(id text, external_id text, customer_id text,
       subscription_external_id text, amount bigint, currency text, interval text, period_start_ms bigint,
       period_end_ms bigint, paid_at_ms bigint)
     on conflict (workspace_id, external_id) do nothing
     returning external_id`,
    [
      ws,
      JSON.stringify(
        batch.map((p) => {
          const pay = p.event.data.payment;
          return {
            id: p.payment_row_id,
            external_id: pay.id,
            customer_id: p.customer_id,
            subscription_external_id: pay.subscription ?? null,
            amount: pay.amount,
            currency: pay.currency,
            interval: pay.interval ?? null,
            period_start_ms: ms(pay.period_start),
            period_end_ms: ms(pay.period_end),
            paid_at_ms: ms(p.event.occurred_at),
          };
        }),
      ),
      now,
    ],
  );
  if (payments.length !== batch.length) return false;
  const outcome = await writePaymentPlans(
    deps,
    tx,
    ws,
    batch.map((p) => p.plan),
    webhooks,
  );
  return outcome.ok;
}
