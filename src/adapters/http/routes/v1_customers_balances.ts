import { z } from 'zod';
import { customerBalances } from '../../../app/ledger_reads.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { balanceSchema, ledgerErrors } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id/balances',
    {
      schema: {
        summary: "A customer's balances per asset: available, held, and what expires when",
        tags: ['ledger'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        response: {
          200: z.object({
            object: z.literal('list'),
            customer: z.string(),
            data: z.array(balanceSchema),
            has_more: z.boolean(),
          }),
          ...ledgerErrors,
        },
      },
    },
    async (req) => customerBalances(deps, req.workspaceId, req.params.id),
  );
};
export default register;
