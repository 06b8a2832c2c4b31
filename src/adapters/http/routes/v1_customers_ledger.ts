import { z } from 'zod';
import { customerLedger } from '../../../app/ledger_reads.js';
import { identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { assetKey, entrySchema, ledgerErrors } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id/ledger',
    {
      schema: {
        summary: "A customer's ledger entries, newest first, each naming its source",
        tags: ['ledger'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        querystring: z.strictObject({ ...pageQuery, asset: assetKey.optional() }),
        response: { 200: listOf(entrySchema), ...ledgerErrors },
      },
    },
    async (req) => customerLedger(deps, req.workspaceId, req.params.id, req.query),
  );
};
export default register;
