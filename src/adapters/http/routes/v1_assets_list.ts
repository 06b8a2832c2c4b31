import { z } from 'zod';
import { listAssets } from '../../../app/ledger_assets.js';
import { listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { assetSchema, ledgerErrors } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/assets',
    {
      schema: {
        summary: 'List assets, newest first',
        tags: ['ledger'],
        querystring: z.strictObject(pageQuery),
        response: { 200: listOf(assetSchema), ...ledgerErrors },
      },
    },
    async (req) => listAssets(deps.db, req.workspaceId, req.query),
  );
};
export default register;
