import { z } from 'zod';
import { assetView, createAsset } from '../../../app/ledger_assets.js';
import { execute } from '../idempotency.js';
import { amountMinor, currency, text } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { assetKey, assetSchema, ledgerErrors } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/assets',
    {
      schema: {
        summary: 'Create an asset (money, units or days; credit or commission)',
        tags: ['ledger'],
        body: z.strictObject({
          key: assetKey,
          kind: z.enum(['money', 'units', 'days']),
          currency: currency.optional().describe('Money assets only: the ISO 4217 currency'),
          unit: text(40)
            .regex(/^[a-z][a-z0-9_ ]*$/, 'must be a lower-case unit name such as minutes')
            .optional()
            .describe('Units assets only: the unit, e.g. minutes'),
          purpose: z.enum(['credit', 'commission']),
          negative_policy: z
            .enum(['allow_negative', 'forgive'])
            .optional()
            .describe('What reversing an already spent grant does; default forgive'),
          payout_minimum: amountMinor
            .optional()
            .describe('Commission assets only: the smallest payout, in minor units; default 0'),
        }),
        response: { 200: assetSchema, 201: assetSchema, ...ledgerErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const { asset, created } = await createAsset(deps, tx, req.workspaceId, req.body);
        return { status: created ? 201 : 200, body: assetView(asset) };
      }),
  );
};
export default register;
