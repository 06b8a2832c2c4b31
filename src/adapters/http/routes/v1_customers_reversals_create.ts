import { z } from 'zod';
import { reverseGrant } from '../../../app/ledger_reversals.js';
import { execute } from '../idempotency.js';
import { identifier, text } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { ledgerErrors, reversalSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/reversals',
    {
      schema: {
        summary: 'Reverse a grant (at most once; a repeat returns the first reversal)',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z.strictObject({
          grant: identifier.describe('The grant id (lot_...) or the reference it was granted with'),
          reason: text(500).optional(),
          reference: identifier.optional().describe('Your reference, e.g. the refund id'),
        }),
        response: { 200: reversalSchema, 201: reversalSchema, ...ledgerErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const result = await reverseGrant(deps, tx, req.workspaceId, req.params.id, req.body);
        return { status: result.created ? 201 : 200, body: result.reversal };
      }),
  );
};
export default register;
