import { subscriptionHandler } from './_subscription.js';

/** customer.subscription.updated (see _subscription.ts). */
export default subscriptionHandler('customer.subscription.updated');
