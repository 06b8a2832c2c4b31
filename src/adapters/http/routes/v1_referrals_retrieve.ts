import { z } from 'zod';
import { retrieveReferral } from '../../../app/referrals_read.js';
import { identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { referralDetailSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/referrals/:id',
    {
      schema: {
        summary: 'Retrieve a referral with every transition, its reward decisions and its audit log',
        tags: ['referrals'],
        params: z.strictObject({ id: identifier }),
        response: { 200: referralDetailSchema, ...referralErrors },
      },
    },
    async (req) => retrieveReferral(deps.db, req.workspaceId, req.params.id),
  );
};
export default register;
