import { z } from 'zod';
import { createEndpoint } from '../../../app/webhook_endpoints.js';
import { execute } from '../idempotency.js';
import { commonErrors } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointFields, endpointUrl, endpointWithSecretSchema, eventTypes } from './webhook_schema.js';
import { checkUrl } from './webhook_url.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/webhook_endpoints',
    {
      schema: {
        summary: 'Create a webhook endpoint; its signing secret is in this response only',
        tags: ['webhooks'],
        body: z.strictObject({ url: endpointUrl, event_types: eventTypes, ...endpointFields }),
        response: { 201: endpointWithSecretSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const refused = await checkUrl(req.body.url);
      return execute(deps, req, reply, async (tx) => {
        if (refused) throw refused;
        return { status: 201, body: await createEndpoint(deps, tx, req.workspaceId, req.body) };
      });
    },
  );
};
export default register;
