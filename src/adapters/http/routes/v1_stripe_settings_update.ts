import { z } from 'zod';
import { MAX_WEBHOOK_SECRETS, putStripeSettings, stripeSettingsView } from '../../../app/stripe_settings.js';
import { execute } from '../idempotency.js';
import { commonErrors } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeSettingsSchema } from './stripe_schema.js';

const secret = z
  .string()
  .regex(
    /^whsec_[A-Za-z0-9+/=_-]{8,200}$/,
    'must be a Stripe signing secret: whsec_ and up to 200 characters',
  );

const apiKey = z
  .string()
  .regex(
    /^(rk|sk)_(test|live)_[A-Za-z0-9]{8,250}$/,
    'must be a Stripe secret or restricted key (sk_test_..., rk_live_...)',
  );

const register: RegisterRoute = (app, deps) => {
  app.put(
    '/v1/stripe/settings',
    {
      schema: {
        summary:
          'Set the Stripe signing secrets, API key and plan-units metadata key; omitted fields keep their value',
        tags: ['stripe'],
        body: z.strictObject({
          webhook_secrets: z
            .array(secret)
            .max(MAX_WEBHOOK_SECRETS, `must hold at most ${MAX_WEBHOOK_SECRETS} secrets`)
            .optional()
            .describe(
              'Every signing secret that may sign events (replaces the list). During a rotation send the new and the old one.',
            ),
          api_key: apiKey
            .nullable()
            .optional()
            .describe('A restricted key with write access to invoice items (null removes it)'),
          plan_units_key: z
            .string()
            .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be a Stripe metadata key: 1 to 40 letters, digits, _ . -')
            .optional()
            .describe('The price or product metadata key stating a plan’s units; default perks_plan_units'),
        }),
        response: { 200: stripeSettingsSchema, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => ({
        status: 200,
        body: stripeSettingsView(
          req.workspaceId,
          await putStripeSettings(deps, tx, req.workspaceId, req.body),
        ),
      })),
  );
};
export default register;
