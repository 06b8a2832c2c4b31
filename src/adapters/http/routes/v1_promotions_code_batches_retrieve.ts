import { z } from 'zod';
import { getBatch } from '../../../app/promo_batches.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { codeBatch } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/promotions/:id/code_batches/:batch_id',
    {
      schema: {
        summary: 'Progress of a code generation batch (generated / total)',
        tags: ['promotion codes'],
        params: z.strictObject({ id: identifier, batch_id: identifier }),
        response: { 200: codeBatch, ...commonErrors },
      },
    },
    async (req) => getBatch(deps.db, req.workspaceId, req.params.id, req.params.batch_id),
  );
};
export default register;
