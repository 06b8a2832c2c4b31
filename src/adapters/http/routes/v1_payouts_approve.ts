import { z } from 'zod';
import { approvePayout } from '../../../app/ledger_payouts.js';
import { execute } from '../idempotency.js';
import { identifier, requiredText } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, payoutSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/payouts/:id/approve',
    {
      schema: {
        summary: 'Approve a pending payout: the hold is posted as paid',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier }),
        body: z.strictObject({
          approved_by: requiredText(200).describe('Who approved it, e.g. an operator e-mail'),
        }),
        response: { 200: payoutSchema, ...ledgerErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await approvePayout(deps, tx, req.workspaceId, req.params.id, req.body.approved_by),
      })),
  );
};
export default register;
