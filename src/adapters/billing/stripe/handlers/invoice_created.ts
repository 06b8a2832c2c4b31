import { promotionSettlementHooks } from '../../../../app/promo_settlement_hooks.js';
import { settleDraftInvoice } from '../../../../app/stripe_invoices.js';
import { lockStripeKey } from '../../../../app/stripe_events.js';
import {
  billedPeriod,
  invoiceLock,
  invoiceSubscription,
  parseObject,
  type StripeHandler,
  subscriptionLock,
} from '../mapping.js';
import { type Invoice, invoice } from '../shapes.js';

/**
 * What Stripe's own invoice-level discounts take off. Stripe's `subtotal` already nets the line
 * items' discounts, while `total_discount_amounts` lists those too, so only the amounts of the
 * discounts named in the invoice's `discounts` are taken off. A payload without `discounts` (or an
 * amount that names no discount) cannot tell them apart, and every amount is taken off: the smaller
 * base, so a discount is never larger than what the customer is charged.
 */
function invoiceLevelDiscounts(inv: Invoice): number {
  const amounts = inv.total_discount_amounts ?? [];
  const onInvoice = inv.discounts ? new Set(inv.discounts) : undefined;
  return amounts
    .filter((d) => !onInvoice || !d.discount || onInvoice.has(d.discount))
    .reduce((sum, d) => sum + d.amount, 0);
}

/**
 * invoice.created (a draft) -> settle: the invoice is settled as `/v1/invoices/settle` would settle it
 * (discounts, then credit), and each discount or credit line is queued as a negative invoice item on
 * the draft, sent to Stripe by the outbox before the invoice finalises (Stripe finalises a
 * subscription invoice about an hour after creating it). Settling is idempotent per invoice.
 *
 * An invoice for a subscription Perks has not seen yet waits (deferred) for that subscription, so a
 * discount bound to the subscription is not missed. An invoice Stripe has already said it voided or
 * deleted (its events can come in any order, and this one may be retried late) is not settled.
 */
const handler: StripeHandler = {
  type: 'invoice.created',
  async handle(ctx, object) {
    const inv = parseObject(invoice, object);
    if (inv.status !== 'draft') {
      return {
        kind: 'ignore',
        reason: `the invoice is '${inv.status ?? 'unknown'}'; Perks adds lines to drafts only`,
      };
    }
    await lockStripeKey(ctx.tx, ctx.workspaceId, invoiceLock(inv.id));
    const [gone] = await ctx.tx.query<{ stripe_event_id: string; type: string }>(
      `select stripe_event_id, type from stripe_events
       where workspace_id = $1 and type in ('invoice.voided', 'invoice.deleted')
         and payload #>> '{data,object,id}' = $2
       order by occurred_at limit 1`,
      [ctx.workspaceId, inv.id],
    );
    if (gone) {
      return {
        kind: 'ignore',
        reason: `Stripe sent ${gone.type} for this invoice (${gone.stripe_event_id}) before it was settled; nothing is settled on an invoice nobody will pay`,
      };
    }
    if (!ctx.settings.api_key) {
      return {
        kind: 'ignore',
        reason:
          'no Stripe API key is configured (PUT /v1/stripe/settings), so the invoice was not settled; retry after setting one',
      };
    }
    const subtotal = inv.subtotal - invoiceLevelDiscounts(inv);
    if (subtotal <= 0)
      return { kind: 'ignore', reason: `nothing to settle (subtotal after Stripe discounts is ${subtotal})` };
    const subscription = invoiceSubscription(inv);
    if (subscription) {
      await lockStripeKey(ctx.tx, ctx.workspaceId, subscriptionLock(subscription));
      const known = await ctx.tx.query(
        'select 1 from subscriptions where workspace_id = $1 and external_id = $2',
        [ctx.workspaceId, subscription],
      );
      if (known.length === 0) {
        return {
          kind: 'defer',
          key: subscriptionLock(subscription),
          reason: `waiting for the subscription ${subscription} (customer.subscription.created)`,
        };
      }
    }
    return {
      kind: 'apply',
      events: [],
      async after() {
        const { settlement, invoice_item_calls } = await settleDraftInvoice(
          ctx.deps,
          ctx.tx,
          ctx.workspaceId,
          {
            invoice_id: inv.id,
            customer: inv.customer,
            subscription,
            currency: inv.currency,
            subtotal_cents: subtotal,
            period_start: billedPeriod(inv).start,
          },
          promotionSettlementHooks(ctx.deps),
        );
        return {
          settlement: settlement.id,
          discount_cents: settlement.discount_cents,
          credit_cents: settlement.credit_cents,
          stripe_calls: invoice_item_calls,
        };
      },
    };
  },
};
export default handler;
