import { z } from 'zod';
import { listVersions } from '../../../app/programs.js';
import { LIMITS, listOf } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, referralErrors, versionSchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/programs/:id/versions',
    {
      schema: {
        summary: "List a program's versions, newest first",
        tags: ['programs'],
        params: z.strictObject({ id: programRef }),
        querystring: z.strictObject({
          limit: z.coerce
            .number()
            .int('must be an integer')
            .min(1, `must be between 1 and ${LIMITS.pageSize}`)
            .max(LIMITS.pageSize, `must be between 1 and ${LIMITS.pageSize}`)
            .default(10),
          starting_after: z.coerce
            .number()
            .int('must be a version number')
            .min(1, 'must be a version number')
            .max(1_000_000, 'must be a version number')
            .optional(),
        }),
        response: { 200: listOf(versionSchema), ...referralErrors },
      },
    },
    async (req) => listVersions(deps, req.workspaceId, req.params.id, req.query),
  );
};
export default register;
