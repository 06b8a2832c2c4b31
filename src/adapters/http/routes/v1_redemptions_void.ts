import { z } from 'zod';
import { voidRedemption } from '../../../app/promo_redemptions.js';
import { execute } from '../idempotency.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { redemption } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/redemptions/:id/void',
    {
      schema: {
        summary: 'Void a redemption and give the use back (idempotent)',
        description:
          'The code, the promotion and the per-customer limit count it no more, and the subscription may take ' +
          'another promotion. Discounts already applied to settled invoices stay on them.',
        tags: ['redemptions'],
        params: z.strictObject({ id: identifier }),
        // Nothing to send; anything sent is refused rather than ignored.
        body: z.strictObject({}).nullish(),
        response: { 200: redemption, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await voidRedemption(deps, tx, req.workspaceId, req.params.id),
      })),
  );
};
export default register;
