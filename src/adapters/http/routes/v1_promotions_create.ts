import { createPromotion } from '../../../app/promo_promotions.js';
import { execute } from '../idempotency.js';
import { commonErrors } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { promotion, promotionInput } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/promotions',
    {
      schema: {
        summary: 'Create a promotion (the offer codes give access to)',
        tags: ['promotions'],
        body: promotionInput,
        response: { 201: promotion, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 201,
        body: await createPromotion(deps, tx, req.workspaceId, req.body),
      })),
  );
};
export default register;
