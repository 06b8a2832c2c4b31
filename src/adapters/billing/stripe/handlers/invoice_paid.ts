import { lockStripeKey } from '../../../../app/stripe_events.js';
import {
  billedPeriod,
  interval,
  invoiceSubscription,
  parseObject,
  paymentKey,
  paymentLock,
  type StripeHandler,
} from '../mapping.js';
import { invoice } from '../shapes.js';

/**
 * invoice.paid -> payment.succeeded: the amount paid, the currency, the recurring interval of the
 * subscription's price and the billed period (from the subscription line, else the invoice). The
 * payment is keyed by its PaymentIntent (see paymentKey), the key refunds and disputes name too, and
 * a refund or dispute that arrived first and waited for this payment is applied right after it.
 */
const handler: StripeHandler = {
  type: 'invoice.paid',
  async handle(ctx, object) {
    const inv = parseObject(invoice, object);
    if (inv.amount_paid <= 0) return { kind: 'ignore', reason: 'nothing was paid (amount_paid is 0)' };
    const key = paymentKey({ payment_intent: inv.payment_intent, charge: inv.charge, invoice: inv.id });
    await lockStripeKey(ctx.tx, ctx.workspaceId, paymentLock(key));
    const period = billedPeriod(inv);
    const every = interval(period.line?.price?.recurring?.interval);
    const subscription = invoiceSubscription(inv);
    return {
      kind: 'apply',
      resolves: [paymentLock(key)],
      events: [
        {
          id: ctx.event.id,
          type: 'payment.succeeded',
          occurred_at: ctx.event.occurred_at,
          data: {
            customer: inv.customer,
            payment: {
              id: key,
              amount: inv.amount_paid,
              currency: inv.currency,
              ...(every ? { interval: every } : {}),
              period_start: period.start,
              period_end: period.end,
              ...(subscription ? { subscription } : {}),
            },
          },
        },
      ],
    };
  },
};
export default handler;
