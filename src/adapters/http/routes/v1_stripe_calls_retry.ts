import { z } from 'zod';
import { retryStripeCall } from '../../../app/stripe_calls.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeCallSchema } from './stripe_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/stripe/calls/:id/retry',
    {
      schema: {
        summary: 'Send a failed Stripe call again from its first attempt',
        description:
          'Refused with 409 outbox_item_not_retryable for a call that is not failed, and for an invoice item whose settlement was voided (the error names the settlement): the discount or credit it carried was given back.',
        tags: ['stripe'],
        params: z.strictObject({ id: identifier }),
        // Nothing to send; anything sent is refused rather than ignored.
        body: z.strictObject({}).nullish(),
        response: { 200: stripeCallSchema, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await retryStripeCall(deps, tx, req.workspaceId, req.params.id),
      })),
  );
};
export default register;
