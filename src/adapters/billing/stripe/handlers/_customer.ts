import { isPerksError } from '../../../../core/errors.js';
import { redeemCode } from '../../../../app/promo_redemptions.js';
import type { HandlerContext, HandlerOutcome, StripeHandler } from '../mapping.js';
import { parseObject } from '../mapping.js';
import { customer } from '../shapes.js';

/**
 * customer.created and customer.updated both state the customer as it is now: each becomes the
 * provider-neutral customer.created (an upsert keyed by the Stripe customer id, which is the Perks
 * external_id; an older event than the stored state changes nothing). A referral code in the
 * customer's metadata (`referral_code`, or a referral link's `perks_click`) attributes the customer;
 * a `promotion_code` is redeemed for it once.
 */
export function customerHandler(type: 'customer.created' | 'customer.updated'): StripeHandler {
  return {
    type,
    async handle(ctx, object): Promise<HandlerOutcome> {
      const cus = parseObject(customer, object);
      const meta = cus.metadata;
      const promotionCode = meta.promotion_code;
      return {
        kind: 'apply',
        events: [
          {
            id: ctx.event.id,
            type: 'customer.created',
            occurred_at: ctx.event.occurred_at,
            data: {
              customer: {
                external_id: cus.id,
                email: cus.email ?? null,
                name: cus.name ?? null,
                metadata: meta,
              },
              ...(meta.referral_code ? { referral_code: meta.referral_code } : {}),
              ...(meta.perks_click ? { click_id: meta.perks_click } : {}),
            },
          },
        ],
        ...(promotionCode ? { after: () => redeemFromMetadata(ctx, cus.id, promotionCode) } : {}),
      };
    },
  };
}

/**
 * Redeems the code in a savepoint: a refusal (expired, already used by this customer, ...) is kept on
 * the event's result and undoes only the redemption, never the customer facts.
 */
async function redeemFromMetadata(ctx: HandlerContext, customerId: string, code: string) {
  await ctx.tx.query('savepoint stripe_promotion_code');
  try {
    const redemption = await redeemCode(
      ctx.deps,
      ctx.tx,
      ctx.workspaceId,
      { code, customer: customerId },
      undefined,
    );
    await ctx.tx.query('release savepoint stripe_promotion_code');
    return { promotion_code: { code, redemption: redemption.id, error: null } };
  } catch (err) {
    if (!isPerksError(err)) throw err;
    await ctx.tx.query('rollback to savepoint stripe_promotion_code');
    await ctx.tx.query('release savepoint stripe_promotion_code');
    return { promotion_code: { code, redemption: null, error: { code: err.code, message: err.message } } };
  }
}
