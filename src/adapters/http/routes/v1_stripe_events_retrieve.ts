import { z } from 'zod';
import { requireStripeEvent, stripeEventView } from '../../../app/stripe_events.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeEventSchema } from './stripe_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/stripe/events/:id',
    {
      schema: {
        summary: 'Retrieve a received Stripe event by Perks id (sevt_...) or Stripe event id (evt_...)',
        tags: ['stripe'],
        params: z.strictObject({ id: identifier }),
        response: { 200: stripeEventSchema, ...commonErrors },
      },
    },
    async (req) => stripeEventView(await requireStripeEvent(deps.db, req.workspaceId, req.params.id)),
  );
};
export default register;
