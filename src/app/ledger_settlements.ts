import { PerksError } from '../core/errors.js';
import { type DiscountLine, planSettlement } from '../core/ledger/settlement.js';
import { subscriptionExternalId } from './customers.js';
import { assetsById } from './ledger_assets.js';
import { decideOnKnownState, NeedsTransaction, type Posted } from './ledger_known.js';
import {
  type AccountState,
  type Locked,
  lockAccounts,
  lockLedger,
  lotsById,
  Posting,
  restoredTemplate,
  reversedGrants,
} from './ledger_posting.js';
import type { Deps, Sql } from './ports.js';
import { revertInvoiceItemCalls } from './stripe_calls.js';

export type { DiscountLine };

/** What a billing system sends when it finalises an invoice. */
export interface InvoiceInput {
  invoice_id: string;
  customer: string;
  subscription?: string | undefined;
  currency: string;
  subtotal_cents: number;
  /**
   * The start of the period the invoice bills, when the billing system says it: a promotion that
   * applies from a later period (redeemed after the current one was paid) is matched against it.
   * Without it the settlement time stands for it.
   */
  period_start?: Date | undefined;
}

/** The invoice as the discount step sees it, with the customer and subscription resolved. */
export interface InvoiceToSettle {
  invoice_id: string;
  customer_id: string;
  /** The subscription by the caller's id (its external_id), as redemptions name it. */
  subscription_id: string | null;
  currency: string;
  subtotal_cents: number;
  settled_at: Date;
  /** The billed period's start, as given with the invoice. */
  period_start?: Date | undefined;
  /**
   * False when the settlement's lock found no open promotion redemption of the customer and no
   * discount recorded for the invoice, so a discount step that only draws on those has nothing to
   * do; undefined when not known.
   */
  may_have_discounts?: boolean | undefined;
}

/**
 * The promo-code side plugs in here. `discountLines` runs first, inside the settlement transaction,
 * and the total of its lines reduces what credits may cover; `revertDiscounts` is its undo, run when
 * the invoice is voided. `namesSubscription` (optional) says whether the customer's promotions name a
 * subscription that no billing event has told of (a code may be redeemed for a subscription before
 * its first event); such a subscription may then be settled. All default to nothing.
 */
export interface SettlementHooks {
  discountLines(tx: Sql, workspaceId: string, invoice: InvoiceToSettle): Promise<DiscountLine[]>;
  namesSubscription?(
    tx: Sql,
    workspaceId: string,
    customerId: string,
    subscription: string,
  ): Promise<boolean>;
  revertDiscounts(
    tx: Sql,
    workspaceId: string,
    invoice: InvoiceToSettle,
    lines: readonly DiscountLine[],
  ): Promise<void>;
}

export const noDiscounts: SettlementHooks = {
  discountLines: async () => [],
  revertDiscounts: async () => {},
};

interface SettlementRow {
  workspace_id: string;
  id: string;
  invoice_id: string;
  customer_id: string;
  /** The subscription by the caller's id (its external_id), known to Perks or not, as redemptions name it. */
  subscription_id: string | null;
  currency: string;
  subtotal: number;
  discount_total: number;
  credit_total: number;
  amount_due: number;
  lines: SettlementLine[];
  credits: CreditUsed[];
  status: 'applied' | 'voided';
  created_at: Date;
  voided_at: Date | null;
}

export type SettlementLine =
  | DiscountLine
  | { type: 'credit'; description: string; asset: string; amount_cents: number; reference: null };

export interface CreditUsed {
  lot: string;
  grant: string;
  asset: string;
  amount_cents: number;
  expires_at: string | null;
}

function settlementView(r: SettlementRow) {
  return {
    id: r.id,
    object: 'invoice_settlement' as const,
    invoice_id: r.invoice_id,
    customer: r.customer_id,
    subscription: r.subscription_id,
    currency: r.currency,
    subtotal_cents: r.subtotal,
    discount_cents: r.discount_total,
    credit_cents: r.credit_total,
    amount_due_cents: r.amount_due,
    lines: r.lines,
    credits: r.credits,
    status: r.status,
    created_at: r.created_at.toISOString(),
    voided_at: r.voided_at?.toISOString() ?? null,
  };
}
export type SettlementView = ReturnType<typeof settlementView>;

type SettlementJson = Omit<SettlementRow, 'created_at' | 'voided_at'> & {
  created_at: string;
  voided_at: string | null;
};

/**
 * Whether the input names a subscription Perks knows by its Perks id, whose caller's id the lock does
 * not give. The lock looks a subscription up by its Perks id first, then by the caller's id, so any
 * other name it found, or an unknown one, is the caller's id already.
 */
function namedByPerksId(input: InvoiceInput, locked: Locked<SettlementJson>): boolean {
  return input.subscription !== undefined && locked.subscription?.id === input.subscription;
}

/**
 * The settlement as far as it is decided before any discount: a refusal (the subscription is not
 * the customer's, the invoice was settled otherwise), the settlement already made, or, to go on
 * with, the subscription the invoice is for, by the caller's id. `callerSubscription` is the input's
 * subscription by the caller's id (see namedByPerksId).
 */
function settlementGate(
  input: InvoiceInput,
  locked: Locked<SettlementJson>,
  callerSubscription: string | null,
  namedByPromotion = false,
): { refusal: PerksError } | { prior: SettlementView } | { subscription: string | null } {
  const customerId = locked.customer_id;
  let subscription: string | null = null;
  if (input.subscription !== undefined) {
    const sub = locked.subscription;
    if (!sub && namedByPromotion) {
      // Known only from the customer's own redemptions: the caller's id is all there is.
      subscription = callerSubscription;
    } else if (!sub) {
      return {
        refusal: new PerksError(
          'resource_not_found',
          `no subscription '${input.subscription}': Perks knows a subscription from a billing event or from a promo code this customer redeemed for it`,
          'subscription',
        ),
      };
    } else if (sub.customer_id !== customerId) {
      return {
        refusal: new PerksError(
          'subscription_not_owned',
          `subscription '${input.subscription}' belongs to another customer than '${input.customer}'`,
          'subscription',
        ),
      };
    } else {
      subscription = callerSubscription;
    }
  }
  if (locked.prior) {
    const prior: SettlementRow = {
      ...locked.prior,
      created_at: new Date(locked.prior.created_at),
      voided_at: locked.prior.voided_at === null ? null : new Date(locked.prior.voided_at),
    };
    // Settlements keep the caller's id, whether the subscription was known then or became known since.
    const same =
      prior.customer_id === customerId &&
      prior.subscription_id === subscription &&
      prior.currency === input.currency &&
      prior.subtotal === input.subtotal_cents;
    if (!same) {
      return {
        refusal: new PerksError(
          'invoice_already_settled',
          `invoice '${input.invoice_id}' was already settled with a different customer, subscription, currency or subtotal`,
          'invoice_id',
          { settlement: prior.id },
        ),
      };
    }
    return { prior: settlementView(prior) };
  }
  return { subscription };
}

/** The invoice as the discount step sees it. */
function invoiceToSettle(
  input: InvoiceInput,
  locked: Locked<SettlementJson>,
  subscription: string | null,
  now: Date,
): InvoiceToSettle {
  return {
    invoice_id: input.invoice_id,
    customer_id: locked.customer_id,
    subscription_id: subscription,
    currency: input.currency,
    subtotal_cents: input.subtotal_cents,
    settled_at: now,
    period_start: input.period_start,
    may_have_discounts: locked.may_have_discounts,
  };
}

/**
 * The settlement decided on the state of the customer's credit accounts and the discount lines:
 * expiries due first, then credit in burn-down order up to what the discounts leave due, and the
 * credits.applied event when any credit was applied.
 */
function decideSettlement(
  deps: Deps,
  workspaceId: string,
  input: InvoiceInput,
  locked: Locked<SettlementJson>,
  subscription: string | null,
  discounts: DiscountLine[],
  now: Date,
): Posted<SettlementView> {
  const id = deps.ids.id('set');
  const accounts = locked.accounts;
  const posting = new Posting(deps, workspaceId, now, id, input.invoice_id, locked.webhooks);
  for (const acc of accounts) posting.expire(acc);
  const lots = accounts.flatMap((a) => a.lots);
  const plan = planSettlement({
    subtotal_cents: input.subtotal_cents,
    discounts,
    lots,
    now_ms: now.getTime(),
  });
  const byAsset = new Map(accounts.map((a) => [a.asset.id, a]));
  for (const acc of accounts) {
    const takes = plan.takes.filter((t) => t.asset_id === acc.asset.id);
    posting.take(acc, takes, 'invoice_applied', 'invoice_apply');
  }
  const lotIndex = new Map(lots.map((l) => [l.id, l]));
  const credits: CreditUsed[] = plan.takes.map((t) => {
    const lot = lotIndex.get(t.lot_id)!;
    return {
      lot: lot.id,
      grant: lot.grant_id,
      asset: byAsset.get(t.asset_id)!.asset.key,
      amount_cents: t.amount,
      expires_at: lot.expires_at_ms === null ? null : new Date(lot.expires_at_ms).toISOString(),
    };
  });
  const lines: SettlementLine[] = [
    ...discounts,
    ...plan.credit_lines.map((l) => {
      const key = byAsset.get(l.asset_id)!.asset.key;
      return {
        type: 'credit' as const,
        description: `${key} applied`,
        asset: key,
        amount_cents: l.amount_cents,
        reference: null,
      };
    }),
  ];
  const row: SettlementRow = {
    workspace_id: workspaceId,
    id,
    invoice_id: input.invoice_id,
    customer_id: locked.customer_id,
    subscription_id: subscription,
    currency: input.currency,
    subtotal: input.subtotal_cents,
    discount_total: plan.discount_cents,
    credit_total: plan.credit_cents,
    amount_due: plan.amount_due_cents,
    lines,
    credits,
    status: 'applied',
    created_at: now,
    voided_at: null,
  };
  const view = settlementView(row);
  if (plan.credit_cents > 0) posting.emit('credits.applied', view);
  // The settlement row is written in the same call as the entries it explains and the event.
  const { workspace_id: _ws, status: _status, created_at: _at, voided_at: _voided, ...settlement } = row;
  return { posting, settlement, answer: () => view };
}

function settlementTarget(input: InvoiceInput) {
  return {
    customerRef: input.customer,
    assets: [],
    currency: input.currency,
    invoice: input.invoice_id,
    subscription: input.subscription,
    param: 'customer',
  };
}

/**
 * Settles a finalised invoice: discount lines first, then the customer's money credit in the
 * invoice currency, in burn-down order, up to what is still due. The invoice id is locked before
 * anything is decided and the settlement is stored under it, so a repeated call (even a concurrent
 * one) answers with the first result and never applies credit twice.
 */
export async function settleInvoice(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: InvoiceInput,
  hooks: SettlementHooks = noDiscounts,
): Promise<SettlementView> {
  const target = settlementTarget(input);
  const locked = await lockLedger<SettlementJson>(deps, tx, workspaceId, input.customer, [], {
    lots: true,
    ...target,
  });
  const namedByPromotion =
    input.subscription !== undefined &&
    !locked.subscription &&
    ((await hooks.namesSubscription?.(tx, workspaceId, locked.customer_id, input.subscription)) ?? false);
  const callerSubscription =
    input.subscription === undefined
      ? null
      : namedByPerksId(input, locked)
        ? await subscriptionExternalId(tx, workspaceId, input.subscription)
        : input.subscription;
  const gate = settlementGate(input, locked, callerSubscription, namedByPromotion);
  if ('refusal' in gate) throw gate.refusal;
  if ('prior' in gate) return gate.prior;
  const now = deps.clock.now();
  const discounts = await hooks.discountLines(
    tx,
    workspaceId,
    invoiceToSettle(input, locked, gate.subscription, now),
  );
  const decision = decideSettlement(deps, workspaceId, input, locked, gate.subscription, discounts, now);
  if (!('answer' in decision)) throw decision.refusal;
  await decision.posting.flush(tx, decision.settlement);
  return decision.answer();
}

/**
 * An invoice settled with no transaction of the caller's (an API request without an
 * Idempotency-Key): usually one call to the database, decided on the known state of the customer's
 * credit (see ledger_known.ts). When the lock's probe says the discount step may have something to
 * do (`may_have_discounts`), or the credit keeps changing under it, it runs in a transaction with
 * the discount step instead; otherwise the step is skipped, as the hooks would find nothing.
 */
export async function settleInvoiceStandalone(
  deps: Deps,
  workspaceId: string,
  input: InvoiceInput,
  hooks: SettlementHooks = noDiscounts,
): Promise<SettlementView> {
  const target = settlementTarget(input);
  const now = deps.clock.now();
  try {
    return await decideOnKnownState<SettlementView>(
      deps,
      deps.db,
      workspaceId,
      target,
      (state: Locked<SettlementJson>) => {
        if (input.subscription !== undefined && !state.subscription) {
          throw new NeedsTransaction('the subscription may be known from a redemption only');
        }
        if (namedByPerksId(input, state)) {
          throw new NeedsTransaction(
            "the subscription is named by its Perks id: its caller's id is looked up",
          );
        }
        const gate = settlementGate(input, state, input.subscription ?? null);
        if ('refusal' in gate) return gate;
        if ('prior' in gate) return { answer: () => gate.prior };
        if (state.may_have_discounts) throw new NeedsTransaction('the discount step may apply');
        return decideSettlement(deps, workspaceId, input, state, gate.subscription, [], now);
      },
      { attempts: 2, standalone: true },
    );
  } catch (err) {
    if (!(err instanceof NeedsTransaction)) throw err;
  }
  return deps.db.transaction((tx) => settleInvoice(deps, tx, workspaceId, input, hooks));
}

/**
 * Voids a settled invoice: every piece of credit it used comes back as a new lot of the same grant
 * with the original expiry (and expires at once if that instant has passed). The invoice items a
 * Stripe draft's settlement queued are undone in the same transaction: those not sent are canceled,
 * those Stripe added get a deletion queued (unless `sent_items` is 'leave'). Voiding twice answers
 * with the voided settlement.
 */
export async function voidInvoice(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  invoiceId: string,
  hooks: SettlementHooks = noDiscounts,
  options: {
    /**
     * 'leave' when Stripe voided the invoice itself: the items on it went with it, and Stripe refuses
     * to delete items of an invoice that is no longer a draft. Default 'delete'.
     */
    sent_items?: 'delete' | 'leave' | undefined;
  } = {},
): Promise<SettlementView> {
  const [row] = await tx.query<SettlementRow>(
    'select * from ledger_settlements where workspace_id = $1 and invoice_id = $2 for update',
    [workspaceId, invoiceId],
  );
  if (!row) throw new PerksError('resource_not_found', `no settled invoice '${invoiceId}'`, 'invoice_id');
  if (row.status === 'voided') return settlementView(row);
  const now = deps.clock.now();

  const originals = await lotsById(
    tx,
    workspaceId,
    row.credits.map((c) => c.lot),
  );
  const assets = await assetsById(
    tx,
    workspaceId,
    [...originals.values()].map((l) => l.asset_id),
  );
  const { accounts, webhooks } = await lockAccounts(deps, tx, workspaceId, row.customer_id, [
    ...assets.values(),
  ]);
  const reversed = await reversedGrants(
    tx,
    workspaceId,
    [...originals.values()].map((l) => l.grant_id),
  );
  const byAsset = new Map<string, AccountState>(accounts.map((a) => [a.asset.id, a]));
  const posting = new Posting(deps, workspaceId, now, row.id, invoiceId, webhooks);
  for (const acc of accounts) posting.expire(acc);
  for (const credit of row.credits) {
    const original = originals.get(credit.lot)!;
    const acc = byAsset.get(original.asset_id)!;
    posting.receive(acc, credit.amount_cents, restoredTemplate(original), 'invoice_applied', 'invoice_void', {
      grantReversed: reversed.has(original.grant_id),
    });
  }
  // A piece whose original expiry has passed comes back already expired, straight into breakage.
  for (const acc of accounts) posting.expire(acc);
  posting.emit('invoice.voided', settlementView({ ...row, status: 'voided', voided_at: now }));
  await posting.flush(tx);
  const discounts = row.lines.filter((l): l is DiscountLine => l.type === 'discount');
  await hooks.revertDiscounts(
    tx,
    workspaceId,
    {
      invoice_id: row.invoice_id,
      customer_id: row.customer_id,
      subscription_id: row.subscription_id,
      currency: row.currency,
      subtotal_cents: row.subtotal,
      settled_at: row.created_at,
    },
    discounts,
  );
  // Under the settlement row's lock. A worker's send or an operator's retry that read the settlement
  // before this void commits is caught on the calls' own rows, which this locks in turn.
  await revertInvoiceItemCalls(
    deps,
    tx,
    workspaceId,
    { id: row.id, invoice_id: row.invoice_id, line_count: row.lines.length },
    options.sent_items ?? 'delete',
  );
  const [voided] = await tx.query<SettlementRow>(
    `update ledger_settlements set status = 'voided', voided_at = $3 where workspace_id = $1 and id = $2 returning *`,
    [workspaceId, row.id, now],
  );
  return settlementView({ ...voided!, subscription_id: row.subscription_id });
}
