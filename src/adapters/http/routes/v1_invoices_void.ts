import { z } from 'zod';
import { voidInvoice } from '../../../app/ledger_settlements.js';
import { promotionSettlementHooks } from '../../../app/promo_settlement_hooks.js';
import { execute } from '../idempotency.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, settlementSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/invoices/:invoice_id/void',
    {
      schema: {
        summary: 'Void a settled invoice: the credit it used comes back with its original expiry',
        tags: ['ledger'],
        params: z.strictObject({ invoice_id: identifier }),
        body: z.strictObject({}).nullish(),
        response: { 200: settlementSchema, ...ledgerErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await voidInvoice(
          deps,
          tx,
          req.workspaceId,
          req.params.invoice_id,
          promotionSettlementHooks(deps),
        ),
      })),
  );
};
export default register;
