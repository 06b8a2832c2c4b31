import { parseObject, paymentCustomer, paymentKey, paymentLock, type StripeHandler } from '../mapping.js';
import { dispute } from '../shapes.js';

/**
 * charge.dispute.created -> payment.disputed. A dispute names its charge but not the customer, so it
 * is matched to the payment recorded under the same key, or waits (deferred) until that payment
 * arrives.
 */
const handler: StripeHandler = {
  type: 'charge.dispute.created',
  async handle(ctx, object) {
    const dp = parseObject(dispute, object);
    const key = paymentKey({ payment_intent: dp.payment_intent, charge: dp.charge });
    const customer = await paymentCustomer(ctx, key);
    if (!customer) {
      return {
        kind: 'defer',
        key: paymentLock(key),
        reason: `waiting for the payment ${key} (invoice.paid)`,
      };
    }
    return {
      kind: 'apply',
      events: [
        {
          id: ctx.event.id,
          type: 'payment.disputed',
          occurred_at: ctx.event.occurred_at,
          data: { customer, payment: { id: key } },
        },
      ],
    };
  },
};
export default handler;
