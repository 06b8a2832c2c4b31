import type { FastifyInstance } from 'fastify';

/**
 * The referral widget runs in the product's pages, on the product's origin, and calls Perks across
 * origins. Only its endpoints (/v1/widget/*) answer cross-origin requests, from any origin and
 * without credentials: the customer token travels in the Authorization header, never in a cookie,
 * so no origin gets more than the token it was handed. Every other route sends no CORS headers, so
 * a browser never lets another origin read an answer made with a secret key.
 *
 * Two hooks rather than @fastify/cors: that plugin adds a catch-all `OPTIONS *` route, which would
 * answer OPTIONS on every path ahead of the not-found handler and outside the error envelope.
 */
const WIDGET_PREFIX = '/v1/widget/';

const PREFLIGHT = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'authorization, content-type, idempotency-key',
  'access-control-max-age': '600',
};

export function registerWidgetCors(app: FastifyInstance): void {
  // No route takes OPTIONS, so a preflight reaches the hooks as a not-found request and is answered
  // here; on any other path it stays a 404.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'OPTIONS' || !req.url.startsWith(WIDGET_PREFIX)) return;
    return reply.code(204).headers(PREFLIGHT).send();
  });
  // onSend also runs for errors, so a refused token is readable too: the widget can tell an expired
  // token from a network failure.
  app.addHook('onSend', async (req, reply) => {
    if (!req.routeOptions.url?.startsWith(WIDGET_PREFIX)) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'request-id');
  });
}
