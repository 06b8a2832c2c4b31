import { z } from 'zod';
import { reinstateReferrer } from '../../../app/referrals_referrers.js';
import { execute } from '../idempotency.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { actor, programRef, reason, referralErrors, referrerSchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/referral_reinstate',
    {
      schema: {
        summary: 'Reinstate a suspended referrer (support); its inactivity clock starts again',
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z.strictObject({ program: programRef, reason, actor }),
        response: { 200: referrerSchema, ...referralErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await reinstateReferrer(deps, tx, req.workspaceId, req.params.id, req.body),
      })),
  );
};
export default register;
