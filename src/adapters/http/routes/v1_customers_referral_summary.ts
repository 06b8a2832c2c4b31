import { z } from 'zod';
import { referralSummary } from '../../../app/referrals_read.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, publicOrigin, referralErrors, summarySchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id/referral_summary',
    {
      schema: {
        summary:
          "The customer's referral figures per program: code, link, clicks, referrals, rewards, status",
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        querystring: z.strictObject({ program: programRef.optional() }),
        response: { 200: summarySchema, ...referralErrors },
      },
    },
    async (req) => {
      const summary = await referralSummary(deps, req.workspaceId, req.params.id, req.query.program);
      const origin = publicOrigin(req);
      return {
        ...summary,
        programs: summary.programs.map(({ link_path, ...p }) => ({
          ...p,
          link: link_path ? `${origin}${link_path}` : null,
        })),
      };
    },
  );
};
export default register;
