import { z } from 'zod';
import { updateEndpoint } from '../../../app/webhook_endpoints.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { endpointFields, endpointSchema, endpointUrl, eventTypes } from './webhook_schema.js';
import { checkUrl } from './webhook_url.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        summary:
          'Update a webhook endpoint’s URL, event types, description or metadata; omitted fields keep their value',
        tags: ['webhooks'],
        params: z.strictObject({ id: identifier }),
        body: z.strictObject({
          url: endpointUrl.optional(),
          event_types: eventTypes.optional(),
          ...endpointFields,
        }),
        response: { 200: endpointSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const refused = await checkUrl(req.body.url);
      return execute(deps, req, reply, async (tx) => {
        if (refused) throw refused;
        return {
          status: 200,
          body: await updateEndpoint(deps, tx, req.workspaceId, req.params.id, req.body),
        };
      });
    },
  );
};
export default register;
