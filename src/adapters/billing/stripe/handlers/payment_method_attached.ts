import { type StripeHandler, parseObject } from '../mapping.js';
import { paymentMethod } from '../shapes.js';

/**
 * payment_method.attached -> card.attached with the card's fingerprint, which is what tells the same
 * card apart across customers (one card behind many sign-ups is a fraud signal). Payment methods that
 * are not cards have no fingerprint and are ignored.
 */
const handler: StripeHandler = {
  type: 'payment_method.attached',
  async handle(ctx, object) {
    const pm = parseObject(paymentMethod, object);
    if (!pm.customer) return { kind: 'ignore', reason: 'the payment method is not attached to a customer' };
    const fingerprint = pm.card?.fingerprint;
    if (pm.type !== 'card' || !fingerprint) {
      return {
        kind: 'ignore',
        reason: `a '${pm.type}' payment method without a card fingerprint is not a card`,
      };
    }
    return {
      kind: 'apply',
      events: [
        {
          id: ctx.event.id,
          type: 'card.attached',
          occurred_at: ctx.event.occurred_at,
          data: {
            customer: pm.customer,
            payment_method: {
              id: pm.id,
              fingerprint,
              ...(pm.card?.brand ? { brand: pm.card.brand } : {}),
              ...(pm.card?.last4 ? { last4: pm.card.last4 } : {}),
            },
          },
        },
      ],
    };
  },
};
export default handler;
