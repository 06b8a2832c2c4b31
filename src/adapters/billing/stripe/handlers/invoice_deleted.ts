import { invoiceVoidHandler } from './_invoice_void.js';

/** invoice.deleted (a draft) -> the draft's settlement is voided (see _invoice_void.ts). */
export default invoiceVoidHandler('invoice.deleted');
