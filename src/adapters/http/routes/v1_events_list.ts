import { z } from 'zod';
import { listEvents } from '../../../app/events.js';
import { commonErrors, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';

const storedEvent = z
  .object({
    object: z.literal('event'),
    id: z.string(),
    event_id: z.string(),
    source: z.string(),
    type: z.string(),
    occurred_at: z.string(),
    received_at: z.string(),
    outcome: z.string(),
    payload: z.unknown(),
  })
  .meta({ id: 'StoredEvent' });

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'List received events, newest first',
        tags: ['events'],
        querystring: z.strictObject({ ...pageQuery, type: z.string().max(100).optional() }),
        response: { 200: listOf(storedEvent), ...commonErrors },
      },
    },
    async (req) => listEvents(deps.db, req.workspaceId, req.query, req.query.type),
  );
};
export default register;
