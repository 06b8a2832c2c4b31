import { subscriptionHandler } from './_subscription.js';

/** customer.subscription.deleted (see _subscription.ts). */
export default subscriptionHandler('customer.subscription.deleted');
