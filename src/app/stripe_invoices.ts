import { ensureCustomer } from './customers.js';
import {
  type SettlementHooks,
  type SettlementView,
  noDiscounts,
  settleInvoice,
} from './ledger_settlements.js';
import type { Deps, Sql } from './ports.js';
import { enqueueStripeCalls, invoiceItemCallKey } from './stripe_calls.js';

/**
 * A draft Stripe invoice settled by Perks: the discounts and credits that `/v1/invoices/settle` would
 * compute become negative invoice items on the draft, through the outbox, before Stripe finalises it.
 * Settlement is idempotent per invoice and each line's call has a dedupe key of its own, so an
 * invoice seen twice (a redelivered or retried event) is settled and charged once.
 *
 * The undo is `voidInvoice`: in the void's transaction, `revertInvoiceItemCalls` (stripe_calls.ts)
 * cancels the items not yet sent and queues the deletion of those Stripe added.
 */
export interface DraftInvoice {
  invoice_id: string;
  /** Stripe's customer id, which is the Perks customer's external_id. */
  customer: string;
  subscription?: string | undefined;
  currency: string;
  subtotal_cents: number;
  /** The start of the period the invoice bills. */
  period_start?: Date | undefined;
}

export interface DraftSettlement {
  settlement: SettlementView;
  /** The outbox rows written now (none when they were written for this invoice before). */
  invoice_item_calls: string[];
}

export async function settleDraftInvoice(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  invoice: DraftInvoice,
  hooks: SettlementHooks = noDiscounts,
): Promise<DraftSettlement> {
  // Stripe knows the customer, so a customer Perks has not heard of yet is created bare here.
  await ensureCustomer(deps, tx, workspaceId, invoice.customer);
  const settlement = await settleInvoice(
    deps,
    tx,
    workspaceId,
    {
      invoice_id: invoice.invoice_id,
      customer: invoice.customer,
      subscription: invoice.subscription,
      currency: invoice.currency,
      subtotal_cents: invoice.subtotal_cents,
      period_start: invoice.period_start,
    },
    hooks,
  );
  if (settlement.status !== 'applied') return { settlement, invoice_item_calls: [] };
  const calls = settlement.lines
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => line.amount_cents > 0)
    .map(({ line, index }) => ({
      dedupe_key: invoiceItemCallKey(invoice.invoice_id, index),
      call: {
        operation: 'invoiceItems.create' as const,
        params: {
          customer: invoice.customer,
          invoice: invoice.invoice_id,
          amount: -line.amount_cents,
          currency: invoice.currency,
          description: line.description,
          metadata: {
            perks_settlement: settlement.id,
            perks_line: String(index),
            perks_line_type: line.type,
          },
        },
      },
    }));
  const written = await enqueueStripeCalls(deps, tx, workspaceId, calls);
  return { settlement, invoice_item_calls: written.map((r) => r.id) };
}
