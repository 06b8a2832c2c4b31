import { z } from 'zod';
import { MAX_TREE_DEPTH, MAX_TREE_NODES, referralTree } from '../../../app/referrals_read.js';
import { identifier, queryIntegerIn } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, referralErrors, treeSchema } from './referral_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id/referral_tree',
    {
      schema: {
        summary: `The customers this one referred, and theirs, to \`depth\` levels (at most ${MAX_TREE_NODES} referrals)`,
        tags: ['referrals'],
        params: z.strictObject({ id: identifier.describe('The customer: Perks id or external_id') }),
        querystring: z.strictObject({
          depth: queryIntegerIn(1, MAX_TREE_DEPTH, {
            range: `must be between 1 and ${MAX_TREE_DEPTH}`,
            notInteger: `must be an integer between 1 and ${MAX_TREE_DEPTH}`,
          }).default(1),
          program: programRef.optional(),
        }),
        response: { 200: treeSchema, ...referralErrors },
      },
    },
    async (req) => referralTree(deps.db, req.workspaceId, req.params.id, req.query.depth, req.query.program),
  );
};
export default register;
