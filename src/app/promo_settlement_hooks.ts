import { slotKey } from '../core/promo/rules.js';
import type { SettlementHooks } from './ledger_settlements.js';
import type { Deps } from './ports.js';
import { promotionDiscountLines, undoPromotionDiscountLines } from './promo_discounts.js';

/**
 * Invoice settlement with promo codes: the subscription's active promotions give discount lines
 * first, inside the settlement transaction, and credits cover what is left. Voiding the invoice gives
 * the discounted periods back.
 */
export function promotionSettlementHooks(deps: Deps): SettlementHooks {
  return {
    async discountLines(tx, workspaceId, invoice) {
      // The settlement's lock already looked: no open redemption and no recorded line, no discount.
      if (invoice.may_have_discounts === false) return [];
      const lines = await promotionDiscountLines(deps, tx, workspaceId, {
        invoice_id: invoice.invoice_id,
        customer_id: invoice.customer_id,
        subscription: invoice.subscription_id ?? undefined,
        currency: invoice.currency,
        subtotal_cents: invoice.subtotal_cents,
        period_start: invoice.period_start,
      });
      return lines.map((line) => ({
        type: 'discount' as const,
        description: line.description,
        amount_cents: line.amount_cents,
        reference: line.redemption_id,
      }));
    },
    async namesSubscription(tx, workspaceId, customerId, subscription) {
      const [row] = await tx.query<{ named: boolean }>(
        `select exists (select 1 from redemptions
           where workspace_id = $1 and customer_id = $2 and slot_key = $3) as named`,
        [workspaceId, customerId, slotKey(subscription, customerId)],
      );
      return row?.named ?? false;
    },
    async revertDiscounts(tx, workspaceId, invoice) {
      await undoPromotionDiscountLines(deps, tx, workspaceId, invoice.invoice_id);
    },
  };
}
