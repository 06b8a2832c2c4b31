import { z } from 'zod';
import { widgetPayout } from '../../../app/widget.js';
import { execute } from '../idempotency.js';
import type { RegisterRoute } from './index.js';
import { assetKey, amount } from './ledger_schema.js';
import { programRef } from './referral_schema.js';
import { customerTokenSecurity, widgetErrors, widgetPayoutSchema } from './widget_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/widget/payouts',
    {
      config: { auth: 'customer_token' },
      schema: {
        summary: "Withdraw the token's customer's commission in a program (held until the operator approves)",
        description:
          'Authenticated with a customer token. Without `amount`, withdraws the whole available balance. ' +
          'Below the asset minimum: 400 payout_below_minimum with `minimum`.',
        tags: ['widget'],
        security: customerTokenSecurity,
        body: z.strictObject({
          program: programRef,
          asset: assetKey
            .optional()
            .describe('Needed only when the program pays commission in several assets'),
          amount: amount.optional().describe('Default: all of the available commission'),
        }),
        response: { 201: widgetPayoutSchema, ...widgetErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const payout = await widgetPayout(deps, tx, req.workspaceId, req.customerId, req.body);
        return {
          status: 201,
          body: {
            id: payout.id,
            object: 'payout' as const,
            asset: payout.asset,
            currency: payout.currency,
            amount: payout.amount,
            status: payout.status,
            requested_at: payout.requested_at,
          },
        };
      }),
  );
};
export default register;
