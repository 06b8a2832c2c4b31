import { z } from 'zod';
import { deleteEndpoint } from '../../../app/webhook_endpoints.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';

const register: RegisterRoute = (app, deps) => {
  app.delete(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        summary: 'Delete a webhook endpoint; its pending deliveries are canceled',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        response: {
          200: z.object({ object: z.literal('webhook_endpoint'), id: z.string(), deleted: z.literal(true) }),
          ...commonErrors,
        },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await deleteEndpoint(deps, tx, req.workspaceId, req.params.id),
      })),
  );
};
export default register;
