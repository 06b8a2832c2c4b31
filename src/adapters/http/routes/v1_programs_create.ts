import { z } from 'zod';
import { applyProgram } from '../../../app/programs.js';
import { programDocument } from '../../../core/programs/schema.js';
import { execute } from '../idempotency.js';
import type { RegisterRoute } from './index.js';
import { programSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/programs',
    {
      schema: {
        summary: 'Create a program, or add a version to the program with this key',
        description:
          'The body is a program document (JSON Schema at GET /v1/programs/schema.json). A document ' +
          'identical to the latest version changes nothing; any other becomes a new version, in force ' +
          'from its effective_at (default now). Every schema error is listed by path.',
        tags: ['programs'],
        body: programDocument,
        response: {
          200: programSchema.extend({ changed: z.boolean() }),
          201: programSchema.extend({ changed: z.boolean() }),
          ...referralErrors,
        },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const result = await applyProgram(deps, tx, req.workspaceId, req.body, { actor: 'api' });
        return { status: result.created ? 201 : 200, body: { ...result.program, changed: result.changed } };
      }),
  );
};
export default register;
