import { z } from 'zod';
import { replayDelivery } from '../../../app/webhook_endpoints.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { deliverySchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/webhook_endpoints/:id/deliveries/:delivery_id/replay',
    {
      schema: {
        summary: 'Send a delivery again, as a new delivery of the same message (same webhook-id and body)',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier, delivery_id: identifier }),
        // Nothing to send; anything sent is refused rather than ignored.
        body: z.strictObject({}).nullish(),
        response: { 201: deliverySchema, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 201,
        body: await replayDelivery(deps, tx, req.workspaceId, req.params.id, req.params.delivery_id),
      })),
  );
};
export default register;
