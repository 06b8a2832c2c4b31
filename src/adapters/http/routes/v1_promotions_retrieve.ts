import { z } from 'zod';
import { promotionView, requirePromotion } from '../../../app/promo_promotions.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { promotion } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/promotions/:id',
    {
      schema: {
        summary: 'Retrieve a promotion',
        tags: ['promotions'],
        params: z.strictObject({ id: identifier }),
        response: { 200: promotion, ...commonErrors },
      },
    },
    async (req) =>
      promotionView(deps.db, await requirePromotion(deps.db, req.workspaceId, req.params.id, 'id')),
  );
};
export default register;
