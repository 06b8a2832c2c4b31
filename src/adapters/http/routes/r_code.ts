import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Deps } from '../../../app/ports.js';
import { clickRecorder, type RecordedClick } from '../../../app/referrals_clicks.js';
import { PerksError } from '../../../core/errors.js';
import type { Client } from '../client.js';
import type { RegisterRoute } from './index.js';

/** The cookie that remembers the click on Perks' own origin, for a signup flow served from it. */
export const CLICK_COOKIE = 'perks_click';

/** The answer to a recorded click: the same from the framework's route and from the fast lane. */
function redirectHeaders(click: RecordedClick, secure: boolean): OutgoingHttpHeaders {
  return {
    location: click.location,
    'set-cookie': `${CLICK_COOKIE}=${click.click_id}; Max-Age=${click.window_days * 86_400}; Path=/; SameSite=Lax; HttpOnly${secure ? '; Secure' : ''}`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  };
}

/**
 * A path segment the fast lane answers: letters, digits and dashes, as codes are written. Anything
 * else (percent-encoding, a trailing slash, a segment too long) takes the framework's route, which
 * decodes and validates it and answers errors in the usual envelope.
 */
const PLAIN_CODE = /^[A-Za-z0-9-]{1,64}$/;

/** Answers a request before the framework sees it, or returns false to let the framework answer. */
export type FastLane = (req: IncomingMessage, res: ServerResponse, requestId: () => string) => boolean;

/**
 * `GET /r/{code}` is the one public path every visitor of every shared link hits, and the
 * framework's per-request work (routing, hooks, a request object, a reply object) costs more than
 * the answer itself. So a link whose code is in the recorder's cache is answered straight from the
 * HTTP server's request event: the click is recorded (hashed, batched, flushed on close) exactly as
 * the route below records it, and the answer carries the same headers. A code not in the cache, or
 * any request that is not a plain `GET /r/{code}`, goes on to the route, which looks the code up and
 * fills the cache.
 */
export function linkFastLane(deps: Deps, clientOf: (req: IncomingMessage) => Client): FastLane {
  const recorder = clickRecorder(deps);
  return (req, res, requestId) => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith('/r/')) return false;
    const query = url.indexOf('?', 3);
    const code = query < 0 ? url.slice(3) : url.slice(3, query);
    if (!PLAIN_CODE.test(code)) return false;
    const client = clientOf(req);
    const click = recorder.recordCached(code, client.ip, req.headers['user-agent']);
    if (!click) return false;
    const headers = redirectHeaders(click, client.https);
    headers['request-id'] = requestId();
    headers['content-length'] = 0;
    res.writeHead(302, headers);
    res.end();
    return true;
  };
}

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
      const { location, ...headers } = redirectHeaders(click, req.protocol === 'https');
      reply.headers(headers);
      return reply.redirect(String(location), 302);
    },
  );
};
export default register;
