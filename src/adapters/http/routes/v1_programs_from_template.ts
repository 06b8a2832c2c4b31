import { z } from 'zod';
import { createFromTemplate } from '../../../app/programs.js';
import { TEMPLATE_NAMES } from '../../../core/programs/templates.js';
import { execute } from '../idempotency.js';
import type { RegisterRoute } from './index.js';
import { programSchema, referralErrors } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/programs/from_template',
    {
      schema: {
        summary: 'Create a program from a reference template, with the ledger assets it pays in',
        tags: ['programs'],
        body: z.strictObject({
          template: z.enum(TEMPLATE_NAMES as [string, ...string[]]).describe('The reference program'),
          key: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1 to 64 lower-case letters, digits, '-' or '_'")
            .optional()
            .describe("The program's key (default: the template's name)"),
          name: z.string().min(1).max(200, 'must be at most 200 characters').optional(),
          landing_url: z
            .url({ protocol: /^https?$/, message: 'must be an http or https URL' })
            .max(2000, 'must be at most 2000 characters')
            .optional()
            .describe('Where referral links land (the template has a placeholder)'),
        }),
        response: {
          200: programSchema.extend({ changed: z.boolean() }),
          201: programSchema.extend({ changed: z.boolean() }),
          ...referralErrors,
        },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const result = await createFromTemplate(deps, tx, req.workspaceId, req.body);
        return { status: result.created ? 201 : 200, body: { ...result.program, changed: result.changed } };
      }),
  );
};
export default register;
