import { z } from 'zod';
import { searchReferrals } from '../../../app/referrals_search.js';
import { REJECTION_REASONS } from '../../../core/programs/attribution.js';
import { REFERRAL_STATUSES } from '../../../core/programs/lifecycle.js';
import { identifier, listOf, pageQuery, text } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, referralErrors, referralSchema } from './referral_schema.js';

const amounts = z.object({
  recipient: z.enum(['referrer', 'referee']),
  asset: z.string(),
  granted: z.number(),
  reversed: z.number(),
  net: z.number(),
});

const listItem = referralSchema
  .extend({
    referrer_external_id: z.string().nullable(),
    referee_external_id: z.string().nullable(),
    rewards: z
      .array(amounts)
      .describe('What the referral paid, per recipient and asset (skipped rewards left out)'),
  })
  .meta({ id: 'ReferralListItem' });

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/referrals',
    {
      schema: {
        summary: "Search the workspace's referrals, newest first",
        description:
          'Filter by customer (as referrer, referee or either), by referral code (the referrals its owner ' +
          'made in its program), program, status and rejection reason. Pages are cut with starting_after.',
        tags: ['referrals'],
        querystring: z.strictObject({
          ...pageQuery,
          customer: identifier.optional().describe('A customer: Perks id or external_id'),
          role: z
            .enum(['any', 'referrer', 'referee'])
            .optional()
            .describe('With customer only: the referrals it made, those that brought it, or both (default)'),
          code: text(64).min(1, 'must not be empty').optional().describe('A referral code, any case'),
          program: programRef.optional(),
          status: z.enum(REFERRAL_STATUSES).optional(),
          reason: z.enum(REJECTION_REASONS).optional().describe('The rule that rejected the referral'),
        }),
        response: { 200: listOf(listItem), ...referralErrors },
      },
    },
    async (req) => searchReferrals(deps.db, req.workspaceId, req.query),
  );
};
export default register;
