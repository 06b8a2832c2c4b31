import { isStale } from '../core/billing/facts.js';
import { PerksError } from '../core/errors.js';
import type { Deps, Sql } from './ports.js';

export interface CustomerRow {
  workspace_id: string;
  id: string;
  external_id: string;
  email: string | null;
  name: string | null;
  metadata: Record<string, string>;
  parent_customer_id: string | null;
  state_as_of: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface PaymentMethodRow {
  id: string;
  external_id: string | null;
  fingerprint: string;
  brand: string | null;
  last4: string | null;
  attached_at: Date;
}

interface SubscriptionRow {
  id: string;
  external_id: string;
  plan_id: string | null;
  plan_units: number | null;
  interval: 'month' | 'year' | null;
  status: string;
  current_period_start: Date | null;
  current_period_end: Date | null;
  amount: number | null;
  currency: string | null;
  canceled_at: Date | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export interface CustomerInput {
  external_id: string;
  email?: string | null | undefined;
  name?: string | null | undefined;
  metadata?: Record<string, string> | undefined;
  parent_customer_id?: string | null | undefined;
}

/** Finds a customer by its Perks id or by the caller's external id; a Perks id match wins. */
export async function findCustomer(
  sql: Sql,
  workspaceId: string,
  ref: string,
): Promise<CustomerRow | undefined> {
  const rows = await sql.query<CustomerRow>(
    `select * from customers where workspace_id = $1 and (id = $2 or external_id = $2)
     order by (id = $2) desc limit 1`,
    [workspaceId, ref],
  );
  return rows[0];
}

export async function requireCustomer(sql: Sql, workspaceId: string, ref: string, param = 'customer') {
  const row = await findCustomer(sql, workspaceId, ref);
  if (!row) throw new PerksError('resource_not_found', `no customer '${ref}'`, param);
  return row;
}

/**
 * The caller's id (external_id) of a subscription named by `ref`. Redemptions and settlements name a
 * subscription by the caller's id, which may precede any billing event about it: a Perks subscription
 * id is translated, any other reference is taken as the caller's id already.
 */
export async function subscriptionExternalId(sql: Sql, workspaceId: string, ref: string): Promise<string> {
  const [row] = await sql.query<{ external_id: string }>(
    'select external_id from subscriptions where workspace_id = $1 and id = $2',
    [workspaceId, ref],
  );
  return row?.external_id ?? ref;
}

/**
 * Resolves a parent reference and refuses one that would make the account tree a cycle (a customer
 * owning itself, directly or through its descendants).
 */
async function resolveParent(
  sql: Sql,
  workspaceId: string,
  childId: string | undefined,
  ref: string,
  param: string,
): Promise<string> {
  const parent = await findCustomer(sql, workspaceId, ref);
  if (!parent) {
    throw new PerksError('customer_parent_invalid', `parent customer '${ref}' does not exist`, param);
  }
  if (childId) {
    const chain = await sql.query<{ id: string }>(
      `with recursive up(id, parent, depth) as (
         select id, parent_customer_id, 0 from customers where workspace_id = $1 and id = $2
         union all
         select c.id, c.parent_customer_id, up.depth + 1 from customers c
           join up on c.workspace_id = $1 and c.id = up.parent where up.depth < 100)
       select id from up where id = $3`,
      [workspaceId, parent.id, childId],
    );
    if (chain.length > 0) {
      throw new PerksError(
        'customer_parent_invalid',
        `customer '${ref}' cannot be the parent: it is this customer or one of its sub-accounts`,
        param,
      );
    }
  }
  return parent.id;
}

/** The earlier of two instants. */
const earlier = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);

/**
 * Moves a customer's created_at back to `at` when a billing fact shows it existed earlier. A
 * customer's age is judged from when the billing system created it (new_accounts_only, the default
 * `attributed_at` of a support repair), not from when Perks first heard of it, so the earliest
 * instant any fact names it at wins. Returns the updated row, or undefined when nothing moved.
 */
async function backdateCustomer(
  tx: Sql,
  workspaceId: string,
  id: string,
  at: Date,
): Promise<CustomerRow | undefined> {
  const rows = await tx.query<CustomerRow>(
    `update customers set created_at = $3 where workspace_id = $1 and id = $2 and created_at > $3 returning *`,
    [workspaceId, id, at],
  );
  return rows[0];
}

/**
 * Creates or updates the customer with this external id. `asOf` is when the caller's facts were
 * true: an API call says "now", an event says its occurred_at. Older facts than the stored state do
 * not overwrite it. The customer's created_at is the earliest `asOf` seen (never later than now):
 * when the billing system created it, as far as Perks knows. Returns the row and whether it was
 * created.
 */
export async function upsertCustomer(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: CustomerInput,
  asOf: Date,
  param = '',
): Promise<{ row: CustomerRow; created: boolean; stale: boolean }> {
  const existing = await tx.query<CustomerRow>(
    'select * from customers where workspace_id = $1 and external_id = $2 for update',
    [workspaceId, input.external_id],
  );
  const current = existing[0];
  const parentParam = `${param}parent_customer_id`;
  const parentId =
    input.parent_customer_id === undefined || input.parent_customer_id === null
      ? input.parent_customer_id
      : await resolveParent(tx, workspaceId, current?.id, input.parent_customer_id, parentParam);
  const now = deps.clock.now();
  if (!current) {
    const rows = await tx.query<CustomerRow>(
      `insert into customers (workspace_id, id, external_id, email, name, metadata, parent_customer_id,
         state_as_of, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (workspace_id, external_id) do nothing returning *`,
      [
        workspaceId,
        deps.ids.id('cus'),
        input.external_id,
        input.email ?? null,
        input.name ?? null,
        input.metadata ?? {},
        parentId ?? null,
        asOf,
        earlier(asOf, now),
        now,
      ],
    );
    // A concurrent insert of the same external id won the race: apply this fact as an update to it.
    if (rows.length === 0) return upsertCustomer(deps, tx, workspaceId, input, asOf, param);
    return { row: rows[0]!, created: true, stale: false };
  }
  // An older fact than the stored state changes nothing else, but still says the customer existed then.
  const existedAt = earlier(asOf, now);
  const backdated =
    existedAt.getTime() < current.created_at.getTime()
      ? ((await backdateCustomer(tx, workspaceId, current.id, existedAt)) ?? current)
      : current;
  if (isStale(current.state_as_of, asOf)) return { row: backdated, created: false, stale: true };
  const rows = await tx.query<CustomerRow>(
    `update customers set
       email = case when $3::boolean then $4 else email end,
       name = case when $5::boolean then $6 else name end,
       metadata = case when $7::boolean then $8::jsonb else metadata end,
       parent_customer_id = case when $9::boolean then $10 else parent_customer_id end,
       state_as_of = greatest(state_as_of, $11), updated_at = $12
     where workspace_id = $1 and id = $2 returning *`,
    [
      workspaceId,
      current.id,
      input.email !== undefined,
      input.email ?? null,
      input.name !== undefined,
      input.name ?? null,
      input.metadata !== undefined,
      input.metadata ?? {},
      parentId !== undefined,
      parentId ?? null,
      asOf,
      now,
    ],
  );
  return { row: rows[0]!, created: false, stale: false };
}

/**
 * Billing facts may name a customer before the fact that creates it arrives; a bare record is made
 * so nothing is lost, and the creating fact fills it in later. `at` is when the fact occurred: the
 * customer existed by then, so its created_at is moved back to it (never later than now). Without
 * `at` (no fact time is known) a new record is created as of now.
 */
export async function ensureCustomer(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  externalId: string,
  at?: Date,
) {
  const now = deps.clock.now();
  const existedAt = at === undefined ? now : earlier(at, now);
  const found = await findCustomer(tx, workspaceId, externalId);
  if (found) {
    if (found.created_at.getTime() <= existedAt.getTime()) return found;
    return (await backdateCustomer(tx, workspaceId, found.id, existedAt)) ?? found;
  }
  const rows = await tx.query<CustomerRow>(
    `insert into customers (workspace_id, id, external_id, state_as_of, created_at, updated_at)
     values ($1, $2, $3, null, $4, $5)
     on conflict (workspace_id, external_id) do update set created_at = least(customers.created_at, excluded.created_at)
     returning *`,
    [workspaceId, deps.ids.id('cus'), externalId, existedAt, now],
  );
  return rows[0]!;
}

/**
 * The API view of customers with their cards and subscriptions, loaded for the whole page in two
 * queries (one per child table) rather than two per customer.
 */
export async function customerViews(sql: Sql, rows: readonly CustomerRow[]) {
  const workspaceId = rows[0]?.workspace_id;
  if (workspaceId === undefined) return [];
  const ids = rows.map((r) => r.id);
  const [cards, subs] = await Promise.all([
    sql.query<PaymentMethodRow & { customer_id: string }>(
      `select * from payment_methods where workspace_id = $1 and customer_id = any($2::text[])
       order by attached_at, id`,
      [workspaceId, ids],
    ),
    sql.query<SubscriptionRow & { customer_id: string }>(
      `select * from subscriptions where workspace_id = $1 and customer_id = any($2::text[])
       order by created_at, id`,
      [workspaceId, ids],
    ),
  ]);
  return rows.map((row) => {
    const own = cards.filter((c) => c.customer_id === row.id);
    return {
      id: row.id,
      object: 'customer' as const,
      external_id: row.external_id,
      email: row.email,
      name: row.name,
      metadata: row.metadata,
      parent_customer_id: row.parent_customer_id,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      payment_methods: own.map((c, i) => ({
        id: c.id,
        external_id: c.external_id,
        fingerprint: c.fingerprint,
        brand: c.brand,
        last4: c.last4,
        attached_at: c.attached_at.toISOString(),
        first: i === 0,
      })),
      subscriptions: subs
        .filter((s) => s.customer_id === row.id)
        .map((s) => ({
          id: s.id,
          external_id: s.external_id,
          plan_id: s.plan_id,
          plan_units: s.plan_units,
          interval: s.interval,
          status: s.status,
          current_period_start: iso(s.current_period_start),
          current_period_end: iso(s.current_period_end),
          amount: s.amount,
          currency: s.currency,
          canceled_at: iso(s.canceled_at),
        })),
    };
  });
}

export async function customerView(sql: Sql, row: CustomerRow) {
  const [view] = await customerViews(sql, [row]);
  return view!;
}

export type CustomerView = Awaited<ReturnType<typeof customerView>>;

export interface Page {
  limit: number;
  starting_after?: string | undefined;
}

/** Newest first, like every list in the API; `starting_after` continues after the given id. */
export async function listCustomers(sql: Sql, workspaceId: string, page: Page, email?: string) {
  const rows = await sql.query<CustomerRow>(
    `select * from customers where workspace_id = $1
       and ($2::text is null or id < $2) and ($3::text is null or email = $3)
     order by id desc limit $4`,
    [workspaceId, page.starting_after ?? null, email ?? null, page.limit + 1],
  );
  const data = await customerViews(sql, rows.slice(0, page.limit));
  return { object: 'list' as const, data, has_more: rows.length > page.limit };
}
