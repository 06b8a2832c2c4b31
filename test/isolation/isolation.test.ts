/**
 * Tenant isolation, route by route: a key of workspace A can neither read nor change anything of
 * workspace B, on every `/v1` route the server registers.
 *
 * How to add a case (every new `/v1` endpoint must bring at least one, or this suite fails naming it):
 *
 *   Put it in a file `test/isolation/<area>.cases.ts` (every `*.cases.ts` file in this folder is
 *   loaded) that exports `cases: IsolationCase[]` (type in test/helpers/isolation.ts):
 *
 *     export const cases: IsolationCase[] = [{
 *       method: 'GET',
 *       url: '/v1/promotion_codes/:id',   // the template exactly as registered
 *       name: "A cannot retrieve B's promotion code",
 *       async run({ asA, asB, unique, unchangedForB, expectNotFound }) {
 *         const code = await asB('POST', '/v1/promotion_codes', { body: { code: unique('SPRING') } });
 *         await unchangedForB(async () => {
 *           expectNotFound(await asA('GET', `/v1/promotion_codes/${code.body.id}`), 'by id');
 *         }, [`/v1/promotion_codes/${code.body.id}`]);
 *       },
 *     }];
 *
 *   `run` gets two fresh workspaces per case: it creates B's resources with B's key (`asB`), then
 *   attacks with A's key (`asA`) and asserts reads answer 404 (or a list without B's items:
 *   `expectNoneOfB`) and writes leave B unchanged (`unchangedForB` compares every row holding B's
 *   workspace_id, and B's own GET answers, before and after). The suite also checks, for free, that
 *   the case really sent A's key to the route it names, and that no answer to A carries one of B's
 *   generated ids that A did not send itself.
 *
 *   Fastify answers HEAD on a GET route with the GET handler, so a GET case covers its HEAD twin.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { type IsolationCase, makeContext } from '../helpers/isolation.js';
import { storeCases } from '../helpers/stores.js';

const dir = new URL('./', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.cases.ts'))
  .sort();
const cases: (IsolationCase & { file: string })[] = [];
for (const file of files) {
  const mod = (await import(new URL(file, dir).href)) as {
    cases?: IsolationCase[];
  };
  assert.ok(Array.isArray(mod.cases), `${file} must export \`cases: IsolationCase[]\``);
  for (const c of mod.cases) cases.push({ ...c, file });
}

for (const store of storeCases()) {
  describe(`tenant isolation (${store.name})`, () => {
    let h: Harness;
    /** Which (authorization, method, route template) pairs were answered, to prove each case hit its route. */
    const hits = new Set<string>();
    let serial = 0;
    before(async () => {
      h = await startHarness(store);
      h.app.addHook('onResponse', async (req) => {
        hits.add(`${req.headers.authorization} ${req.method} ${req.routeOptions.url}`);
      });
      await h.app.ready();
    });
    after(() => h.close());

    it('has a case for every registered /v1 route', () => {
      const v1 = h.routes.filter((r) => r.url.startsWith('/v1/') || r.url === '/v1');
      assert.ok(v1.length >= 6, `expected the foundation routes, found ${v1.length}`);
      // Fastify answers HEAD on a GET route with the GET handler, so the GET case covers its HEAD twin.
      const covered = (method: string, url: string): boolean =>
        cases.some((c) => c.method === method && c.url === url) ||
        (method === 'HEAD' && v1.some((r) => r.method === 'GET' && r.url === url) && covered('GET', url));
      const missing = v1.filter((r) => !covered(r.method, r.url));
      assert.deepEqual(
        missing.map((r) => `${r.method} ${r.url}`),
        [],
        'these routes have no tenant-isolation case; add one in test/isolation/<area>.cases.ts',
      );
      const stale = cases.filter((c) => !v1.some((r) => r.method === c.method && r.url === c.url));
      assert.deepEqual(
        stale.map((c) => `${c.file}: ${c.method} ${c.url}`),
        [],
        'these cases name a route the server does not register',
      );
    });

    for (const c of cases) {
      it(`${c.method} ${c.url}: ${c.name}`, async () => {
        const a = await h.newWorkspace('A');
        const b = await h.newWorkspace('B');
        const unique = (prefix: string) => `${prefix}_${store.name}_${++serial}`;
        await c.run(makeContext(store.name, h, a, b, unique));
        assert.ok(
          hits.has(`Bearer ${a.key} ${c.method} ${c.url}`),
          `the case never sent A's key to ${c.method} ${c.url}`,
        );
      });
    }
  });
}
