import { createCode } from '../../../app/promo_codes.js';
import { execute } from '../idempotency.js';
import { commonErrors } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { codeInput, promotionCode } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/promotion_codes',
    {
      schema: {
        summary: 'Create a custom code (e.g. SUMMER24) for a promotion',
        tags: ['promotion codes'],
        body: codeInput,
        response: { 201: promotionCode, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 201,
        body: await createCode(deps, tx, req.workspaceId, req.body),
      })),
  );
};
export default register;
