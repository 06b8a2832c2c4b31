import { z } from 'zod';
import { retrievePayout } from '../../../app/ledger_payouts.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, payoutSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/payouts/:id',
    {
      schema: {
        summary: 'Retrieve a payout',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier }),
        response: { 200: payoutSchema, ...ledgerErrors },
      },
    },
    async (req) => retrievePayout(deps.db, req.workspaceId, req.params.id),
  );
};
export default register;
