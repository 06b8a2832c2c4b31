/**
 * Fuzzes every route the server registers (enumerated from Fastify's onRoute hook, so a new route is
 * fuzzed without touching this file) with random bodies, path parameters, query strings and headers,
 * with valid, missing, malformed, unknown, revoked and foreign keys. Whatever comes in, no answer may
 * be a 5xx, every answer carries a request id, and every error is the envelope
 * `{error: {type, code, message, param, request_id}}` with a code from ERROR_CODES whose status and
 * type are the ones HTTP_ERRORS gives it.
 *
 * Runs per authenticated /v1 route: 300, lowered (to no less than 100) when there are so many routes
 * that 300 each would pass 20,000 requests per store, so the file stays near two minutes as the API
 * grows. PERKS_FUZZ_RUNS sets a fixed number; `npm run test:long` uses 2,000. HEAD twins, public and
 * docs routes get a sixth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { HTTP_ERRORS } from '../src/adapters/http/errors.js';
import { createKey, revokeKey } from '../src/app/workspaces.js';
import { ERROR_CODES, type ErrorCode } from '../src/core/errors.js';
import {
  anyJson,
  assertProperty,
  encodeSegment,
  fromSchema,
  headerValue,
  nastyString,
  pathParam,
  queryString,
  rawBody,
} from './helpers/fuzz.js';
import { type Harness, type RegisteredRoute, startHarness } from './helpers/harness.js';
import { storeCases } from './helpers/stores.js';

const FIXED_RUNS = process.env.PERKS_FUZZ_RUNS ?? (process.env.PERKS_PROPERTY_RUNS ? '2000' : undefined);
const DEFAULT_RUNS = 300;
const REQUESTS_PER_STORE = 20_000;

/** Runs per authenticated /v1 route, from the number of such routes (see the comment at the top). */
function runsPerRoute(routes: RegisteredRoute[]): number {
  if (FIXED_RUNS !== undefined) return Number(FIXED_RUNS);
  const count = routes.filter((r) => r.url.startsWith('/v1/') && r.method !== 'HEAD' && !r.public).length;
  return Math.max(100, Math.min(DEFAULT_RUNS, Math.floor(REQUESTS_PER_STORE / Math.max(count, 1))));
}

const FOUNDATION = new Set([
  'POST /v1/customers',
  'GET /v1/customers',
  'GET /v1/customers/:id',
  'POST /v1/events',
  'GET /v1/events',
]);

interface Attempt {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | undefined;
}

type OpenApi = {
  paths: Record<string, Record<string, any>>;
  components?: { schemas?: Record<string, any> };
};

function describeAttempt(a: Attempt): string {
  const body = a.payload === undefined ? '' : `\n${a.payload.slice(0, 500)}`;
  return `${a.method} ${a.url.slice(0, 300)} ${JSON.stringify(a.headers).slice(0, 300)}${body}`;
}

/** The invariants every answer must hold, whatever was sent. */
function checkAnswer(attempt: Attempt, res: LightMyRequestResponse) {
  const where = describeAttempt(attempt);
  assert.ok(res.statusCode < 500, `${res.statusCode} for ${where}\n${res.body.slice(0, 500)}`);
  const requestId = res.headers['request-id'];
  assert.match(String(requestId), /^req_[0-9a-z]{26}$/, `no request-id header for ${where}`);
  if (res.statusCode < 400 || attempt.method === 'HEAD') return;
  let body: any;
  try {
    body = res.json();
  } catch {
    assert.fail(`error answer is not JSON for ${where}: ${res.body.slice(0, 300)}`);
  }
  const error = body?.error;
  assert.ok(error && typeof error === 'object', `no error envelope for ${where}: ${res.body.slice(0, 300)}`);
  assert.ok(ERROR_CODES.includes(error.code), `unknown code ${error.code} for ${where}`);
  const mapped = HTTP_ERRORS[error.code as ErrorCode];
  assert.equal(res.statusCode, mapped.status, `status of ${error.code} for ${where}`);
  assert.equal(error.type, mapped.type, `type of ${error.code} for ${where}`);
  assert.ok(typeof error.message === 'string' && error.message.length > 0, `message for ${where}`);
  assert.ok(error.param === null || typeof error.param === 'string', `param for ${where}`);
  // A replayed answer is the stored one: its envelope names the first request, given in Original-Request.
  const answeredFor =
    res.headers['idempotent-replayed'] === 'true' ? res.headers['original-request'] : requestId;
  assert.equal(error.request_id, answeredFor, `request_id for ${where}`);
}

for (const store of storeCases()) {
  describe(`fuzz every route (${store.name})`, () => {
    let h: Harness;
    let doc: OpenApi;
    let realIds: string[];
    let keys: { valid: string; other: string; revoked: string };
    let routeRuns = DEFAULT_RUNS;

    before(async () => {
      h = await startHarness(store);
      await h.app.ready();
      routeRuns = runsPerRoute(h.routes);
      const other = await h.newWorkspace('other');
      const spare = await createKey(h.deps, h.workspaceId, 'to revoke');
      await revokeKey(h.deps, spare.key.id);
      keys = { valid: h.key, other: other.key, revoked: spare.secret };
      // Real data, so that some random requests reach existing rows.
      const customer = await h.request('POST', '/v1/customers', {
        body: { external_id: 'fuzz_team', email: 'ops@fuzz.example' },
      });
      const event = await h.request('POST', '/v1/events', {
        body: {
          id: 'fuzz_evt',
          type: 'payment.succeeded',
          occurred_at: '2026-01-01T00:00:00Z',
          data: {
            customer: 'fuzz_team',
            payment: { id: 'fuzz_pay', amount: 100, currency: 'usd' },
          },
        },
      });
      assert.equal(customer.status, 201);
      assert.equal(event.status, 200);
      realIds = [customer.body.id, 'fuzz_team', event.body.id, 'fuzz_evt', 'fuzz_pay', h.workspaceId];
      doc = (await h.request('GET', '/v1/openapi.json')).body;
    });
    after(() => h.close());

    const auth = () =>
      fc.oneof(
        { weight: 8, arbitrary: fc.constant(`Bearer ${keys.valid}`) },
        { weight: 1, arbitrary: fc.constant(`Bearer ${keys.other}`) },
        { weight: 1, arbitrary: fc.constant(`Bearer ${keys.revoked}`) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.stringMatching(/^[0-9A-Za-z]{43}$/).map((s) => `Bearer sk_${s}`),
        },
        {
          weight: 2,
          arbitrary: fc.oneof(
            headerValue,
            fc.constantFrom(
              'Bearer',
              'Bearer ',
              `bearer ${keys.valid}`,
              `Bearer  ${keys.valid}`,
              `Bearer ${keys.valid} extra`,
              `Bearer ${keys.valid.slice(0, -1)}`,
              `Basic ${Buffer.from(`${keys.valid}:`).toString('base64')}`,
              keys.valid,
            ),
          ),
        },
      );

    const contentType = fc.oneof(
      { weight: 12, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          undefined,
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-8',
          'application/json; charset=latin1',
          'multipart/form-data; boundary=x',
          'application/jsonx',
        ),
      },
    );

    /** A random request shaped for one route: its method, its path with random params, and the rest. */
    function requestFor(route: RegisteredRoute): fc.Arbitrary<Attempt> {
      const openApiPath = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const operation = doc.paths[openApiPath]?.[route.method.toLowerCase()] ?? {};
      const queryParams = ((operation.parameters ?? []) as any[])
        .filter((p) => p.in === 'query')
        .map((p) => ({ name: p.name as string, schema: p.schema ?? {} }));
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      const segments = route.url.split('/');
      const pathArb = fc
        .tuple(
          ...segments.map((segment) => {
            if (segment.startsWith(':')) return pathParam(realIds);
            if (segment === '*')
              return fc.oneof(
                pathParam(['swagger-ui.css', 'index.html']),
                fc.array(nastyString.map(encodeSegment), { maxLength: 3 }).map((xs) => xs.join('/')),
              );
            return fc.constant(segment);
          }),
        )
        .map((parts) => parts.join('/'));
      const body: fc.Arbitrary<string | undefined> =
        route.method === 'GET' || route.method === 'HEAD'
          ? fc.oneof(
              { weight: 9, arbitrary: fc.constant(undefined) },
              { weight: 1, arbitrary: rawBody(anyJson) },
            )
          : rawBody(bodySchema ? fromSchema(bodySchema, doc) : anyJson);
      return fc
        .record({
          path: pathArb,
          query: queryString(queryParams, doc),
          authorization: auth(),
          contentType,
          body,
          idempotencyKey: fc.option(headerValue, { freq: 4, nil: undefined }),
        })
        .map((r) => {
          const headers: Record<string, string> = {};
          if (r.authorization !== undefined) headers.authorization = r.authorization;
          if (r.body !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
          if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
          return {
            method: route.method,
            url: r.query ? `${r.path}?${r.query}` : r.path,
            headers,
            payload: r.body,
          };
        });
    }

    async function send(attempt: Attempt) {
      const res = await h.app.inject({
        method: attempt.method as 'GET',
        url: attempt.url,
        headers: attempt.headers,
        ...(attempt.payload === undefined ? {} : { payload: attempt.payload }),
      });
      checkAnswer(attempt, res);
      return res;
    }

    it('enumerates the routes it fuzzes', () => {
      const v1 = h.routes.filter((r) => r.url.startsWith('/v1/'));
      assert.ok(v1.length >= 6, `expected the foundation routes, found ${h.routes.map((r) => r.url)}`);
      for (const route of v1.filter((r) => r.method !== 'HEAD')) {
        const openApiPath = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        if (route.public) continue;
        assert.ok(
          doc.paths[openApiPath]?.[route.method.toLowerCase()],
          `${route.method} ${route.url} is missing from the OpenAPI document, so it is fuzzed blind`,
        );
      }
    });

    it('answers every random request to every route without a 5xx, in the error envelope', async (t) => {
      for (const route of h.routes) {
        const seen = new Map<number, number>();
        const started = performance.now();
        // A HEAD twin runs its GET handler, and the docs and health routes take no input: fewer runs.
        const full = route.url.startsWith('/v1/') && route.method !== 'HEAD' && !route.public;
        const runs = full ? routeRuns : Math.ceil(routeRuns / 6);
        await assertProperty(
          fc.asyncProperty(requestFor(route), async (attempt) => {
            const res = await send(attempt);
            seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
          }),
          { numRuns: runs },
        );
        const counts = Object.fromEntries([...seen].sort(([a], [b]) => a - b));
        const took_ms = Math.round(performance.now() - started);
        t.diagnostic(
          `${route.method} ${route.url}: ${runs} runs in ${took_ms} ms, statuses ${JSON.stringify(counts)}`,
        );
        if (!route.url.startsWith('/v1/') || route.public) continue;
        const count = (accept: (status: number) => boolean) =>
          [...seen].filter(([status]) => accept(status)).reduce((n, [, c]) => n + c, 0);
        assert.ok(count((s) => s >= 400) > 0, `${route.method} ${route.url}: nothing was rejected`);
        // On the foundation routes the generator must also get past validation, or it proves little.
        if (FOUNDATION.has(`${route.method} ${route.url}`)) {
          assert.ok(count((s) => s < 300) > 0, `${route.method} ${route.url}: no random request succeeded`);
        }
      }
    });

    it('answers random methods and paths with a typed error, never a 5xx', async () => {
      const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
      const path = fc.oneof(
        fc
          .array(nastyString.map(encodeSegment), { minLength: 1, maxLength: 4 })
          .map((xs) => `/${xs.join('/')}`),
        fc
          .array(nastyString.map(encodeSegment), { minLength: 1, maxLength: 3 })
          .map((xs) => `/v1/${xs.join('/')}`),
        fc.constantFrom(
          '/v1',
          '/v1/',
          '//v1//customers',
          '/v1/customers/a/b',
          '/%',
          '/v1/%zz',
          '/v1/customers/%',
        ),
      );
      await assertProperty(
        fc.asyncProperty(
          method,
          path,
          auth(),
          fc.option(rawBody(anyJson)),
          async (m, p, authorization, body) => {
            const headers: Record<string, string> = {};
            if (authorization !== undefined) headers.authorization = authorization;
            if (body !== null) headers['content-type'] = 'application/json';
            await send({
              method: m,
              url: p,
              headers,
              payload: body ?? undefined,
            });
          },
        ),
        { numRuns: routeRuns },
      );
    });
  });
}
