import { z } from 'zod';
import { signContract } from '../../../app/referrals_referrers.js';
import { execute } from '../idempotency.js';
import { identifier, timestamp } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { actor, contractSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/contract',
    {
      schema: {
        summary: 'Record that the customer signed the partner contract (commission accrues from then on)',
        description: 'The first signature stands; recording it again answers with it (200).',
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z
          .strictObject({
            signed_at: timestamp.optional().describe('When it was signed (default now; not in the future)'),
            actor: actor.optional(),
          })
          .default({}),
        response: { 200: contractSchema, 201: contractSchema, ...referralErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const result = await signContract(deps, tx, req.workspaceId, req.params.id, req.body);
        return { status: result.created ? 201 : 200, body: result.contract };
      }),
  );
};
export default register;
