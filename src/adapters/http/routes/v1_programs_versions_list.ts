import { z } from 'zod';
import { listVersions } from '../../../app/programs.js';
import { listOf, pageLimit, queryIntegerIn } from '../schemas.js';
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
          limit: pageLimit,
          starting_after: queryIntegerIn(1, 1_000_000, {
            range: 'must be a version number',
            notInteger: 'must be a version number',
          }).optional(),
        }),
        response: { 200: listOf(versionSchema), ...referralErrors },
      },
    },
    async (req) => listVersions(deps, req.workspaceId, req.params.id, req.query),
  );
};
export default register;
