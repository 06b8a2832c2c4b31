import { z } from 'zod';
import { reassignReferral } from '../../../app/referrals.js';
import { retrieveReferral } from '../../../app/referrals_read.js';
import { execute } from '../idempotency.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { actor, reason, referralDetailSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/referrals/:id/reassign',
    {
      schema: {
        summary: 'Move a referral to another referrer (support repair): rewards follow the corrected tree',
        tags: ['referrals'],
        params: z.strictObject({ id: identifier }),
        body: z.strictObject({
          referrer: identifier.describe('The new referrer: Perks id or external_id'),
          reason,
          actor,
        }),
        response: { 200: referralDetailSchema, ...referralErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const { referral } = await reassignReferral(deps, tx, req.workspaceId, req.params.id, req.body);
        return { status: 200, body: await retrieveReferral(tx, req.workspaceId, referral.id) };
      }),
  );
};
export default register;
