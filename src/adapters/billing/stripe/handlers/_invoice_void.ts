import { voidInvoice } from '../../../../app/ledger_settlements.js';
import { promotionSettlementHooks } from '../../../../app/promo_settlement_hooks.js';
import { lockStripeKey } from '../../../../app/stripe_events.js';
import { type HandlerOutcome, invoiceLock, parseObject, type StripeHandler } from '../mapping.js';
import { invoice } from '../shapes.js';

/** All a void needs of the invoice: which one, and whose. */
const invoiceRef = invoice.pick({ id: true, customer: true });

/**
 * invoice.voided and invoice.deleted (a draft) -> void the invoice's settlement, as
 * `POST /v1/invoices/{id}/void` would: the credit it used comes back and its promotion discounts are
 * undone, so a `once` discount is given to the next invoice, the one the customer actually pays.
 *
 * Nothing to give back is not an error, and the event is ignored with the reason: an invoice Perks
 * never settled (not a draft Perks settles, settled through the API for another customer, or not
 * settled yet: a void delivered before the draft's invoice.created, which then settles nothing), or a
 * settlement already voided (by an operator, or by the other of the two events).
 *
 * invoice.marked_uncollectible is not handled on purpose: the customer still owes that invoice, so
 * the discount and the credit stay where they were used.
 */
export function invoiceVoidHandler(type: 'invoice.voided' | 'invoice.deleted'): StripeHandler {
  return {
    type,
    async handle(ctx, object): Promise<HandlerOutcome> {
      const inv = parseObject(invoiceRef, object);
      // An invoice.created of the same invoice settling meanwhile either committed first (its
      // settlement is voided here) or finds this event once it has the lock, and settles nothing.
      await lockStripeKey(ctx.tx, ctx.workspaceId, invoiceLock(inv.id));
      // The row lock makes an operator's void at the same time wait for this event, then find it done.
      const [settled] = await ctx.tx.query<{ id: string; status: string; customer: string }>(
        `select s.id, s.status, c.external_id as customer
         from ledger_settlements s join customers c on c.workspace_id = s.workspace_id and c.id = s.customer_id
         where s.workspace_id = $1 and s.invoice_id = $2
         for update of s`,
        [ctx.workspaceId, inv.id],
      );
      if (!settled) {
        return {
          kind: 'ignore',
          reason: `Perks settled no invoice '${inv.id}', so nothing is given back; its invoice.created, if it comes later, settles nothing`,
        };
      }
      if (settled.customer !== inv.customer) {
        return {
          kind: 'ignore',
          reason: `the settlement ${settled.id} of invoice '${inv.id}' is for another customer than '${inv.customer}'; it is left as it is`,
        };
      }
      if (settled.status === 'voided') {
        return {
          kind: 'ignore',
          reason: `the settlement ${settled.id} of invoice '${inv.id}' was already voided; nothing more is given back`,
        };
      }
      return {
        kind: 'apply',
        events: [],
        async after() {
          const voided = await voidInvoice(
            ctx.deps,
            ctx.tx,
            ctx.workspaceId,
            inv.id,
            promotionSettlementHooks(ctx.deps),
            // A void invoice's items went with it, and Stripe refuses to delete them. A deleted draft's
            // items are deleted too (an item already gone counts as deleted), so that none is left
            // pending for the customer's next invoice.
            { sent_items: type === 'invoice.voided' ? 'leave' : 'delete' },
          );
          // What was given back: the discount undone and the credit returned.
          return {
            settlement: voided.id,
            voided_at: voided.voided_at,
            discount_cents: voided.discount_cents,
            credit_cents: voided.credit_cents,
          };
        },
      };
    },
  };
}
