import { subscriptionHandler } from './_subscription.js';

/** customer.subscription.created (see _subscription.ts). */
export default subscriptionHandler('customer.subscription.created');
