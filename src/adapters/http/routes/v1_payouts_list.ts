import { z } from 'zod';
import { listPayouts } from '../../../app/ledger_payouts.js';
import { identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, payoutSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/payouts',
    {
      schema: {
        summary: 'List payouts, newest first, optionally by customer and status',
        tags: ['ledger'],
        querystring: z.strictObject({
          ...pageQuery,
          customer: identifier.optional(),
          status: z.enum(['pending', 'paid', 'rejected', 'canceled']).optional(),
        }),
        response: { 200: listOf(payoutSchema), ...ledgerErrors },
      },
    },
    async (req) => listPayouts(deps.db, req.workspaceId, req.query),
  );
};
export default register;
