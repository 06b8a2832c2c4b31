import { GuessingBlockedError, recordFailure } from '../../../../app/promo_failures.js';
import { redeemCode, redemptionLimitError } from '../../../../app/promo_redemptions.js';
import { isPerksError } from '../../../../core/errors.js';
import { normalizeCode } from '../../../../core/promo/normalize.js';
import { isRejection } from '../../../../core/promo/rules.js';
import type { HandlerContext } from '../mapping.js';

/**
 * A promotion code in a Stripe customer's metadata (`promotion_code`) is redeemed once for that
 * customer, for a subscription, since Stripe bills through subscriptions and their invoices take the
 * subscription's promotion:
 *
 * - customer.created / customer.updated carrying a code redeem the stored one for the customer's live
 *   subscription (the latest started, when there are several); without one, the code waits;
 * - customer.subscription.created / .updated redeem a waiting code for that subscription (a canceled
 *   one takes none; the code keeps waiting).
 *
 * Once the customer has a redemption of the code, voided or not, made here or through the API,
 * nothing more is redeemed: a later customer.updated, a `perks stripe sync` or a voiding by an
 * operator never brings it back. Each outcome is kept on the event's `result.promotion_code`.
 */

/** Subscription statuses that can take no promotion. */
const ENDED = ['canceled', 'incomplete_expired'];

export type PromotionCodeResult = {
  promotion_code: {
    code: string;
    redemption: string | null;
    /** A refusal (an expired code, ...): nothing was redeemed. */
    error: { code: string; message: string } | null;
    /** The customer had redeemed this code before; nothing new was redeemed. */
    already_redeemed?: true;
    /** The customer has no live subscription yet: the code is redeemed for the first one. */
    waiting_for_subscription?: true;
  };
};

/**
 * Redeems the code the customer's stored metadata holds now: for `subscription` when given (a
 * subscription event), else for the customer's live subscription; without one the code waits. The
 * stored code and statuses, not the event's: an event older than the stored state (delivered late,
 * replayed) changed nothing, and its code may since have been removed or replaced. Runs after the
 * event's facts are applied, under the customer's lock that applying them took (ingestEvents), so two
 * events about one customer never both redeem.
 */
export async function redeemStoredCode(
  ctx: HandlerContext,
  customerExternalId: string,
  subscription?: string,
  options: {
    /**
     * The code the customer's metadata held before a customer event: a refusal of a code the event
     * changed counts against the customer's guessing limits. Absent (a subscription event): not counted.
     */
    previousCode?: string | null;
  } = {},
): Promise<PromotionCodeResult | undefined> {
  const [row] = await ctx.tx.query<{ customer_id: string; code: string | null; subscription: string | null }>(
    `select c.id as customer_id, c.metadata ->> 'promotion_code' as code,
       (select s.external_id from subscriptions s
         where s.workspace_id = c.workspace_id and s.customer_id = c.id and s.status <> all($3::text[])
           and ($4::text is null or s.external_id = $4)
         order by s.current_period_start desc nulls last, s.external_id limit 1) as subscription
     from customers c where c.workspace_id = $1 and c.external_id = $2`,
    [ctx.workspaceId, customerExternalId, ENDED, subscription ?? null],
  );
  if (!row?.code) return undefined;
  const { code } = row;
  const earlier = await earlierRedemption(ctx, row.customer_id, code);
  if (earlier) return earlier;
  if (row.subscription === null) {
    return { promotion_code: { code, redemption: null, error: null, waiting_for_subscription: true } };
  }
  const counted = options.previousCode !== undefined && options.previousCode !== code;
  return redeemInSavepoint(ctx, row.customer_id, code, row.subscription, counted);
}

async function earlierRedemption(
  ctx: HandlerContext,
  customerId: string,
  code: string,
): Promise<PromotionCodeResult | undefined> {
  const normal = normalizeCode(code);
  if (!normal.ok) return undefined;
  const [row] = await ctx.tx.query<{ id: string }>(
    `select id from redemptions where workspace_id = $1 and customer_id = $2 and code = $3
     order by redeemed_at, id limit 1`,
    [ctx.workspaceId, customerId, normal.code],
  );
  return row && { promotion_code: { code, redemption: row.id, error: null, already_redeemed: true } };
}

/**
 * Redeems the code in a savepoint: a refusal (expired, already used by this customer, ...) is kept on
 * the event's result and undoes only the redemption, never the billing facts. The code's and the
 * promotion's counters are taken by a trigger deferred to COMMIT; they are taken here, inside the
 * savepoint, so that a limit a concurrent redemption reached meanwhile is such a refusal too, rather
 * than a failure of the event's whole transaction. So is a customer past the guessing limits.
 */
async function redeemInSavepoint(
  ctx: HandlerContext,
  customerId: string,
  code: string,
  subscription: string,
  countFailure: boolean,
): Promise<PromotionCodeResult> {
  await ctx.tx.query('savepoint stripe_promotion_code');
  try {
    const redemption = await redeemCode(
      ctx.deps,
      ctx.tx,
      ctx.workspaceId,
      { code, customer: customerId, subscription },
      undefined,
    );
    await ctx.tx.query('set constraints redemptions_take_use immediate');
    await ctx.tx.query('set constraints redemptions_take_use deferred');
    await ctx.tx.query('release savepoint stripe_promotion_code');
    return { promotion_code: { code, redemption: redemption.id, error: null } };
  } catch (caught) {
    const err =
      redemptionLimitError(caught) ??
      (caught instanceof GuessingBlockedError ? caught.toPerksError() : caught);
    if (!isPerksError(err)) throw caught;
    await ctx.tx.query('rollback to savepoint stripe_promotion_code');
    // Rolling back to the savepoint also puts the trigger back to deferred.
    await ctx.tx.query('release savepoint stripe_promotion_code');
    // As a refused redeem through the API counts (by customer: an event has no client IP). A customer
    // already past the limits was refused above without trying the code, and is not counted again.
    if (countFailure && isRejection(err.code)) {
      await recordFailure(ctx.deps, ctx.tx, ctx.workspaceId, customerId, undefined);
    }
    return { promotion_code: { code, redemption: null, error: { code: err.code, message: err.message } } };
  }
}
