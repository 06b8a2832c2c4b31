import { z } from 'zod';
import { listPrograms } from '../../../app/programs.js';
import { listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/programs',
    {
      schema: {
        summary: 'List programs, newest first',
        tags: ['programs'],
        querystring: z.strictObject(pageQuery),
        response: { 200: listOf(programSchema), ...referralErrors },
      },
    },
    async (req) => listPrograms(deps, req.workspaceId, req.query),
  );
};
export default register;
