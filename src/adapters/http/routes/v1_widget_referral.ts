import { z } from 'zod';
import { widgetReferral } from '../../../app/widget.js';
import type { RegisterRoute } from './index.js';
import { programRef, publicOrigin } from './referral_schema.js';
import { customerTokenSecurity, widgetErrors, widgetReferralSchema } from './widget_schema.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/widget/referral',
    {
      config: { auth: 'customer_token' },
      schema: {
        summary: "The token's customer's referral panel: code, link, referrals, rewards, commission",
        description:
          'Authenticated with a customer token (POST /v1/customer_tokens), not a secret key. Creates the ' +
          "customer's code on first read when it is eligible; otherwise says what makes it eligible.",
        tags: ['widget'],
        security: customerTokenSecurity,
        querystring: z.strictObject({ program: programRef }),
        response: { 200: widgetReferralSchema, ...widgetErrors },
      },
    },
    async (req) => {
      const { link_path, ...panel } = await widgetReferral(
        deps,
        req.workspaceId,
        req.customerId,
        req.query.program,
      );
      return { ...panel, link: link_path ? `${publicOrigin(req)}${link_path}` : null };
    },
  );
};
export default register;
