import { z } from 'zod';
import { clickRecorder } from '../../../app/referrals_clicks.js';
import { PerksError } from '../../../core/errors.js';
import type { RegisterRoute } from './index.js';

/** The cookie that remembers the click on Perks' own origin, for a signup flow served from it. */
export const CLICK_COOKIE = 'perks_click';

const register: RegisterRoute = (app, deps) => {
  const recorder = clickRecorder(deps, (err) => app.log.error({ err }, 'writing referral clicks failed'));
  // Clicks are written in batches; on shutdown the last batch is written before the store closes.
  app.addHook('onClose', async () => recorder.flush());
  app.get(
    '/r/:code',
    {
      config: { public: true },
      schema: {
        summary: 'A referral link: records the click and redirects to the landing page with the code',
        tags: ['referrals'],
        // Public: shared with anyone; it needs no API key.
        security: [],
        params: z.strictObject({ code: z.string().max(64, 'must be at most 64 characters') }),
      },
    },
    async (req, reply) => {
      const click = await recorder.record(req.params.code, req.ip, req.headers['user-agent']);
      if (!click) throw new PerksError('resource_not_found', 'this referral link is not valid', 'code');
      const target = new URL(click.landing_url);
      target.searchParams.set('ref', click.code);
      target.searchParams.set(CLICK_COOKIE, click.click_id);
      const secure = req.protocol === 'https' ? '; Secure' : '';
      reply.header(
        'set-cookie',
        `${CLICK_COOKIE}=${click.click_id}; Max-Age=${click.window_days * 86_400}; Path=/; SameSite=Lax; HttpOnly${secure}`,
      );
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      return reply.redirect(target.toString(), 302);
    },
  );
};
export default register;
