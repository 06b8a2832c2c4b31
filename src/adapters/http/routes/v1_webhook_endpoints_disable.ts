import { z } from 'zod';
import { disableEndpoint } from '../../../app/webhook_endpoints_disable.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier, text } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointSchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/webhook_endpoints/:id/disable',
    {
      schema: {
        summary: 'Stop sending to an endpoint until it is enabled again; its pending deliveries are canceled',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        body: z
          .strictObject({
            reason: text(500).optional().describe('Why, kept as the endpoint’s disabled_reason'),
          })
          .nullish(),
        response: { 200: endpointSchema, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await disableEndpoint(deps, tx, req.workspaceId, req.params.id, req.body?.reason),
      })),
  );
};
export default register;
