import { isPerksError } from '../../../core/errors.js';
import { isRejection } from '../../../core/promo/rules.js';
import { recordFailure } from '../../../app/promo_failures.js';
import { redeemCode, redeemCodeStandalone, redemptionLimitError } from '../../../app/promo_redemptions.js';
import { execute } from '../idempotency.js';
import type { RegisterRoute } from './index.js';
import { codeEndpointError, codeErrors, redeemBody, redemption } from './promo_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/promotion_codes/redeem',
    {
      schema: {
        summary: 'Redeem a code for a customer (and subscription), in one transaction',
        description:
          'Runs the checks of validate, then records the redemption; every limit is enforced by the ' +
          'database in the same transaction. Send an Idempotency-Key to retry safely. Errors: code_invalid, ' +
          'code_expired, code_not_yet_active, code_exhausted, code_already_used_by_customer, ' +
          'subscription_already_has_promotion, not_first_time, minimum_not_met, plan_not_eligible, ' +
          'code_bound_to_other_customer, promotion_currency_mismatch, rate_limited (429 with Retry-After).',
        tags: ['promotion codes'],
        body: redeemBody,
        response: { 201: redemption, ...codeErrors },
      },
    },
    async (req, reply) => {
      const ip = req.body.client_ip ?? req.ip;
      // The typed answer for a failure. A limit reached by a concurrent redemption surfaces as a
      // database error (at commit for the code's and the promotion's). A refusal counts against the
      // guessing limits, once its transaction has rolled back; past them it is answered 429 instead.
      const answer = async (caught: unknown) => {
        const err = redemptionLimitError(caught) ?? caught;
        if (!isPerksError(err) || !isRejection(err.code)) return err;
        return (await recordFailure(deps, deps.db, req.workspaceId, req.body.customer, ip)) ?? err;
      };
      try {
        // Without an Idempotency-Key there is no response to store with the effects, so the
        // redemption needs no transaction of the request's: it reads, then writes in one statement.
        if (!req.idempotency) {
          const body = await redeemCodeStandalone(deps, req.workspaceId, req.body, ip).catch(async (err) => {
            throw await answer(err);
          });
          reply.code(201);
          return body;
        }
        // A typed answer is stored under the key, so a retry answers the same; a guessing refusal is
        // not (the same request is welcome once its window is over).
        return await execute(
          deps,
          req,
          reply,
          async (tx) => ({ status: 201, body: await redeemCode(deps, tx, req.workspaceId, req.body, ip) }),
          answer,
        );
      } catch (err) {
        throw codeEndpointError(reply, err);
      }
    },
  );
};
export default register;
