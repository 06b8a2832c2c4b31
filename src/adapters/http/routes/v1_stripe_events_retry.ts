import { z } from 'zod';
import { retryStripeEvent } from '../../billing/stripe/inbound.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeEventSchema } from './stripe_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/stripe/events/:id/retry',
    {
      schema: {
        summary: 'Apply a failed, ignored or deferred Stripe event again, with the current settings',
        tags: ['stripe'],
        params: z.strictObject({ id: identifier }),
        // Nothing to send; anything sent is refused rather than ignored.
        body: z.strictObject({}).nullish(),
        response: { 200: stripeEventSchema, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await retryStripeEvent(deps, tx, req.workspaceId, req.params.id),
      })),
  );
};
export default register;
