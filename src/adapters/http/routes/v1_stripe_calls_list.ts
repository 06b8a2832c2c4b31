import { z } from 'zod';
import { listStripeCalls } from '../../../app/stripe_calls.js';
import { commonErrors, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeCallSchema } from './stripe_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/stripe/calls',
    {
      schema: {
        summary: 'List the calls Perks makes to Stripe (invoice items...), newest first; filter by status',
        tags: ['stripe'],
        querystring: z.strictObject({
          ...pageQuery,
          status: z
            .enum(['pending', 'succeeded', 'failed', 'canceled'])
            .optional()
            .describe('canceled: not sent, because the settlement it was queued for was voided'),
        }),
        response: { 200: listOf(stripeCallSchema), ...commonErrors },
      },
    },
    async (req) => listStripeCalls(deps.db, req.workspaceId, req.query, req.query.status),
  );
};
export default register;
