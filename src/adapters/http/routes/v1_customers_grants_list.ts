import { z } from 'zod';
import { listCustomerGrants } from '../../../app/ledger_grants_list.js';
import { identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { assetKey, grantSchema, ledgerErrors } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id/grants',
    {
      schema: {
        summary: "A customer's grants, newest first, each with what its lots still hold and when they expire",
        tags: ['ledger'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        querystring: z.strictObject({ ...pageQuery, asset: assetKey.optional() }),
        response: { 200: listOf(grantSchema), ...ledgerErrors },
      },
    },
    async (req) => listCustomerGrants(deps, req.workspaceId, req.params.id, req.query),
  );
};
export default register;
