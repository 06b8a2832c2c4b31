import type { z } from 'zod';
import type { BillingEvent } from '../../../app/events.js';
import type { Deps, Sql } from '../../../app/ports.js';
import { lockStripeKey } from '../../../app/stripe_events.js';
import type { StripeSettingsRow } from '../../../app/stripe_settings.js';
import type { Invoice, InvoiceLine, SubscriptionItem } from './shapes.js';

/**
 * What every Stripe event handler shares: its context, what it may answer, and the mapping helpers
 * used by more than one handler. A handler reads the Stripe object, may look up state and take locks
 * in the transaction, and answers the provider-neutral events to apply; it writes nothing itself
 * except in `after`, which runs once those events are applied.
 */

export interface HandlerContext {
  deps: Deps;
  tx: Sql;
  workspaceId: string;
  /** The Stripe event: its id (also the provider-neutral event's id), type and when it happened. */
  event: { id: string; type: string; occurred_at: Date };
  settings: Pick<StripeSettingsRow, 'api_key' | 'plan_units_key'>;
}

export type HandlerOutcome =
  | {
      kind: 'apply';
      events: BillingEvent[];
      /** Work after the events are applied, in the same transaction; its answer is kept on the event. */
      after?: () => Promise<Record<string, unknown> | undefined>;
      /** Keys this event makes known: deferred events waiting for them are applied next. */
      resolves?: string[];
    }
  | { kind: 'ignore'; reason: string }
  | { kind: 'defer'; key: string; reason: string };

export interface StripeHandler {
  type: string;
  handle(ctx: HandlerContext, object: Record<string, unknown>): Promise<HandlerOutcome>;
}

/** An object that lacks what Perks needs: the event fails with this reason and can be retried. */
export class StripeShapeError extends Error {
  override readonly name = 'StripeShapeError';
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

export function parseObject<S extends z.ZodType>(schema: S, object: unknown): z.output<S> {
  const result = schema.safeParse(object);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((issue) => {
    const path = ['data', 'object', ...issue.path].map(String).join('.');
    const missing = valueAt(object, issue.path) === undefined;
    return missing ? `${path} is missing` : `${path}: ${issue.message}`;
  });
  throw new StripeShapeError(`the event's object does not have the expected shape: ${issues.join('; ')}`);
}

/**
 * The key one payment is known by in every event about it: the PaymentIntent where Stripe names one
 * (invoices, charges and disputes all carry it), else the charge, else the invoice.
 */
export function paymentKey(ids: {
  payment_intent?: string | null | undefined;
  charge?: string | null | undefined;
  invoice?: string | undefined;
}): string {
  const key = ids.payment_intent ?? ids.charge ?? ids.invoice;
  if (!key) throw new StripeShapeError('the event names no payment_intent, charge or invoice');
  return key;
}

export const paymentLock = (key: string) => `pay:${key}`;
export const subscriptionLock = (id: string) => `sub:${id}`;
/** Taken by the events that settle and that void one invoice, so that neither misses the other. */
export const invoiceLock = (id: string) => `inv:${id}`;

/**
 * The Perks customer (its external id, the Stripe customer id) of a payment already recorded, or
 * undefined. Takes the payment's lock first, so a payment recorded concurrently is either seen here
 * or finds this event deferred.
 */
export async function paymentCustomer(ctx: HandlerContext, key: string): Promise<string | undefined> {
  await lockStripeKey(ctx.tx, ctx.workspaceId, paymentLock(key));
  const rows = await ctx.tx.query<{ external_id: string }>(
    `select c.external_id from payments p join customers c on c.workspace_id = p.workspace_id and c.id = p.customer_id
     where p.workspace_id = $1 and p.external_id = $2`,
    [ctx.workspaceId, key],
  );
  return rows[0]?.external_id;
}

export function interval(value: string | undefined): 'month' | 'year' | undefined {
  return value === 'month' || value === 'year' ? value : undefined;
}

export const fromUnix = (s: number) => new Date(s * 1000);

const MAX_PLAN_UNITS = 1_000_000_000_000;

function parseUnits(value: string, key: string, where: string): number {
  if (!/^\d{1,13}$/.test(value.trim()) || Number(value) > MAX_PLAN_UNITS) {
    throw new StripeShapeError(
      `${where} metadata '${key}' must be a whole number of units from 0 to ${MAX_PLAN_UNITS}, got '${value}'`,
    );
  }
  return Number(value);
}

/**
 * A plan's units (e.g. minutes): the metadata value under the workspace's key on each item's price,
 * or else on its product (expanded in the event, or as last seen in a product event or a sync), times
 * the item's quantity, summed over the items that state it. Undefined when no item states it.
 */
export async function planUnits(
  ctx: HandlerContext,
  items: readonly SubscriptionItem[],
): Promise<number | undefined> {
  const key = ctx.settings.plan_units_key;
  const productIds = items.map((i) => i.price.product).filter((p): p is string => typeof p === 'string');
  const stored = productIds.length
    ? await ctx.tx.query<{ id: string; metadata: Record<string, string> }>(
        'select id, metadata from stripe_products where workspace_id = $1 and id = any($2::text[])',
        [ctx.workspaceId, productIds],
      )
    : [];
  const productMetadata = new Map(stored.map((p) => [p.id, p.metadata]));
  let total: number | undefined;
  for (const item of items) {
    const product = item.price.product;
    const fromPrice = item.price.metadata[key];
    const fromProduct =
      typeof product === 'string' ? productMetadata.get(product)?.[key] : product.metadata[key];
    const value = fromPrice ?? fromProduct;
    if (value === undefined) continue;
    const where =
      fromPrice !== undefined
        ? `price ${item.price.id}`
        : `product ${typeof product === 'string' ? product : product.id}`;
    total = (total ?? 0) + parseUnits(value, key, where) * (item.quantity ?? 1);
  }
  return total;
}

/** Whether a line bills the subscription, in either API shape (see shapes.ts). */
function billsSubscription(l: InvoiceLine): boolean {
  return (
    l.type === 'subscription' || Boolean(l.price?.recurring) || l.parent?.type === 'subscription_item_details'
  );
}

function isProration(l: InvoiceLine): boolean {
  return Boolean(
    l.proration ||
    l.parent?.subscription_item_details?.proration ||
    l.parent?.invoice_item_details?.proration,
  );
}

/**
 * The line that bills the subscription, and the period it bills: that line's, else the invoice's. A
 * renewal invoice's own period_start and period_end are those of the period that just ended, and a
 * subscription's first invoice has both at its creation; its subscription line names the period
 * billed. A line that bills the subscription's own price is preferred to a proration (a renewal after
 * a mid-period change lists both, the proration billing days of the period before); an invoice of
 * prorations only takes its first.
 */
export function billedPeriod(inv: Invoice) {
  const lines = inv.lines.data.filter((l) => billsSubscription(l) || isProration(l));
  const line = lines.find((l) => !isProration(l)) ?? lines[0];
  return {
    line,
    start: fromUnix(line?.period?.start ?? inv.period_start),
    end: fromUnix(line?.period?.end ?? inv.period_end),
  };
}

/** The subscription an invoice bills, wherever the API version puts it. */
export function invoiceSubscription(inv: Invoice): string | undefined {
  return (
    inv.subscription ??
    inv.parent?.subscription_details?.subscription ??
    inv.lines.data.find((l) => l.subscription)?.subscription ??
    undefined
  );
}
