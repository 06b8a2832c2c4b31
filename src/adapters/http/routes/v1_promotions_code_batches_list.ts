import { z } from 'zod';
import { listBatches } from '../../../app/promo_batches.js';
import { commonErrors, identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { codeBatch } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/promotions/:id/code_batches',
    {
      schema: {
        summary: "List a promotion's code generation batches, newest first",
        tags: ['promotion codes'],
        params: z.strictObject({ id: identifier }),
        querystring: z.strictObject(pageQuery),
        response: { 200: listOf(codeBatch), ...commonErrors },
      },
    },
    async (req) => listBatches(deps.db, req.workspaceId, req.params.id, req.query),
  );
};
export default register;
