import { z } from 'zod';
import { voidPayout } from '../../../app/ledger_payouts.js';
import { execute } from '../idempotency.js';
import { identifier, text } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, payoutSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/payouts/:id/cancel',
    {
      schema: {
        summary: 'Cancel a pending payout (e.g. at the customer’s request): the held amount returns',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier }),
        body: z.strictObject({ reason: text(500).optional() }).nullish(),
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
          'canceled',
          null,
          req.body?.reason ?? null,
        ),
      })),
  );
};
export default register;
