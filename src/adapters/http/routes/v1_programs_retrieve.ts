import { z } from 'zod';
import { retrieveProgram } from '../../../app/programs.js';
import type { RegisterRoute } from './index.js';
import { programRef, programSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/programs/:id',
    {
      schema: {
        summary: 'Retrieve a program by key or id, with the version in force now',
        tags: ['programs'],
        params: z.strictObject({ id: programRef }),
        response: { 200: programSchema, ...referralErrors },
      },
    },
    async (req) => retrieveProgram(deps, req.workspaceId, req.params.id),
  );
};
export default register;
