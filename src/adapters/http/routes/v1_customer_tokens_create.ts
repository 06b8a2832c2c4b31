import { z } from 'zod';
import {
  DEFAULT_TTL_SECONDS,
  MAX_TTL_SECONDS,
  MIN_TTL_SECONDS,
  mintCustomerToken,
} from '../../../app/customer_tokens.js';
import { identifier, integerIn } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { widgetErrors } from './widget_schema.js';

const limits = `must be an integer number of seconds from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`;

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customer_tokens',
    {
      // The answer is a credential, and Perks keeps none: it is not stored for Idempotency-Key
      // replays. Minting changes nothing, so a retry simply mints another token.
      config: { credentialResponse: true },
      schema: {
        summary: 'Mint a short-lived token that lets the referral widget act for one customer',
        description:
          "Call it from the product's backend with a secret key and hand the token to the page that " +
          'embeds <perks-referral>. The token reaches only the /v1/widget endpoints, for this one ' +
          'customer, until it expires. Idempotency-Key is accepted but not replayed (the answer is a ' +
          'credential and is never stored).',
        tags: ['widget'],
        body: z.strictObject({
          customer: identifier.describe('The customer: Perks id or external_id'),
          ttl_seconds: integerIn(MIN_TTL_SECONDS, MAX_TTL_SECONDS, { range: limits, notInteger: limits })
            .optional()
            .describe(
              `How long the token lives; default ${DEFAULT_TTL_SECONDS} (15 minutes), at most one hour`,
            ),
        }),
        response: {
          201: z
            .object({
              object: z.literal('customer_token'),
              token: z.string().describe('ct_...: pass it to the widget; do not log it'),
              customer: z.string(),
              customer_external_id: z.string(),
              expires_at: z.string(),
            })
            .meta({ id: 'CustomerToken' }),
          ...widgetErrors,
        },
      },
    },
    async (req, reply) => {
      const minted = await mintCustomerToken(deps, req.workspaceId, req.body);
      reply.code(201).header('cache-control', 'no-store');
      return minted;
    },
  );
};
export default register;
