import { z } from 'zod';
import { endpointView, requireEndpoint } from '../../../app/webhook_endpoints.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointSchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        summary: 'Retrieve a webhook endpoint (its secret is never shown again)',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        response: { 200: endpointSchema, ...commonErrors },
      },
    },
    async (req) =>
      endpointView(await requireEndpoint(deps.db, req.workspaceId, req.params.id), deps.clock.now()),
  );
};
export default register;
