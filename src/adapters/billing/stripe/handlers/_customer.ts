import { lockCustomerKeys } from '../../../../app/events.js';
import type { HandlerOutcome, StripeHandler } from '../mapping.js';
import { parseObject } from '../mapping.js';
import { customer } from '../shapes.js';
import { redeemStoredCode } from './_promotion_code.js';

/**
 * customer.created and customer.updated both state the customer as it is now: each becomes the
 * provider-neutral customer.created (an upsert keyed by the Stripe customer id, which is the Perks
 * external_id; an older event than the stored state changes nothing). A referral code in the
 * customer's metadata (`referral_code`, or a referral link's `perks_click`) attributes the customer;
 * a `promotion_code` is redeemed for it once, for its subscription (_promotion_code.ts).
 */
export function customerHandler(type: 'customer.created' | 'customer.updated'): StripeHandler {
  return {
    type,
    async handle(ctx, object): Promise<HandlerOutcome> {
      const cus = parseObject(customer, object);
      const meta = cus.metadata;
      const promotionCode = meta.promotion_code;
      // The code stored before this event: a code this event sets anew and that is refused counts as a
      // failed attempt for the guessing limits, once (a later event about the customer tries it again
      // without counting it again).
      // Read under the customer's lock, which applying the event takes anyway: two events setting the
      // same code at once would otherwise both find the old one, and both count.
      if (promotionCode) await lockCustomerKeys(ctx.tx, ctx.workspaceId, [cus.id]);
      const [before] = promotionCode
        ? await ctx.tx.query<{ code: string | null }>(
            `select metadata ->> 'promotion_code' as code from customers where workspace_id = $1 and external_id = $2`,
            [ctx.workspaceId, cus.id],
          )
        : [];
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
        ...(promotionCode
          ? { after: () => redeemStoredCode(ctx, cus.id, undefined, { previousCode: before?.code ?? null }) }
          : {}),
      };
    },
  };
}
