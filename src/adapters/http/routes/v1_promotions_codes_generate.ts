import { z } from 'zod';
import { requestGeneration } from '../../../app/promo_batches.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { codeBatch, generateInput } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/promotions/:id/codes/generate',
    {
      schema: {
        summary: 'Generate up to 100,000 single-use (or limited) codes',
        description:
          'Up to 1,000 codes are generated in the request (201, status succeeded). Larger batches run in the ' +
          'background (202, status pending); follow them with GET /v1/promotions/{id}/code_batches/{batch_id}.',
        tags: ['promotion codes'],
        params: z.strictObject({ id: identifier }),
        body: generateInput,
        response: { 201: codeBatch, 202: codeBatch, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const { batch, done } = await requestGeneration(deps, tx, req.workspaceId, req.params.id, req.body);
        return { status: done ? 201 : 202, body: batch };
      }),
  );
};
export default register;
