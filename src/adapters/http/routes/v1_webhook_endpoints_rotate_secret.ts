import { z } from 'zod';
import {
  DEFAULT_ROTATION_GRACE_S,
  MAX_ROTATION_GRACE_S,
  rotateSecret,
} from '../../../app/webhook_endpoints.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier, integerIn } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointWithSecretSchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/webhook_endpoints/:id/rotate_secret',
    {
      schema: {
        summary:
          'Replace the signing secret; the old one keeps signing beside the new one for a grace period',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        body: z
          .strictObject({
            grace_period_s: integerIn(0, MAX_ROTATION_GRACE_S, {
              range: `must be from 0 to ${MAX_ROTATION_GRACE_S} seconds (7 days)`,
              notInteger: `must be a whole number of seconds from 0 to ${MAX_ROTATION_GRACE_S} (7 days)`,
            })
              .optional()
              .describe(
                `How long the old secret still signs; default ${DEFAULT_ROTATION_GRACE_S} (24 hours), 0 stops it at once`,
              ),
          })
          .nullish(),
        response: { 200: endpointWithSecretSchema, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await rotateSecret(deps, tx, req.workspaceId, req.params.id, req.body?.grace_period_s),
      })),
  );
};
export default register;
