import { recordFailure } from '../../../app/promo_failures.js';
import type { Sql } from '../../../app/ports.js';
import { validateCode, type ValidationView } from '../../../app/promo_redemptions.js';
import { execute } from '../idempotency.js';
import type { RegisterRoute } from './index.js';
import { codeEndpointError, redeemInput, validateErrors, validation } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/promotion_codes/validate',
    {
      schema: {
        summary: 'Check a code without redeeming it (a dry run that writes nothing but the failure count)',
        description:
          'Answers 200 with `valid: true` and a preview of the discount, or `valid: false` and the typed reason ' +
          '(the same codes redeem answers with). Failed checks count towards the guessing limits: 100 ' +
          'consecutive failures per customer and 1,000 per client IP per hour, then 429 with Retry-After.',
        tags: ['promotion codes'],
        body: redeemInput,
        response: { 200: validation, ...validateErrors },
      },
    },
    async (req, reply) => {
      const ip = req.body.client_ip ?? req.ip;
      // A failed check counts against the guessing limits; past them it is answered 429 instead.
      const counted = async (sql: Sql, result: ValidationView) => {
        if (!result.valid) {
          const blocked = await recordFailure(deps, sql, req.workspaceId, req.body.customer, ip);
          if (blocked) throw blocked;
        }
        return result;
      };
      try {
        // A dry run is one statement: only an Idempotency-Key needs a transaction to store its answer
        // in, and the failure is counted in it, so an attempt past the limits stores nothing.
        if (req.idempotency) {
          return await execute(deps, req, reply, async (tx) => ({
            status: 200,
            body: await counted(tx, await validateCode(deps, tx, req.workspaceId, req.body, ip)),
          }));
        }
        return await counted(deps.db, await validateCode(deps, undefined, req.workspaceId, req.body, ip));
      } catch (err) {
        throw codeEndpointError(reply, err);
      }
    },
  );
};
export default register;
