import { z } from 'zod';
import { listCustomerReferrals } from '../../../app/referrals_read.js';
import { REFERRAL_STATUSES } from '../../../core/programs/lifecycle.js';
import { identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, referralErrors, referralSchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id/referrals',
    {
      schema: {
        summary: "The customer's referrals, newest first, with status and the reason of each rejection",
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        querystring: z.strictObject({
          ...pageQuery,
          program: programRef.optional(),
          status: z.enum(REFERRAL_STATUSES).optional(),
          role: z
            .enum(['referrer', 'referee'])
            .default('referrer')
            .describe('referrer: the referrals it made; referee: the referrals that brought it'),
        }),
        response: { 200: listOf(referralSchema), ...referralErrors },
      },
    },
    async (req) => listCustomerReferrals(deps.db, req.workspaceId, req.params.id, req.query),
  );
};
export default register;
