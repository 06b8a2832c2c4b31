import { z } from 'zod';
import { consume, consumeStandalone } from '../../../app/ledger_consumptions.js';
import { execute } from '../idempotency.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { amount, assetKey, consumptionSchema, ledgerErrors } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/consumptions',
    {
      schema: {
        summary: 'Consume an amount of a units or days asset, in burn-down order',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z.strictObject({
          asset: assetKey,
          amount,
          partial: z
            .boolean()
            .optional()
            .describe('Take what is available when the balance is short, instead of failing'),
          reference: identifier.optional().describe('Your reference for this usage, shown on the statement'),
        }),
        response: { 201: consumptionSchema, ...ledgerErrors },
      },
    },
    async (req, reply) => {
      // Without an Idempotency-Key there is no response to store with the effects, so the
      // consumption needs no transaction of the request's: it is usually one call to the database.
      if (!req.idempotency) {
        const body = await consumeStandalone(deps, req.workspaceId, req.params.id, req.body);
        reply.code(201);
        return body;
      }
      return execute(deps, req, reply, async (tx) => ({
        status: 201,
        body: await consume(deps, tx, req.workspaceId, req.params.id, req.body),
      }));
    },
  );
};
export default register;
