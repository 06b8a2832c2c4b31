import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { prefixUpperBound } from '../../../app/customers_search.js';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';

describe('prefixUpperBound', () => {
  const table: [string, string, string | null][] = [
    ['plain ASCII: the last character moves up one', 'team_', 'team`'],
    ['a digit', 'cus_01', 'cus_02'],
    ['below the surrogates jumps over them', 'a\ud7ff', 'a\ue000'],
    ['astral characters are one code point', 'a😀', 'a😁'],
    ['the last code point rolls over to the one before', 'ab\u{10ffff}', 'ac'],
    ['only maximal code points: no bound', '\u{10ffff}\u{10ffff}', null],
  ];
  for (const [label, prefix, upper] of table) {
    it(label, () => assert.equal(prefixUpperBound(prefix), upper));
  }

  it('every string that starts with the prefix sorts below the bound, in code point order', () => {
    const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    for (const prefix of ['team', 'a\ud7ff', 'x\u{10ffff}']) {
      const upper = prefixUpperBound(prefix)!;
      for (const tail of ['', '\u0000', 'zzz', '\u{10ffff}\u{10ffff}', '😀']) {
        assert.ok(byCodePoint(prefix + tail, upper) < 0, `${JSON.stringify(prefix + tail)} < bound`);
      }
      assert.ok(byCodePoint(upper, prefix) > 0);
    }
  });
});

for (const store of storeCases()) {
  describe(`customer search (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    async function customers(key: string, rows: { external_id: string; email?: string }[]) {
      const ids: Record<string, string> = {};
      for (const body of rows) {
        const res = await h.request('POST', '/v1/customers', { key, body });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        ids[body.external_id] = res.body.id;
      }
      return ids;
    }
    const search = async (key: string, query: string) => {
      const res = await h.request('GET', `/v1/customers?${query}`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.data as { external_id: string }[]).map((c) => c.external_id);
    };

    it('happy: matches the start of an external id or e-mail (any case) or a whole Perks id, in the order of what matched', async () => {
      const ws = await h.newWorkspace();
      const ids = await customers(ws.key, [
        { external_id: 'team_alpha', email: 'Owner@Alpha.example' },
        { external_id: 'team_beta', email: 'ops@beta.example' },
        { external_id: 'TEAM_gamma' },
        { external_id: 'user_9', email: 'team_lead@delta.example' },
        { external_id: 'tea' },
      ]);
      assert.deepEqual(await search(ws.key, 'search=team_'), ['team_alpha', 'team_beta', 'user_9']);
      assert.deepEqual(await search(ws.key, 'search=owner%40'), ['team_alpha'], 'e-mail ignores case');
      assert.deepEqual(
        await search(ws.key, 'search=TEAM'),
        ['TEAM_gamma', 'user_9'],
        'external ids keep their case and sort in byte order: TEAM_gamma before team_lead@',
      );
      assert.deepEqual(await search(ws.key, `search=${ids.team_beta}`), ['team_beta']);
      assert.deepEqual(
        await search(ws.key, `search=${ids.team_beta!.slice(0, 8)}`),
        [],
        'a Perks id matches whole only',
      );
      assert.deepEqual(await search(ws.key, 'search=%20%20tea%20'), [
        'tea',
        'team_alpha',
        'team_beta',
        'user_9',
      ]);
      assert.deepEqual(await search(ws.key, 'search=nobody'), []);
      assert.deepEqual(
        await search(ws.key, 'search=team&email=ops%40beta.example'),
        ['team_beta'],
        'the e-mail filter narrows a search',
      );
    });

    it('happy: pages through external id and e-mail matches merged, each customer once', async () => {
      const ws = await h.newWorkspace();
      await customers(ws.key, [
        { external_id: 'acct_3' },
        { external_id: 'zed', email: 'acct_1@x.example' },
        { external_id: 'acct_5', email: 'acct_0@x.example' },
        { external_id: 'acct_2', email: 'acct_4@x.example' },
        { external_id: 'acct_6' },
        { external_id: 'other', email: 'other@x.example' },
      ]);
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await h.request(
          'GET',
          `/v1/customers?search=acct&limit=2${after ? `&starting_after=${after}` : ''}`,
          { key: ws.key },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        seen.push(...res.body.data.map((c: { external_id: string }) => c.external_id));
        if (!res.body.has_more) break;
        after = res.body.data.at(-1).id;
      }
      // Keys: acct_5's e-mail acct_0@ (smaller than its external id), zed's e-mail acct_1@, then
      // external ids acct_2 (its e-mail acct_4@ is larger), acct_3, acct_6.
      assert.deepEqual(seen, ['acct_5', 'zed', 'acct_2', 'acct_3', 'acct_6']);
    });

    it('error: a starting_after that this search did not find is a typed 400', async () => {
      const ws = await h.newWorkspace();
      const ids = await customers(ws.key, [{ external_id: 'alpha' }, { external_id: 'beta' }]);
      for (const cursor of [ids.beta, 'cus_nope']) {
        const res = await h.request('GET', `/v1/customers?search=alp&starting_after=${cursor}`, {
          key: ws.key,
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'parameter_invalid');
        assert.equal(res.body.error.param, 'starting_after');
      }
    });

    it('error: an empty, blank or too long search is a typed 400 naming the parameter', async () => {
      for (const query of ['search=', 'search=%20%20', `search=${'x'.repeat(256)}`, 'search=a%00b']) {
        const res = await h.request('GET', `/v1/customers?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.error.code, 'parameter_invalid', query);
        assert.match(res.body.error.param, /search/, query);
      }
    });
  });
}
