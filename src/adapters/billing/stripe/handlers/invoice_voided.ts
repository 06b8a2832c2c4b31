import { invoiceVoidHandler } from './_invoice_void.js';

/** invoice.voided -> the invoice's settlement is voided (see _invoice_void.ts). */
export default invoiceVoidHandler('invoice.voided');
