import { z } from 'zod';
import { createReferral } from '../../../app/referrals.js';
import { referralViews } from '../../../app/referrals_read.js';
import { execute } from '../idempotency.js';
import { identifier, text, timestamp } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { actor, programRef, reason, referralErrors, referralSchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/referrals',
    {
      schema: {
        summary: 'Attribute a referral by code or click id, or record one by hand (support repair)',
        description:
          'source api: give `code` or `click_id`; a refusal by the program is recorded and answered as a ' +
          'rejected referral with its reason. source manual: give `code`, or `program` and `referrer`, ' +
          'with `reason` and `actor`; rewards already due are granted, and the repair is audited.',
        tags: ['referrals'],
        body: z.strictObject({
          referee: identifier.describe('The referred customer: Perks id or external_id'),
          source: z.enum(['api', 'manual']).default('api'),
          code: text(64).optional(),
          click_id: text(200).optional(),
          program: programRef.optional(),
          referrer: identifier.optional().describe('manual: the referrer, Perks id or external_id'),
          reason: reason.optional(),
          actor: actor.optional(),
          attributed_at: timestamp
            .optional()
            .describe(
              "manual: when the referral should have been recorded (default: the referee's creation)",
            ),
        }),
        response: { 200: referralSchema, 201: referralSchema, ...referralErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const { referral, created } = await createReferral(deps, tx, req.workspaceId, req.body);
        const [view] = await referralViews(tx, req.workspaceId, [referral]);
        return { status: created ? 201 : 200, body: view! };
      }),
  );
};
export default register;
