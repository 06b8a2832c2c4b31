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
import { authenticate } from '../../app/workspaces.js';
import { registerDashboard } from './web_assets.js';
import { isPerksError, PerksError } from '../../core/errors.js';
import { envelope, fromFastify, fromZod } from './errors.js';
import { claim, type IdempotencyClaim, requestHash } from './idempotency.js';
import { createMetrics } from './metrics.js';
import { routes } from './routes/index.js';
import { LIMITS } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
    idempotency: IdempotencyClaim | undefined;
    bodyHash: string | undefined;
  }
  interface FastifyContextConfig {
    /** Reachable without an API key (health, docs, the OpenAPI document). */
    public?: boolean;
  }
}

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  /** Reports readiness beyond "the store answers", e.g. that migrations are applied. */
  ready?: () => Promise<string | undefined>;
  /** Called for every route as it is registered (including HEAD twins); tests enumerate the API with it. */
  onRoute?: (route: RouteOptions) => void;
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
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: LIMITS.bodyBytes,
    genReqId: () => `req_${ulid()}`,
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
    return { error: fromZod(result.error, httpPart === 'querystring' ? 'query' : (httpPart ?? 'body')) };
  });
  app.setSerializerCompiler(serializerCompiler);

  app.decorateRequest('workspaceId', '');
  app.decorateRequest('idempotency', undefined);
  app.decorateRequest('bodyHash', undefined);

  const metrics = createMetrics();

  app.addHook('onRequest', async (req, reply) => {
    reply.header('request-id', req.id);
    const url = req.routeOptions.url;
    if (req.routeOptions.config?.public || !url?.startsWith('/v1/')) return;
    req.workspaceId = await authenticate(deps.db, req.headers.authorization);
  });
  app.addHook('preValidation', async (req) => {
    if (req.body !== undefined && deeperThan(req.body, MAX_BODY_DEPTH)) {
      throw new PerksError(
        'parameter_invalid',
        `the body is nested more than ${MAX_BODY_DEPTH} levels deep`,
        'body',
      );
    }
    if (req.method === 'POST' && req.headers['idempotency-key'] !== undefined)
      req.bodyHash = requestHash(req);
  });
  app.addHook('preHandler', async (req, reply) => {
    if (req.bodyHash === undefined || !req.workspaceId) return;
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
      components: { securitySchemes: { secretKey: { type: 'http', scheme: 'bearer' } } },
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

  const typed = app.withTypeProvider<ZodTypeProvider>();
  for (const register of routes) register(typed, deps);
  return app;
}
