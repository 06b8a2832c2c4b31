import { z } from 'zod';
import { grant, grantStandalone } from '../../../app/ledger_grants.js';
import { execute } from '../idempotency.js';
import { identifier, metadata, requiredText } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import {
  amount,
  assetKey,
  currency,
  expiryInput,
  grantSchema,
  grantSource,
  ledgerErrors,
} from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/grants',
    {
      schema: {
        summary: 'Grant an amount of an asset to a customer (idempotent by reference)',
        tags: ['ledger'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z.strictObject({
          asset: assetKey,
          amount,
          currency: currency.optional().describe('Money assets: checked against the asset currency'),
          expires: expiryInput.optional(),
          reason: requiredText(500).describe('Why the grant was made, shown on the statement'),
          reference: identifier.describe(
            'Your unique reference for this grant; repeating it returns the first grant instead of granting twice',
          ),
          source: grantSource,
          metadata: metadata.optional(),
        }),
        response: { 200: grantSchema, 201: grantSchema, ...ledgerErrors },
      },
    },
    async (req, reply) => {
      // Without an Idempotency-Key there is no response to store with the effects, so the grant
      // needs no transaction of the request's: it is usually one call to the database.
      if (!req.idempotency) {
        const result = await grantStandalone(deps, req.workspaceId, req.params.id, req.body);
        reply.code(result.created ? 201 : 200);
        return result.grant;
      }
      return execute(deps, req, reply, async (tx) => {
        const result = await grant(deps, tx, req.workspaceId, req.params.id, req.body);
        return { status: result.created ? 201 : 200, body: result.grant };
      });
    },
  );
};
export default register;
