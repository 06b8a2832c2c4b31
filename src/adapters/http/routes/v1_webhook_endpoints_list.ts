import { z } from 'zod';
import { listEndpoints } from '../../../app/webhook_endpoints.js';
import { commonErrors, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointSchema } from './webhook_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/webhook_endpoints',
    {
      schema: {
        summary: 'List webhook endpoints, newest first',
        tags: ['webhooks'],
        querystring: z.strictObject(pageQuery),
        response: { 200: listOf(endpointSchema), ...commonErrors },
      },
    },
    async (req) => listEndpoints(deps, deps.db, req.workspaceId, req.query),
  );
};
export default register;
