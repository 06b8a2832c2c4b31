import type { StripeHandler } from '../mapping.js';
import chargeDisputeCreated from './charge_dispute_created.js';
import chargeRefunded from './charge_refunded.js';
import customerCreated from './customer_created.js';
import customerSubscriptionCreated from './customer_subscription_created.js';
import customerSubscriptionDeleted from './customer_subscription_deleted.js';
import customerSubscriptionUpdated from './customer_subscription_updated.js';
import customerUpdated from './customer_updated.js';
import invoiceCreated from './invoice_created.js';
import invoiceDeleted from './invoice_deleted.js';
import invoicePaid from './invoice_paid.js';
import invoiceVoided from './invoice_voided.js';
import paymentMethodAttached from './payment_method_attached.js';
import productCreated from './product_created.js';
import productUpdated from './product_updated.js';

/** The Stripe event types Perks handles, one file each. Any other type is answered 200 and ignored. */
export const HANDLERS: ReadonlyMap<string, StripeHandler> = new Map(
  [
    customerCreated,
    customerUpdated,
    paymentMethodAttached,
    customerSubscriptionCreated,
    customerSubscriptionUpdated,
    customerSubscriptionDeleted,
    invoiceCreated,
    invoiceVoided,
    invoiceDeleted,
    invoicePaid,
    chargeRefunded,
    chargeDisputeCreated,
    productCreated,
    productUpdated,
  ].map((h) => [h.type, h]),
);

export const HANDLED_TYPES = [...HANDLERS.keys()];
