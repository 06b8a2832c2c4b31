import { z } from 'zod';
import { listDeliveries } from '../../../app/webhook_endpoints.js';
import { commonErrors, identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { deliverySchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/webhook_endpoints/:id/deliveries',
    {
      schema: {
        summary: 'List an endpoint’s deliveries, newest first, each with every attempt made',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        querystring: z.strictObject({
          ...pageQuery,
          status: z.enum(['pending', 'succeeded', 'failed', 'canceled']).optional(),
        }),
        response: { 200: listOf(deliverySchema), ...commonErrors },
      },
    },
    async (req) => listDeliveries(deps.db, req.workspaceId, req.params.id, req.query, req.query.status),
  );
};
export default register;
