import { z } from 'zod';
import { issueCode } from '../../../app/referrals_codes.js';
import { execute } from '../idempotency.js';
import { identifier, text } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { codeSchema, programRef, publicOrigin, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers/:id/referral_code',
    {
      schema: {
        summary: "Get the customer's referral code and link in a program (created on first request)",
        description:
          'An ineligible customer gets 422 referrer_not_eligible with `unmet` (card_on_file or ' +
          'paid_subscription). Give `code` for a vanity code; it must be unique.',
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        body: z.strictObject({
          program: programRef,
          code: text(40).optional().describe('A vanity code: 4 to 32 letters and digits, hyphens allowed'),
        }),
        response: { 200: codeSchema, 201: codeSchema, ...referralErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const { code, created } = await issueCode(deps, tx, req.workspaceId, req.params.id, req.body);
        const { link_path, ...rest } = code;
        return {
          status: created ? 201 : 200,
          body: { ...rest, link: link_path ? `${publicOrigin(req)}${link_path}` : null },
        };
      }),
  );
};
export default register;
