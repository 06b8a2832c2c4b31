import { z } from 'zod';
import { chooseOption } from '../../../app/referrals_referrers.js';
import { execute } from '../idempotency.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { actor, programRef, referralErrors, referrerSchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/referral_option',
    {
      schema: {
        summary:
          "Record the referrer's chosen reward option (e.g. free days or cash); applies to later accruals",
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z.strictObject({
          program: programRef,
          option: z
            .string()
            .max(64, 'must be at most 64 characters')
            .describe("One of the program's options"),
          actor: actor.optional(),
        }),
        response: { 200: referrerSchema, ...referralErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: await chooseOption(deps, tx, req.workspaceId, req.params.id, req.body),
      })),
  );
};
export default register;
