import { z } from 'zod';
import { getRedemption } from '../../../app/promo_redemptions.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { redemption } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/redemptions/:id',
    {
      schema: {
        summary: 'Retrieve a redemption with its discount schedule',
        tags: ['redemptions'],
        params: z.strictObject({ id: identifier }),
        response: { 200: redemption, ...commonErrors },
      },
    },
    async (req) => getRedemption(deps.db, req.workspaceId, req.params.id),
  );
};
export default register;
