import { createServer } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
  type RouteOptions,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { type $ZodType, safeParse } from 'zod/v4/core';
import type { Deps } from '../../app/ports.js';
import { ulidFactory } from '../system.js';
import { AUTH_CACHE_DEFAULT_MS, authenticate } from '../../app/workspaces.js';
import { verifyCustomerToken } from '../../app/customer_tokens.js';
import { registerDashboard, registerWidget } from './web_assets.js';
import { registerWidgetCors } from './cors.js';
import { isPerksError, PerksError } from '../../core/errors.js';
import { envelope, fromFastify, fromZod } from './errors.js';
import { claim, type IdempotencyClaim, idempotencyKey, requestHash } from './idempotency.js';
import { createMetrics } from './metrics.js';
import { routes } from './routes/index.js';
import { clientReader, type TrustProxy } from './client.js';
import { type FastLane, linkFastLane } from './routes/r_code.js';
import { LIMITS } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
    idempotency: IdempotencyClaim | undefined;
    bodyHash: string | undefined;
    /** The customer a customer token names, on routes with `auth: 'customer_token'`; else ''. */
    customerId: string;
  }
  interface FastifyContextConfig {
    /** Reachable without an API key (health, docs, the OpenAPI document). */
    public?: boolean;
    /** Authenticated with a customer token (the widget endpoints) instead of a secret key. */
    auth?: 'customer_token';
    /** The answer is a credential: it is not stored for Idempotency-Key replays. */
    credentialResponse?: boolean;
  }
}

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  /** Reports readiness beyond "the store answers", e.g. that migrations are applied. */
  ready?: () => Promise<string | undefined>;
  /** Called for every route as it is registered (including HEAD twins); tests enumerate the API with it. */
  onRoute?: (route: RouteOptions) => void;
  /** How long an API key lookup is trusted (PERKS_AUTH_CACHE_MS); 0 asks the store on every request. */
  authCacheMs?: number;
  /** Which proxies may say who the client is (PERKS_TRUST_PROXY); default none. */
  trustProxy?: TrustProxy;
}

/**
 * A path parameter may carry an identifier of up to LIMITS.idLength characters, each of which can
 * take three characters when percent-encoded; the router measures the encoded form.
 */
const MAX_PARAM_LENGTH = LIMITS.idLength * 3;

/**
 * JSON.parse accepts any nesting, but hashing and validating walk the value recursively; a body like
 * `[[[[...]]]]` thousands deep would exhaust the stack. No request of this API needs more than a
 * handful of levels.
 */
const MAX_BODY_DEPTH = 32;

/** Whether a parsed JSON value nests deeper than `max`, checked without recursion. */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

export async function buildServer(deps: Deps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const ulid = ulidFactory();
  const requestId = () => `req_${ulid()}`;
  // The framework's req.ip and req.protocol and the link fast lane read the client under one trust.
  const trustProxy = options.trustProxy ?? false;
  // Set once the routes are registered; until then every request goes to the framework.
  const lane: { answer?: FastLane } = {};
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: LIMITS.bodyBytes,
    genReqId: requestId,
    trustProxy,
    // The server Fastify would create, with Fastify's timeouts, plus a lane for referral links that
    // answers before the framework (see linkFastLane). Once the server stops listening, every request
    // goes to Fastify, which answers it as closing.
    serverFactory: (handler, options) => {
      const opts = options as Record<
        'keepAliveTimeout' | 'requestTimeout' | 'connectionTimeout' | 'maxRequestsPerSocket',
        number
      >;
      const server = createServer((req, res) => {
        if (lane.answer && server.listening && lane.answer(req, res, requestId)) return;
        handler(req, res);
      });
      server.keepAliveTimeout = opts.keepAliveTimeout;
      server.requestTimeout = opts.requestTimeout;
      server.setTimeout(opts.connectionTimeout);
      if (opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      return server;
    },
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // The router rejects some URLs before any hook runs; they still get the envelope and a request id.
    frameworkErrors: (err, req, reply) => {
      const typed =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new PerksError(
              'parameter_invalid',
              `a path parameter exceeds ${MAX_PARAM_LENGTH} characters (identifiers are at most ${LIMITS.idLength})`,
            )
          : new PerksError('parameter_invalid', 'the URL path is not valid: check its percent-encoding');
      const { status, body } = envelope(typed, req.id);
      const payload = JSON.stringify(body);
      reply.raw.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(payload),
        'request-id': req.id,
      });
      reply.raw.end(payload);
    },
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  // Validation errors become typed errors naming the field; the zod schemas also feed OpenAPI.
  app.setValidatorCompiler(({ schema, httpPart }) => (data) => {
    const result = safeParse(schema as $ZodType, data, { reportInput: true });
    if (result.success) return { value: result.data };
    // No body reaches here as null, an empty one with the JSON header as undefined.
    if (httpPart === 'body' && (data === undefined || data === null)) {
      return { error: new PerksError('body_malformed', 'the body is empty (or null); send a JSON object') };
    }
    return { error: fromZod(result.error, httpPart === 'querystring' ? 'query' : (httpPart ?? 'body')) };
  });
  app.setSerializerCompiler(serializerCompiler);
  // The API takes JSON bodies only: without this, Fastify's own text/plain parser would hand the
  // route a string, refused as a wrong type instead of the wrong media type it is.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body is no body, as without the header: a route whose body is optional (a void)
  // runs, and one that needs a body says it is empty.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(req, body as string, done);
  });

  app.decorateRequest('workspaceId', '');
  app.decorateRequest('idempotency', undefined);
  app.decorateRequest('bodyHash', undefined);
  app.decorateRequest('customerId', '');

  const metrics = createMetrics();
  const authCacheMs = options.authCacheMs ?? AUTH_CACHE_DEFAULT_MS;

  app.addHook('onRequest', async (req, reply) => {
    reply.header('request-id', req.id);
    const url = req.routeOptions.url;
    const config = req.routeOptions.config;
    if (config?.public || !url?.startsWith('/v1/')) return;
    if (config?.auth === 'customer_token') {
      const claims = await verifyCustomerToken(deps, req.headers.authorization);
      req.workspaceId = claims.workspace_id;
      req.customerId = claims.customer_id;
      return;
    }
    req.workspaceId = await authenticate(deps, req.headers.authorization, authCacheMs);
  });
  registerWidgetCors(app);
  app.addHook('preValidation', async (req) => {
    if (req.body !== undefined && deeperThan(req.body, MAX_BODY_DEPTH)) {
      throw new PerksError(
        'parameter_invalid',
        `the body is nested more than ${MAX_BODY_DEPTH} levels deep`,
        'body',
      );
    }
    if (req.method === 'POST' && req.headers['idempotency-key'] !== undefined) {
      // Keys are kept per workspace; on customer-token routes the customer is part of the request,
      // so one customer's key can never replay another customer's answer.
      req.bodyHash = req.customerId ? `${req.customerId}:${requestHash(req)}` : requestHash(req);
    }
  });
  app.addHook('preHandler', async (req, reply) => {
    if (req.bodyHash === undefined || !req.workspaceId) return;
    // A credential is never stored for replay, but a malformed key is refused like anywhere else.
    if (req.routeOptions.config?.credentialResponse) {
      idempotencyKey(req);
      return;
    }
    req.idempotency = await claim(deps, req, reply, req.workspaceId, req.bodyHash);
    if (reply.sent) return reply;
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let typed = fromFastify(err);
    if (!typed) {
      typed = new PerksError(
        'internal_error',
        'an internal error occurred; it is logged under this request id',
      );
    }
    if (typed.code === 'internal_error' && !isPerksError(err)) req.log.error({ err }, 'internal error');
    const { status, body } = envelope(typed, req.id);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = envelope(
      new PerksError('route_not_found', `no route ${req.method} ${req.url.split('?')[0]}; see /docs`),
      req.id,
    );
    return reply.code(status).send(body);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Perks API',
        version: '1',
        description:
          'Referral programs, promo codes and account credits. Authenticate with `Authorization: Bearer sk_...`. ' +
          'Every POST accepts an `Idempotency-Key` header.',
      },
      components: {
        securitySchemes: {
          secretKey: { type: 'http', scheme: 'bearer' },
          customerToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'A customer token (ct_...) from POST /v1/customer_tokens; the widget endpoints only',
          },
        },
      },
      security: [{ secretKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  app.get('/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.render();
  });
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.db.query('select 1');
      const problem = await options.ready?.();
      if (problem) return reply.code(503).send({ status: 'not_ready', reason: problem });
      return { status: 'ready' };
    } catch (err) {
      return reply
        .code(503)
        .send({ status: 'not_ready', reason: `the store does not answer: ${(err as Error).message}` });
    }
  });

  await registerDashboard(app);
  await registerWidget(app);

  const typed = app.withTypeProvider<ZodTypeProvider>();
  for (const register of routes) register(typed, deps);
  const links = linkFastLane(deps, clientReader(trustProxy));
  lane.answer = (req, res, id) => {
    const started = performance.now();
    if (!links(req, res, id)) return false;
    metrics.observe('GET', '/r/:code', 302, performance.now() - started);
    return true;
  };
  return app;
}
