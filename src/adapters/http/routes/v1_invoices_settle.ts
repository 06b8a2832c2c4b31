import { z } from 'zod';
import { settleInvoice, settleInvoiceStandalone } from '../../../app/ledger_settlements.js';
import { promotionSettlementHooks } from '../../../app/promo_settlement_hooks.js';
import { execute } from '../idempotency.js';
import { amountMinor, currency, identifier, timestamp } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, settlementSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/invoices/settle',
    {
      schema: {
        summary: 'Settle a finalised invoice: apply discounts, then credit; idempotent per invoice',
        tags: ['ledger'],
        body: z.strictObject({
          invoice_id: identifier.describe('Your invoice id; unique per workspace'),
          customer: identifier.describe('The customer: Perks id or external_id'),
          subscription: identifier
            .optional()
            .describe('The subscription the invoice is for (must be the customer’s)'),
          currency,
          subtotal_cents: amountMinor.describe('The invoice subtotal in minor units of the currency'),
          period_start: timestamp
            .optional()
            .describe(
              'The start of the period the invoice bills; a promotion redeemed after the current period was paid discounts the first invoice whose period starts at or after its applies_from. Default: the settlement time',
            ),
        }),
        response: { 200: settlementSchema, ...ledgerErrors },
      },
    },
    async (req, reply) => {
      // Without an Idempotency-Key there is no response to store with the effects, so the
      // settlement needs no transaction of the request's: it is usually one call to the database.
      if (!req.idempotency) {
        return settleInvoiceStandalone(deps, req.workspaceId, req.body, promotionSettlementHooks(deps));
      }
      return execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await settleInvoice(deps, tx, req.workspaceId, req.body, promotionSettlementHooks(deps)),
      }));
    },
  );
};
export default register;
