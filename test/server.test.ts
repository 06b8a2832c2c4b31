/**
 * The server around the endpoints: health, readiness, metrics, the OpenAPI document and docs, request
 * ids, unknown routes, and graceful shutdown of the real CLI server under an in-flight request.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openPglite } from '../src/adapters/db/db.js';
import { buildServer } from '../src/adapters/http/server.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import type { Db } from '../src/app/ports.js';
import { migrationProblem } from '../src/main.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { CLI, freshDataDir, runTs } from './helpers/processes.js';
import { storeCases } from './helpers/stores.js';

for (const store of storeCases()) {
  describe(`server (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store, {
        server: { ready: () => migrationProblem(h.db) },
      });
      await h.app.ready();
    });
    after(() => h.close());

    it('answers /healthz without a key', async () => {
      const res = await h.request('GET', '/healthz', { key: null });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
    });

    it('reports ready, and not ready while a migration is not applied', async () => {
      const ready = await h.request('GET', '/readyz', { key: null });
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
      const [last] = await h.db.query<{ version: string; applied_at: Date }>(
        'select version, applied_at from schema_migrations order by version desc limit 1',
      );
      await h.db.query('delete from schema_migrations where version = $1', [last!.version]);
      try {
        const pending = await h.request('GET', '/readyz', { key: null });
        assert.equal(pending.status, 503);
        assert.equal(pending.body.status, 'not_ready');
        assert.equal(pending.body.reason, `migrations not applied: ${last!.version}`);
      } finally {
        await h.db.query('insert into schema_migrations (version, applied_at) values ($1, $2)', [
          last!.version,
          last!.applied_at,
        ]);
      }
      assert.equal((await h.request('GET', '/readyz', { key: null })).status, 200);
    });

    it('counts requests and latency by route template and status in /metrics', async () => {
      const ws = await h.newWorkspace('metrics');
      await h.request('POST', '/v1/customers', {
        key: ws.key,
        body: { external_id: 'm1' },
      });
      for (const id of ['m1', 'unknown_1', 'unknown_2']) {
        await h.request('GET', `/v1/customers/${id}`, { key: ws.key });
      }
      await h.request('GET', '/no/such/route/abc123', { key: null });
      const res = await h.request('GET', '/metrics', { key: null });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      const text = res.body as string;
      const count = (labels: string) => {
        const m = text.match(new RegExp(`^perks_http_requests_total\\{${labels}\\} (\\d+)$`, 'm'));
        return m ? Number(m[1]) : 0;
      };
      assert.ok(count('method="GET",route="/v1/customers/:id",status="200"') >= 1, text);
      assert.ok(count('method="GET",route="/v1/customers/:id",status="404"') >= 2, text);
      assert.ok(count('method="POST",route="/v1/customers",status="201"') >= 1, text);
      assert.ok(count('method="GET",route="unmatched",status="404"') >= 1, text);
      assert.match(
        text,
        /^perks_http_request_duration_seconds_bucket\{le="[\d.]+",method="GET",route="\/v1\/customers\/:id",status="404"\} \d+$/m,
      );
      assert.match(
        text,
        /^perks_http_request_duration_seconds_count\{method="GET",route="\/v1\/customers\/:id",status="404"\} \d+$/m,
      );
      // Labels are templates, never raw URLs: ids and unknown paths do not multiply the series.
      assert.doesNotMatch(text, /unknown_1|abc123/);
    });

    it('serves an OpenAPI 3.1 document with every registered /v1 route, and the docs page', async () => {
      const res = await h.request('GET', '/v1/openapi.json', { key: null });
      assert.equal(res.status, 200);
      assert.equal(res.body.openapi, '3.1.0');
      const documented = new Set(
        Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
          Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
        ),
      );
      const v1 = h.routes.filter((r) => r.url.startsWith('/v1/') && r.method !== 'HEAD' && !r.public);
      assert.ok(v1.length >= 5);
      const missing = v1
        .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
        .filter((r) => !documented.has(r));
      assert.deepEqual(missing, [], 'registered routes missing from the OpenAPI document');
      assert.ok(res.body.components.securitySchemes.secretKey, 'the bearer key scheme is documented');
      // Error codes come from one closed list, and the document says which.
      const error = res.body.components.schemas.Error.properties.error.properties;
      assert.ok(error.code.enum.includes('code_exhausted') && error.code.enum.includes('rate_limited'));
      assert.deepEqual(error.type.enum.slice().sort(), [
        'api_error',
        'authentication_error',
        'idempotency_error',
        'invalid_request_error',
        'rate_limit_error',
      ]);
      const validation = res.body.components.schemas.PromotionCodeValidation.properties;
      assert.ok(
        validation.error.anyOf.some((b: { properties?: { code?: { enum?: string[] } } }) =>
          b.properties?.code?.enum?.includes('code_expired'),
        ),
      );
      assert.equal(validation.preview.anyOf[0].properties.amount_off.type, 'integer');
      // A refusal of validate is a 200 with valid: false, never a 422.
      const validate = res.body.paths['/v1/promotion_codes/validate'].post.responses;
      assert.equal(validate['422'], undefined);
      assert.ok(res.body.paths['/v1/promotion_codes/redeem'].post.responses['422']);
      const docs = await h.request('GET', '/docs', { key: null });
      assert.equal(docs.status, 200);
      assert.match(String(docs.headers['content-type']), /^text\/html/);
      assert.match(docs.body as string, /swagger-ui/i);
    });

    it('refuses a field it does not know on every POST route, rather than ignoring it', async () => {
      // The widget's routes take a customer token, not a key (test/browser covers them); /v1/events
      // takes one event or a batch, and names the unknown field of either (test/events.test.ts).
      const posts = h.routes.filter(
        (r) =>
          r.method === 'POST' &&
          r.url.startsWith('/v1/') &&
          !r.url.startsWith('/v1/widget/') &&
          r.url !== '/v1/events' &&
          !r.public,
      );
      assert.ok(posts.length >= 20);
      const ignored: string[] = [];
      for (const route of posts) {
        const url = route.url.replace(/:([A-Za-z0-9_]+)/g, 'zz_missing');
        const res = await h.request('POST', url, { body: { zz_not_a_field: 1 } });
        const named = [
          res.body?.error?.param,
          ...(res.body?.error?.errors ?? []).map((e: { param: string }) => e.param),
        ];
        if (res.status !== 400 || !named.includes('zz_not_a_field'))
          ignored.push(`${route.url} -> ${res.status}`);
      }
      assert.deepEqual(ignored, [], 'routes that did not refuse an unknown field');
    });

    it('puts a request-id header on every answer, errors and 404s included, and answers unknown routes with a typed 404', async () => {
      const seen = new Set<string>();
      const answers = [
        await h.request('GET', '/healthz', { key: null }),
        await h.request('GET', '/v1/customers'),
        await h.request('GET', '/v1/customers', { key: null }),
        await h.request('GET', '/v1/customers', { key: 'not-a-key' }),
        await h.request('POST', '/v1/customers', { rawBody: '{' }),
        await h.request('POST', '/v1/customers', { body: { bogus: 1 } }),
        await h.request('GET', '/v1/customers/nobody'),
        await h.request('GET', '/v1/customers/%zz'),
        await h.request('GET', `/v1/customers/${'x'.repeat(1000)}`),
        await h.request('DELETE', '/v1/customers'),
        await h.request('GET', '/v1/nothing-here'),
        await h.request('GET', '/nothing/here', { key: null }),
      ];
      for (const res of answers) {
        const id = String(res.headers['request-id']);
        assert.match(id, /^req_[0-9a-z]{26}$/, `${res.status} ${JSON.stringify(res.body)}`);
        assert.ok(!seen.has(id), 'request ids are unique');
        seen.add(id);
        if (res.status >= 400) assert.equal(res.body.error.request_id, id, 'the envelope names the same id');
      }
      for (const res of answers.slice(-3)) {
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, 'route_not_found');
        assert.equal(res.body.error.type, 'invalid_request_error');
        assert.match(res.body.error.message, /^no route (GET|DELETE) \/\S+; see \/docs$/);
      }
      const badUrl = answers[7]!;
      assert.equal(badUrl.status, 400);
      assert.equal(badUrl.body.error.code, 'parameter_invalid');
      const longParam = answers[8]!;
      assert.equal(longParam.status, 400);
      assert.equal(longParam.body.error.code, 'parameter_invalid');
    });

    it("states the page size range in every list's `limit` error, whatever the bad value", async () => {
      // Every route the OpenAPI document gives a `limit` query parameter: the lists, however many.
      const doc = await h.request('GET', '/v1/openapi.json', { key: null });
      const lists = Object.entries(doc.body.paths as Record<string, Record<string, any>>)
        .filter(([, ops]) => ops.get?.parameters?.some((p: any) => p.in === 'query' && p.name === 'limit'))
        .map(([p]) => p.replace(/\{[A-Za-z0-9_]+\}/g, 'zz_any'));
      assert.ok(lists.length >= 15, `lists found: ${lists.length}`);
      const unclear: string[] = [];
      for (const url of lists) {
        for (const bad of ['abc', '1&limit=2', '1.5', '0', '101', '-1', '', '1e400']) {
          const res = await h.request('GET', `${url}?limit=${bad}`);
          const error = res.body?.error;
          if (
            res.status !== 400 ||
            error?.code !== 'parameter_invalid' ||
            error?.param !== 'limit' ||
            !/^'limit': must be (an integer )?between 1 and 100$/.test(error?.message) ||
            error?.errors !== undefined
          ) {
            unclear.push(`${url}?limit=${bad} -> ${res.status} ${JSON.stringify(error)}`);
          }
        }
      }
      assert.deepEqual(unclear, [], 'limit errors that do not state the range once');
    });

    it('accepts a path parameter as long as the longest identifier, even percent-encoded', async () => {
      const ws = await h.newWorkspace('long-ids');
      const externalId = `${'%/'.repeat(100)}${'z'.repeat(55)}`;
      assert.equal(externalId.length, 255);
      const created = await h.request('POST', '/v1/customers', {
        key: ws.key,
        body: { external_id: externalId },
      });
      assert.equal(created.status, 201);
      const found = await h.request('GET', `/v1/customers/${encodeURIComponent(externalId)}`, {
        key: ws.key,
      });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.equal(found.body.id, created.body.id);
    });

    it('refuses a body nested deeper than the limit with a typed 400', async () => {
      const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
      const res = await h.request('POST', '/v1/customers', {
        rawBody: deep,
        headers: { 'idempotency-key': 'deep' },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'parameter_invalid');
      assert.equal(res.body.error.param, 'body');
      assert.match(res.body.error.message, /more than 32 levels/);
    });
  });
}

describe('server readiness without a store', () => {
  it('answers /readyz with 503 when the store does not answer', async () => {
    const broken: Db = {
      kind: 'postgres',
      query: async () => {
        throw new Error('connection refused');
      },
      transaction: async () => {
        throw new Error('connection refused');
      },
      exec: async () => {},
      close: async () => {},
    };
    const app = await buildServer({
      db: broken,
      clock: systemClock,
      ids: systemIds(),
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), {
        status: 'not_ready',
        reason: 'the store does not answer: connection refused',
      });
      assert.equal(
        (await app.inject({ method: 'GET', url: '/healthz' })).statusCode,
        200,
        'alive, not ready',
      );
    } finally {
      await app.close();
    }
  });
});

describe('graceful shutdown of `perks serve`', () => {
  it('finishes an in-flight batch of 1,000 events on SIGTERM, exits 0, and keeps all of it', async () => {
    const tmp = await freshDataDir('shutdown');
    // The embedded store, with request logs so the test sees the batch arrive.
    const server = runTs(CLI, ['serve'], {
      PERKS_DATA_DIR: tmp.dir,
      DATABASE_URL: '',
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const [, url] = await server.waitForLine(/Perks is listening on (http:\/\/\S+)/, 60_000);
      const [, key] = await server.waitForLine(/^\s+(sk_[0-9A-Za-z]{43})$/, 10_000);
      const events = Array.from({ length: 1000 }, (_, i) => ({
        id: `evt_${i}`,
        type: 'card.attached',
        occurred_at: '2026-01-01T00:00:00Z',
        data: {
          customer: `team_${i % 50}`,
          payment_method: { fingerprint: `fp_${i}` },
        },
      }));
      let settled = false;
      const inFlight = fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ events }),
      }).finally(() => {
        settled = true;
      });
      await server.waitForLine(/^(?=.*"msg":"incoming request")(?=.*"url":"\/v1\/events")/, 30_000);
      server.process.kill('SIGTERM');
      await server.waitForLine(/shutting down: finishing in-flight requests/, 10_000);
      assert.equal(settled, false, 'the batch was still running when the signal arrived');
      const res = await inFlight;
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: { duplicate: boolean }[] };
      assert.equal(body.data.length, 1000);
      const { code, signal } = await server.exited(60_000);
      assert.equal(signal, null);
      assert.equal(code, 0, server.stderr());
      assert.ok(!existsSync(path.join(tmp.dir, 'perks.lock')), 'the data folder lock was released');
      const db = await openPglite({ dataDir: tmp.dir });
      try {
        const [row] = await db.query<{ events: number; cards: number }>(
          `select (select count(*)::int from events) as events, (select count(*)::int from payment_methods) as cards`,
        );
        assert.deepEqual(row, { events: 1000, cards: 1000 });
      } finally {
        await db.close();
      }
    } finally {
      server.kill();
      tmp.remove();
    }
  });
});
