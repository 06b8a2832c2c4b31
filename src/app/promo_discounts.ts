import {
  type DiscountTerms,
  planInvoiceDiscounts,
  type ScheduledRedemption,
} from '../core/promo/discount.js';
import { slotKey } from '../core/promo/rules.js';
import { requireCustomer, subscriptionExternalId } from './customers.js';
import type { Deps, Sql } from './ports.js';

/**
 * Promotion discounts on invoices. Invoice settlement calls `promotionDiscountLines` inside its own
 * transaction, before it applies credits, and applies credits to what is left. Each (redemption,
 * invoice) pair is recorded once under a unique key, which is what makes an invoice consume one period
 * of a repeating discount exactly once however often settlement is retried. The undo for a voided
 * invoice is `undoPromotionDiscountLines`, named next to it.
 */

export interface DiscountLine {
  type: 'discount';
  redemption_id: string;
  promotion_id: string;
  code: string;
  amount_cents: number;
  description: string;
}

export interface InvoiceForDiscount {
  invoice_id: string;
  /** Perks id or external id. */
  customer_id: string;
  /**
   * The subscription the invoice bills: the caller's id (external_id) or the Perks id of a known
   * subscription. An invoice without one takes the customer's redemptions made without one.
   */
  subscription?: string | undefined;
  currency: string;
  subtotal_cents: number;
  /** The start of the billed period; when absent the settlement time stands for it. */
  period_start?: Date | undefined;
}

interface ScheduledRow {
  id: string;
  promotion_id: string;
  code: string;
  slot_key: string;
  stackable: boolean;
  periods_total: number | null;
  applies_from: Date | null;
  percent_off_bps: number | null;
  amount_off: number | null;
  currency: string | null;
  max_discount_amount: number | null;
}

interface DiscountRow {
  redemption_id: string;
  promotion_id: string;
  code: string;
  amount_cents: number;
  description: string;
  voided_at: Date | null;
}

function line(r: DiscountRow): DiscountLine {
  return {
    type: 'discount',
    redemption_id: r.redemption_id,
    promotion_id: r.promotion_id,
    code: r.code,
    amount_cents: r.amount_cents,
    description: r.description,
  };
}

async function recordedLines(tx: Sql, workspaceId: string, invoiceId: string) {
  return tx.query<DiscountRow>(
    `select d.redemption_id, r.promotion_id, r.code, d.amount_cents, d.description, d.voided_at
     from promotion_discounts d join redemptions r on r.workspace_id = d.workspace_id and r.id = d.redemption_id
     where d.workspace_id = $1 and d.invoice_id = $2 order by r.redeemed_at, r.id`,
    [workspaceId, invoiceId],
  );
}

/**
 * Computes and records the promotion discounts on one invoice, oldest redemption first, never more
 * than the subtotal. Called again for the same invoice it answers the lines recorded the first time
 * (none once the invoice was voided) and consumes nothing more.
 */
export async function promotionDiscountLines(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  invoice: InvoiceForDiscount,
): Promise<DiscountLine[]> {
  const customer = await requireCustomer(tx, workspaceId, invoice.customer_id, 'customer_id');
  const slot = slotKey(
    invoice.subscription === undefined
      ? null
      : await subscriptionExternalId(tx, workspaceId, invoice.subscription),
    customer.id,
  );
  // Locking the redemptions first serialises concurrent settlements of invoices that could use them,
  // so two invoices never both take the last period.
  const candidates = await tx.query<ScheduledRow>(
    `select r.id, r.promotion_id, r.code, r.slot_key, r.stackable, r.periods_total, r.applies_from,
       p.percent_off_bps, p.amount_off, p.currency, p.max_discount_amount
     from redemptions r join promotions p on p.workspace_id = r.workspace_id and p.id = r.promotion_id
     where r.workspace_id = $1 and r.slot_key = $2 and r.customer_id = $3
       and r.voided_at is null and r.completed_at is null
     order by r.redeemed_at, r.id
     for update of r`,
    [workspaceId, slot, customer.id],
  );
  const recorded = await recordedLines(tx, workspaceId, invoice.invoice_id);
  if (recorded.length > 0) return recorded.filter((r) => r.voided_at === null).map(line);
  if (candidates.length === 0) return [];

  const applied = await tx.query<{ redemption_id: string; n: number }>(
    `select redemption_id, count(*)::int8 as n from promotion_discounts
     where workspace_id = $1 and redemption_id = any($2::text[]) and voided_at is null group by redemption_id`,
    [workspaceId, candidates.map((c) => c.id)],
  );
  const appliedBy = new Map(applied.map((a) => [a.redemption_id, a.n]));
  const schedule: ScheduledRedemption[] = candidates.map((c) => {
    const terms: DiscountTerms = {
      percent_off_bps: c.percent_off_bps,
      amount_off: c.amount_off,
      currency: c.currency,
      max_discount_amount: c.max_discount_amount,
    };
    return {
      id: c.id,
      promotion_id: c.promotion_id,
      code: c.code,
      terms,
      periods_total: c.periods_total,
      periods_applied: appliedBy.get(c.id) ?? 0,
      applies_from: c.applies_from,
    };
  });
  const now = deps.clock.now();
  const planned = planInvoiceDiscounts(schedule, {
    subtotal_cents: invoice.subtotal_cents,
    currency: invoice.currency,
    effective_at: invoice.period_start ?? now,
  });
  const byId = new Map(candidates.map((c) => [c.id, c]));
  for (const d of planned) {
    await tx.query(
      `insert into promotion_discounts (workspace_id, id, redemption_id, invoice_id, amount_cents, currency,
         period_number, description, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        workspaceId,
        deps.ids.id('pdisc'),
        d.redemption_id,
        invoice.invoice_id,
        d.amount_cents,
        invoice.currency,
        d.period_number,
        d.description,
        now,
      ],
    );
    if (d.completes) {
      // The schedule is used up: the redemption is complete and the subscription may take another one,
      // or this one again. The slot, then its hold on the promotion, in the order a redemption takes them.
      const r = byId.get(d.redemption_id)!;
      await tx.query('update redemptions set completed_at = $3 where workspace_id = $1 and id = $2', [
        workspaceId,
        r.id,
        now,
      ]);
      await tx.query(
        `update promotion_slots set active_count = active_count - 1, exclusive_count = exclusive_count - $3
         where workspace_id = $1 and slot_key = $2`,
        [workspaceId, r.slot_key, r.stackable ? 0 : 1],
      );
      await tx.query(
        `update promotion_slot_promotions set active_count = active_count - 1
         where workspace_id = $1 and slot_key = $2 and promotion_id = $3`,
        [workspaceId, r.slot_key, r.promotion_id],
      );
    }
  }
  return planned.map((d) => ({
    type: 'discount' as const,
    redemption_id: d.redemption_id,
    promotion_id: d.promotion_id,
    code: d.code,
    amount_cents: d.amount_cents,
    description: d.description,
  }));
}

/**
 * The undo of `promotionDiscountLines` for a voided invoice: its discounts are voided, which gives
 * their periods back. A redemption completed by that invoice becomes active again when its
 * subscription can hold it (no other promotion took the slot meanwhile, and the same promotion was not
 * redeemed for it again); otherwise it stays complete.
 * Idempotent: a second call finds nothing left to undo. Returns the lines it voided.
 */
export async function undoPromotionDiscountLines(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  invoiceId: string,
): Promise<DiscountLine[]> {
  await tx.query(
    `select id from redemptions where workspace_id = $1
       and id in (select redemption_id from promotion_discounts where workspace_id = $1 and invoice_id = $2)
     order by id for update`,
    [workspaceId, invoiceId],
  );
  const now = deps.clock.now();
  const voided = await tx.query<{ redemption_id: string }>(
    `update promotion_discounts set voided_at = $3 where workspace_id = $1 and invoice_id = $2 and voided_at is null
     returning redemption_id`,
    [workspaceId, invoiceId, now],
  );
  if (voided.length === 0) return [];
  const reopenable = await tx.query<{
    id: string;
    promotion_id: string;
    slot_key: string;
    stackable: boolean;
  }>(
    `select id, promotion_id, slot_key, stackable from redemptions
     where workspace_id = $1 and id = any($2::text[]) and completed_at is not null and voided_at is null
     order by id`,
    [workspaceId, voided.map((v) => v.redemption_id)],
  );
  for (const r of reopenable) {
    const exclusive = r.stackable ? 0 : 1;
    const taken = await tx.query(
      `insert into promotion_slots (workspace_id, slot_key, active_count, exclusive_count)
       values ($1, $2, 1, $3)
       on conflict (workspace_id, slot_key) do update
         set active_count = promotion_slots.active_count + 1,
             exclusive_count = promotion_slots.exclusive_count + excluded.exclusive_count
         where promotion_slots.exclusive_count = 0
           and (excluded.exclusive_count = 0 or promotion_slots.active_count = 0)
       returning 1`,
      [workspaceId, r.slot_key, exclusive],
    );
    if (taken.length === 0) continue;
    // Then the slot's hold on the promotion, as a redemption takes it: a stackable promotion redeemed
    // again for the subscription since holds it, and this one stays complete.
    const held = await tx.query(
      `insert into promotion_slot_promotions (workspace_id, slot_key, promotion_id, active_count)
       values ($1, $2, $3, 1)
       on conflict (workspace_id, slot_key, promotion_id) do update
         set active_count = promotion_slot_promotions.active_count + 1
         where promotion_slot_promotions.active_count = 0
       returning 1`,
      [workspaceId, r.slot_key, r.promotion_id],
    );
    if (held.length === 0) {
      // The undo of the slot taken just above.
      await tx.query(
        `update promotion_slots set active_count = active_count - 1, exclusive_count = exclusive_count - $3
         where workspace_id = $1 and slot_key = $2`,
        [workspaceId, r.slot_key, exclusive],
      );
      continue;
    }
    await tx.query('update redemptions set completed_at = null where workspace_id = $1 and id = $2', [
      workspaceId,
      r.id,
    ]);
  }
  const recorded = await recordedLines(tx, workspaceId, invoiceId);
  const ids = new Set(voided.map((v) => v.redemption_id));
  return recorded.filter((r) => ids.has(r.redemption_id)).map(line);
}
