import { z } from 'zod';
import { requestPayout } from '../../../app/ledger_payouts.js';
import { execute } from '../idempotency.js';
import { identifier, metadata, requiredText } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { amount, assetKey, currency, ledgerErrors, payoutSchema } from './ledger_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/payouts',
    {
      schema: {
        summary: 'Request a commission payout: checks the minimum and the balance, then holds the amount',
        tags: ['ledger'],
        body: z.strictObject({
          customer: identifier.describe('The customer: Perks id or external_id'),
          asset: assetKey.describe('A commission asset'),
          amount,
          currency: currency.optional().describe('Checked against the asset currency'),
          destination: requiredText(500).describe(
            'Where the customer asked the money to go, as the customer gave it',
          ),
          metadata: metadata.optional(),
        }),
        response: { 201: payoutSchema, ...ledgerErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 201,
        body: await requestPayout(deps, tx, req.workspaceId, req.body),
      })),
  );
};
export default register;
