import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { flushClicks } from '../../src/app/referrals_clicks.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { codeFor, events, fromTemplate } from './helpers.js';

/**
 * Referral links over a real socket: a link whose code is cached is answered before the framework
 * (the fast lane), and that answer must be the framework route's answer, click for click.
 */
const PROGRAM = 'free-days-or-commission';

for (const store of storeCases()) {
  describe(`referral links over HTTP (${store.name})`, () => {
    let h: Harness;
    let base: string;
    let code: string;
    /** Requests to /r/ that reached the framework (the fast lane answers the others). */
    let routed = 0;

    before(async () => {
      h = await startHarness(store);
      h.app.addHook('onRequest', async (req) => {
        if (req.url.startsWith('/r/')) routed++;
      });
      await fromTemplate(h, PROGRAM);
      await events(h).send(events(h).customerCreated('partner'));
      code = await codeFor(h, 'partner', PROGRAM);
      base = await h.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(() => h.close());

    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { redirect: 'manual', headers: { 'user-agent': 'test-agent', ...headers } });

    const clicks = () =>
      h.db.query<{ id: string; code: string; ip_hash: string | null; user_agent_hash: string | null }>(
        'select id, code, ip_hash, user_agent_hash from referral_clicks order by id',
      );

    const shape = (res: Response) => {
      const location = new URL(res.headers.get('location')!);
      const click = location.searchParams.get('perks_click')!;
      return {
        status: res.status,
        origin: `${location.origin}${location.pathname}`,
        ref: location.searchParams.get('ref'),
        params: [...location.searchParams.keys()],
        cookie: res.headers.get('set-cookie')!.replace(click, 'CLICK'),
        cache: res.headers.get('cache-control'),
        referrer: res.headers.get('referrer-policy'),
        length: res.headers.get('content-length'),
        request_id: /^req_[0-9a-z]{26}$/.test(res.headers.get('request-id') ?? ''),
      };
    };

    it('answers a cached link before the framework with the same redirect, cookie and click', async () => {
      routed = 0;
      const first = await get(`/r/${code}`);
      assert.equal(routed, 1, 'the first click on a cold link is looked up by the route');
      const second = await get(`/r/${code}`);
      const third = await get(`/r/${code.toLowerCase()}?utm_source=x`);
      assert.equal(routed, 1, 'later clicks are answered by the fast lane');
      assert.deepEqual(shape(second), shape(first));
      assert.deepEqual(shape(third), shape(first));
      assert.equal(shape(first).status, 302);
      assert.equal(shape(first).ref, code);
      assert.match(
        shape(first).cookie,
        /^perks_click=CLICK; Max-Age=5184000; Path=\/; SameSite=Lax; HttpOnly$/,
      );

      // Each answer recorded its own click, with the visitor only as keyed hashes.
      const ids = [first, second, third].map(
        (r) => new URL(r.headers.get('location')!).searchParams.get('perks_click')!.split('.')[0],
      );
      assert.equal(new Set(ids).size, 3);
      const summary = await h.request('GET', '/v1/customers/partner/referral_summary');
      assert.equal(summary.status, 200);
      const stored = await clicks();
      for (const id of ids) {
        const row = stored.find((c) => c.id === id);
        assert.ok(row, `click ${id} is stored`);
        assert.equal(row.code, code);
        assert.match(row.ip_hash!, /^[A-Za-z0-9_-]{32}$/);
        assert.notEqual(row.user_agent_hash, 'test-agent');
        assert.ok(!row.ip_hash!.includes('127.0.0.1'));
      }
      assert.equal(new Set(stored.map((c) => c.user_agent_hash)).size, 1);
    });

    it('a click id from the fast lane attributes a signup', async () => {
      await get(`/r/${code}`);
      const res = await get(`/r/${code}`);
      const clickId = new URL(res.headers.get('location')!).searchParams.get('perks_click')!;
      const ev = events(h);
      const signup = await ev.send(ev.customerCreated('visitor', { click_id: clickId }));
      assert.equal(signup.referral.status, 'pending', JSON.stringify(signup));
    });

    it('sends unknown, malformed and unusual paths to the route, which answers as before', async () => {
      routed = 0;
      const unknown = await get('/r/NOSUCHCODE1');
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'resource_not_found');
      const long = await get(`/r/${'A'.repeat(65)}`);
      assert.equal(long.status, 400);
      await long.body?.cancel();
      const encoded = await get(`/r/${code.slice(0, 2)}%2D${code.slice(2)}`);
      assert.equal(encoded.status, 302, 'a percent-encoded dash is decoded by the route');
      const slash = await get(`/r/${code}/`);
      assert.equal(slash.status, 302);
      const head = await fetch(`${base}/r/${code}`, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.status, 302);
      assert.equal(routed, 5);
    });

    it('looks a link up again once its cache entry is older than the time to live', async () => {
      await get(`/r/${code}`);
      routed = 0;
      h.clock.advance(10_000);
      assert.equal((await get(`/r/${code}`)).status, 302);
      assert.equal(routed, 1);
      assert.equal((await get(`/r/${code}`)).status, 302);
      assert.equal(routed, 1);
    });

    it('writes every click answered before the server closed', async () => {
      await flushClicks(h.deps);
      const before = (await clicks()).length;
      await get(`/r/${code}`);
      const answered = await Promise.all(Array.from({ length: 20 }, () => get(`/r/${code}`)));
      assert.ok(answered.every((r) => r.status === 302));
      await h.app.close();
      assert.equal((await clicks()).length, before + 21);
    });
  });
}
