import { z } from 'zod';
import { listStripeEvents } from '../../../app/stripe_events.js';
import { commonErrors, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeEventSchema, stripeEventStatus } from './stripe_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/stripe/events',
    {
      schema: {
        summary: 'List received Stripe events, newest first; filter by status (e.g. failed) and type',
        tags: ['stripe'],
        querystring: z.strictObject({
          ...pageQuery,
          status: stripeEventStatus.optional(),
          type: z.string().max(255, 'must be at most 255 characters').optional(),
        }),
        response: { 200: listOf(stripeEventSchema), ...commonErrors },
      },
    },
    async (req) =>
      listStripeEvents(deps.db, req.workspaceId, req.query, {
        status: req.query.status,
        type: req.query.type,
      }),
  );
};
export default register;
