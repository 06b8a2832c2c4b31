import { z } from 'zod';
import { codeView, requireCode } from '../../../app/promo_codes.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { promotionCode } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/promotion_codes/:id',
    {
      schema: {
        summary: 'Retrieve a code by id, with how often it was redeemed',
        tags: ['promotion codes'],
        params: z.strictObject({ id: identifier }),
        response: { 200: promotionCode, ...commonErrors },
      },
    },
    async (req) => codeView(await requireCode(deps.db, req.workspaceId, req.params.id)),
  );
};
export default register;
