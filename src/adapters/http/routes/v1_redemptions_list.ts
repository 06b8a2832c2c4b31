import { z } from 'zod';
import { listRedemptions } from '../../../app/promo_redemptions.js';
import { commonErrors, identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { redemption } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/redemptions',
    {
      schema: {
        summary: 'List redemptions, newest first',
        tags: ['redemptions'],
        querystring: z.strictObject({
          ...pageQuery,
          customer: identifier.optional().describe('Perks id or external_id'),
          subscription: identifier.optional(),
          promotion: identifier.optional(),
          promotion_code: identifier.optional(),
          status: z.enum(['active', 'completed', 'voided']).optional(),
        }),
        response: { 200: listOf(redemption), ...commonErrors },
      },
    },
    async (req) => listRedemptions(deps.db, req.workspaceId, req.query),
  );
};
export default register;
