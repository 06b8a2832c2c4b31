import { z } from 'zod';
import { listCodes } from '../../../app/promo_codes.js';
import { commonErrors, identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { promotionCode } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/promotion_codes',
    {
      schema: {
        summary: 'List codes, newest first, with how often each was redeemed',
        tags: ['promotion codes'],
        querystring: z.strictObject({
          ...pageQuery,
          promotion: identifier.optional(),
          batch: identifier.optional().describe('Codes of one generated batch'),
          customer: identifier.optional().describe('Codes bound to this customer'),
          code: z
            .string()
            .max(200, 'must be at most 200 characters')
            .optional()
            .describe('Find a code by its text'),
        }),
        response: { 200: listOf(promotionCode), ...commonErrors },
      },
    },
    async (req) => listCodes(deps.db, req.workspaceId, req.query),
  );
};
export default register;
