import { z } from 'zod';
import { TEMPLATES } from '../../../core/programs/templates.js';
import type { RegisterRoute } from './index.js';
import { referralErrors } from './referral_schema.js';

const templateSchema = z
  .object({
    object: z.literal('program_template'),
    name: z.string(),
    summary: z.string(),
    reference: z.string().describe('The reference text the template implements'),
    document: z.record(z.string(), z.unknown()),
    assets: z.array(z.record(z.string(), z.unknown())).describe('Ledger assets created with the program'),
  })
  .meta({ id: 'ProgramTemplate' });

const register: RegisterRoute = (app) => {
  app.get(
    '/v1/programs/templates',
    {
      schema: {
        summary: 'List the reference program templates',
        tags: ['programs'],
        response: {
          200: z.object({ object: z.literal('list'), data: z.array(templateSchema), has_more: z.boolean() }),
          ...referralErrors,
        },
      },
    },
    async () => ({
      object: 'list' as const,
      data: TEMPLATES.map((t) => ({
        object: 'program_template' as const,
        name: t.name,
        summary: t.summary,
        reference: t.reference,
        document: { ...t.document },
        assets: t.assets.map((a) => ({ ...a })),
      })),
      has_more: false,
    }),
  );
};
export default register;
