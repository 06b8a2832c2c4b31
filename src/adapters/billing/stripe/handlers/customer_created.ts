import { customerHandler } from './_customer.js';

/** customer.created -> the provider-neutral customer.created (see _customer.ts). */
export default customerHandler('customer.created');
