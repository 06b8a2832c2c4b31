import { getStripeSettings, stripeSettingsView } from '../../../app/stripe_settings.js';
import { commonErrors } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { stripeSettingsSchema } from './stripe_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/stripe/settings',
    {
      schema: {
        summary: 'Retrieve the Stripe settings (secrets are shown by their last 4 characters only)',
        tags: ['stripe'],
        response: { 200: stripeSettingsSchema, ...commonErrors },
      },
    },
    async (req) => stripeSettingsView(req.workspaceId, await getStripeSettings(deps.db, req.workspaceId)),
  );
};
export default register;
