import { z } from 'zod';
import { voidPayout } from '../../../app/ledger_payouts.js';
import { execute } from '../idempotency.js';
import { identifier, text, requiredText } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, payoutSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/payouts/:id/reject',
    {
      schema: {
        summary: 'Reject a pending payout: the held amount returns to the customer',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier }),
        body: z.strictObject({
          rejected_by: requiredText(200).describe('Who rejected it'),
          reason: text(500).optional(),
        }),
        response: { 200: payoutSchema, ...ledgerErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await voidPayout(
          deps,
          tx,
          req.workspaceId,
          req.params.id,
          'rejected',
          req.body.rejected_by,
          req.body.reason ?? null,
        ),
      })),
  );
};
export default register;
