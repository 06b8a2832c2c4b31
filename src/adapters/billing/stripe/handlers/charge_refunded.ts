import { parseObject, paymentCustomer, paymentKey, paymentLock, type StripeHandler } from '../mapping.js';
import { charge } from '../shapes.js';

/**
 * charge.refunded -> payment.refunded with the amount refunded so far. A charge without a customer is
 * matched to the payment recorded under the same key; when that payment has not arrived yet the event
 * waits for it (deferred) and is applied when invoice.paid for it arrives.
 */
const handler: StripeHandler = {
  type: 'charge.refunded',
  async handle(ctx, object) {
    const ch = parseObject(charge, object);
    const key = paymentKey({ payment_intent: ch.payment_intent, charge: ch.id });
    const customer = ch.customer ?? (await paymentCustomer(ctx, key));
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
          type: 'payment.refunded',
          occurred_at: ctx.event.occurred_at,
          data: {
            customer,
            payment: { id: key, ...(ch.amount_refunded > 0 ? { amount_refunded: ch.amount_refunded } : {}) },
          },
        },
      ],
    };
  },
};
export default handler;
