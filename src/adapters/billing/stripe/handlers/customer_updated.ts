import { customerHandler } from './_customer.js';

/** customer.updated -> the provider-neutral customer.created, an upsert (see _customer.ts). */
export default customerHandler('customer.updated');
