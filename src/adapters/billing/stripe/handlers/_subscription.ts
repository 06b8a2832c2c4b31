import { lockStripeKey } from '../../../../app/stripe_events.js';
import {
  fromUnix,
  type HandlerOutcome,
  interval,
  parseObject,
  planUnits,
  StripeShapeError,
  type StripeHandler,
  subscriptionLock,
} from '../mapping.js';
import { subscription } from '../shapes.js';
import { redeemStoredCode } from './_promotion_code.js';

/**
 * customer.subscription.created and .updated -> subscription.updated with the subscription's state:
 * its plan (the first recurring item's price), interval, status, current period, amount (unit amount
 * times quantity over all items) and plan units (see planUnits). .deleted -> subscription.canceled.
 * An older event than the stored state changes nothing, so these may arrive in any order. A promotion
 * code waiting in the customer's metadata is then redeemed for the subscription (_promotion_code.ts).
 */
export function subscriptionHandler(
  type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted',
): StripeHandler {
  return {
    type,
    async handle(ctx, object): Promise<HandlerOutcome> {
      const sub = parseObject(subscription, object);
      // An invoice.created that arrived first waits for this subscription under this lock.
      await lockStripeKey(ctx.tx, ctx.workspaceId, subscriptionLock(sub.id));
      const resolves = [subscriptionLock(sub.id)];
      if (type === 'customer.subscription.deleted') {
        return {
          kind: 'apply',
          resolves,
          events: [
            {
              id: ctx.event.id,
              type: 'subscription.canceled',
              occurred_at: ctx.event.occurred_at,
              data: { customer: sub.customer, subscription: { id: sub.id } },
            },
          ],
        };
      }
      const items = sub.items.data;
      const plan = items.find((i) => i.price.recurring) ?? items[0]!;
      const stated = plan.price.recurring?.interval;
      const every = interval(stated);
      if (!every) {
        throw new StripeShapeError(
          `the price ${plan.price.id} recurs every '${stated ?? 'nothing'}'; Perks handles monthly and yearly plans`,
        );
      }
      const start = sub.current_period_start ?? plan.current_period_start;
      const end = sub.current_period_end ?? plan.current_period_end;
      if (start === undefined || end === undefined) {
        throw new StripeShapeError('the subscription has no current_period_start and current_period_end');
      }
      const units = await planUnits(ctx, items);
      const amount = items.reduce((sum, i) => sum + (i.price.unit_amount ?? 0) * (i.quantity ?? 1), 0);
      return {
        kind: 'apply',
        resolves,
        after: () => redeemStoredCode(ctx, sub.customer, sub.id),
        events: [
          {
            id: ctx.event.id,
            type: 'subscription.updated',
            occurred_at: ctx.event.occurred_at,
            data: {
              customer: sub.customer,
              subscription: {
                id: sub.id,
                plan_id: plan.price.id,
                ...(units === undefined ? {} : { plan_units: units }),
                interval: every,
                status: sub.status,
                current_period_start: fromUnix(start),
                current_period_end: fromUnix(end),
                amount,
                currency: sub.currency ?? plan.price.currency,
              },
            },
          },
        ],
      };
    },
  };
}
