import { z } from 'zod';
import { listPromotions } from '../../../app/promo_promotions.js';
import { commonErrors, identifier, listOf, pageQuery, timestamp } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { promotion } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/promotions',
    {
      schema: {
        summary: 'List promotions, newest first',
        tags: ['promotions'],
        querystring: z.strictObject({
          ...pageQuery,
          valid_at: timestamp.optional().describe('Only promotions whose window contains this instant'),
          plan: identifier
            .optional()
            .describe('Only promotions that apply to this plan id (including those for every plan)'),
        }),
        response: { 200: listOf(promotion), ...commonErrors },
      },
    },
    async (req) => listPromotions(deps.db, req.workspaceId, req.query),
  );
};
export default register;
