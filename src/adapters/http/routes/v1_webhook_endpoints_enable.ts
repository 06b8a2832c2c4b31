import { z } from 'zod';
import { enableEndpoint, MAX_RECOVERED_DELIVERIES } from '../../../app/webhook_endpoints.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointSchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/webhook_endpoints/:id/enable',
    {
      schema: {
        summary: 'Re-enable an endpoint that was disabled after failing; optionally re-queue what it missed',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        body: z
          .strictObject({
            recover: z
              .boolean()
              .optional()
              .describe(
                `Queue again the deliveries that failed or were canceled since the endpoint started failing (at most ${MAX_RECOVERED_DELIVERIES})`,
              ),
          })
          .nullish(),
        response: {
          200: endpointSchema.extend({ recovered_deliveries: z.number() }),
          ...commonErrors,
        },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await enableEndpoint(deps, tx, req.workspaceId, req.params.id, req.body?.recover ?? false),
      })),
  );
};
export default register;
