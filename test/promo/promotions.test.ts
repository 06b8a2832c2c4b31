import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { createCode, createCustomer, createPromotion } from './helpers.js';

async function counts(h: Harness, workspaceId: string) {
  const [row] = await h.db.query<{ promotions: number; codes: number; batches: number }>(
    `select (select count(*) from promotions where workspace_id = $1)::int8 as promotions,
            (select count(*) from promotion_codes where workspace_id = $1)::int8 as codes,
            (select count(*) from code_batches where workspace_id = $1)::int8 as batches`,
    [workspaceId],
  );
  return row!;
}

for (const store of storeCases()) {
  describe(`promotions and codes (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('creates a promotion with its terms and reads it back', async () => {
      const created = await h.request('POST', '/v1/promotions', {
        body: {
          name: 'Spring sale',
          percent_off_bps: 1500,
          max_discount_amount: 5000,
          currency: 'usd',
          duration: 'repeating',
          duration_periods: 3,
          applies_to: ['pro', 'team'],
          first_time_only: true,
          minimum_amount: 1000,
          starts_at: '2026-03-01',
          expires_at: '2026-03-31',
          time_zone: 'America/New_York',
          max_redemptions: 500,
          max_per_customer: 2,
          stackable: true,
          metadata: { campaign: 'spring' },
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.id, /^promo_[0-9a-z]{26}$/);
      assert.equal(created.body.starts_at, '2026-03-01T05:00:00.000Z', 'start of 1 March in New York (EST)');
      assert.equal(created.body.expires_at, '2026-04-01T04:00:00.000Z', 'end of 31 March in New York (EDT)');
      assert.equal(created.body.time_zone, 'America/New_York');
      assert.equal(created.body.times_redeemed, 0);
      const read = await h.request('GET', `/v1/promotions/${created.body.id}`);
      assert.deepEqual(read.body, created.body);
    });

    it('takes instants as given and defaults to UTC, once, one use per customer', async () => {
      const p = await createPromotion(h, {
        amount_off: 500,
        currency: 'eur',
        starts_at: '2026-03-01T10:00:00+02:00',
        expires_at: '2026-03-02',
      });
      assert.equal(p.starts_at, '2026-03-01T08:00:00.000Z');
      assert.equal(p.expires_at, '2026-03-03T00:00:00.000Z');
      assert.equal(p.time_zone, 'UTC');
      assert.equal(p.duration, 'once');
      assert.equal(p.max_per_customer, 1);
      assert.equal(p.stackable, false);
    });

    it('refuses bad promotion input with a typed 4xx naming the field, and writes nothing', async () => {
      const { key, workspaceId } = await h.newWorkspace('bad-input');
      const cases: [Record<string, unknown>, string, string][] = [
        [{ percent_off_bps: 10_001 }, 'parameter_invalid', 'percent_off_bps'],
        [{ percent_off_bps: 20.5 }, 'parameter_invalid', 'percent_off_bps'],
        [{ amount_off: -100, currency: 'usd' }, 'parameter_invalid', 'amount_off'],
        [{ amount_off: 0, currency: 'usd' }, 'parameter_invalid', 'amount_off'],
        [{ amount_off: 500 }, 'parameter_missing', 'currency'],
        [{ percent_off_bps: 1000, amount_off: 500, currency: 'usd' }, 'parameter_invalid', 'amount_off'],
        [{}, 'parameter_missing', 'percent_off_bps'],
        [
          { percent_off_bps: 1000, starts_at: '2026-05-01', expires_at: '2026-04-30' },
          'parameter_invalid',
          'expires_at',
        ],
        [
          { percent_off_bps: 1000, starts_at: '2026-05-01T00:00:00Z', expires_at: '2026-05-01T00:00:00Z' },
          'parameter_invalid',
          'expires_at',
        ],
        [{ percent_off_bps: 1000, expires_at: '2026-02-30' }, 'parameter_invalid', 'expires_at'],
        [{ percent_off_bps: 1000, expires_at: 'next tuesday' }, 'parameter_invalid', 'expires_at'],
        [{ percent_off_bps: 1000, time_zone: 'Mars/Base' }, 'parameter_invalid', 'time_zone'],
        // 30 December 2011 never happened in Apia: neither its start nor its end exists.
        [
          { percent_off_bps: 1000, time_zone: 'Pacific/Apia', starts_at: '2011-12-30' },
          'parameter_invalid',
          'starts_at',
        ],
        [
          { percent_off_bps: 1000, time_zone: 'Pacific/Apia', expires_at: '2011-12-30' },
          'parameter_invalid',
          'expires_at',
        ],
        [{ percent_off_bps: 1000, duration: 'repeating' }, 'parameter_missing', 'duration_periods'],
        [
          { percent_off_bps: 1000, duration: 'repeating', duration_periods: 1201 },
          'parameter_invalid',
          'duration_periods',
        ],
        [{ percent_off_bps: 1000, duration: 'weekly' }, 'parameter_invalid', 'duration'],
        [{ percent_off_bps: 1000, max_redemptions: 0 }, 'parameter_invalid', 'max_redemptions'],
        [{ percent_off_bps: 1000, minimum_amount: 100 }, 'parameter_missing', 'currency'],
        [{ percent_off_bps: 1000, currency: 'USD' }, 'parameter_invalid', 'currency'],
        [{ percent_off_bps: 1000, applies_to: [] }, 'parameter_invalid', 'applies_to'],
        [{ percent_off_bps: 1000, bogus: true }, 'parameter_unknown', 'bogus'],
        [{ percent_off_bps: 1000, name: '   ' }, 'parameter_invalid', 'name'],
      ];
      for (const [body, code, param] of cases) {
        const res = await h.request('POST', '/v1/promotions', { key, body: { name: 'Bad', ...body } });
        assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)} -> ${res.status}`);
        assert.equal(res.body.error.code, code, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.param, param, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
      }
      const over = await h.request('POST', '/v1/promotions', {
        key,
        body: { name: 'Bad', percent_off_bps: 10_001 },
      });
      assert.match(over.body.error.message, /10000/, 'the message states the limit');
      // Messages in the house style, one per mistake.
      const message = async (body: Record<string, unknown>) =>
        (
          await h.request('POST', '/v1/promotions', {
            key,
            body: { name: 'Bad', percent_off_bps: 1000, ...body },
          })
        ).body.error;
      assert.equal(
        (await message({ duration: 'weekly' })).message,
        "'duration': must be one of: once, repeating, forever",
      );
      const upper = await message({ currency: 'USD' });
      assert.equal(upper.message, "'currency': must be a lower-case ISO 4217 code such as usd");
      assert.equal(upper.errors, undefined, 'no second message saying USD is not a currency');
      // Amounts state their range.
      assert.match(
        (await message({ percent_off_bps: undefined, amount_off: 0, currency: 'usd' })).message,
        /from 1 to 1000000000000$/,
      );
      const negative = await message({ percent_off_bps: undefined, amount_off: -1, currency: 'usd' });
      assert.equal(negative.message, "'amount_off': must be from 1 to 1000000000000");
      assert.equal(negative.errors, undefined, 'one message, not a second one contradicting it');
      const blankPlan = await message({ applies_to: [''] });
      assert.equal(blankPlan.message, "'applies_to[0]': must not be empty");
      assert.equal(blankPlan.errors, undefined);
      // A field the API answers as null, sent as null: told to leave it out, not the type it wants.
      const nulls = await message({ expires_at: null, max_redemptions: null });
      assert.equal(
        nulls.message,
        "'expires_at' must not be null (leave an optional field out to leave it unset)",
      );
      assert.deepEqual(
        nulls.errors.map((e: { param: string }) => e.param),
        ['expires_at', 'max_redemptions'],
      );
      assert.deepEqual(await counts(h, workspaceId), { promotions: 0, codes: 0, batches: 0 });
    });

    it('error: a number too large for JavaScript to hold exactly (1e20) is told the range, in one error', async () => {
      const { key, workspaceId } = await h.newWorkspace('huge-numbers');
      const p = await createPromotion(h, { percent_off_bps: 1000 }, key);
      // Written as JSON numbers, exactly as a caller would send them: 1e20 is an integer to the caller,
      // past 2^53 to JavaScript; 1e400 does not fit a double at all.
      const cases: [string, string, string, string][] = [
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1000,"max_redemptions":1e20}',
          'max_redemptions',
          "'max_redemptions': must be from 1 to 1000000000000",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1000,"max_redemptions":-1e20}',
          'max_redemptions',
          "'max_redemptions': must be from 1 to 1000000000000",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1000,"max_redemptions":1e400}',
          'max_redemptions',
          "'max_redemptions': must be from 1 to 1000000000000",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1000,"max_per_customer":1e20}',
          'max_per_customer',
          "'max_per_customer': must be from 1 to 1000",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1e20}',
          'percent_off_bps',
          "'percent_off_bps': must be from 1 to 10000 basis points (100%)",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","amount_off":1e20,"currency":"usd"}',
          'amount_off',
          "'amount_off': must be from 1 to 1000000000000",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1000,"max_redemptions":"5"}',
          'max_redemptions',
          "'max_redemptions': must be an integer from 1 to 1000000000000",
        ],
        [
          '/v1/promotions',
          '{"name":"Big","percent_off_bps":1000,"max_redemptions":1.5}',
          'max_redemptions',
          "'max_redemptions': must be an integer from 1 to 1000000000000",
        ],
        [
          `/v1/promotions/${p.id}/codes/generate`,
          '{"count":1e20}',
          'count',
          "'count': must be from 1 to 100000",
        ],
        [
          `/v1/promotions/${p.id}/codes/generate`,
          '{"count":5,"length":1e20}',
          'length',
          "'length': must be from 10 to 32",
        ],
      ];
      const before = await counts(h, workspaceId);
      for (const [url, rawBody, param, message] of cases) {
        const res = await h.request('POST', url, { key, rawBody });
        assert.equal(res.status, 400, `${rawBody}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'parameter_invalid', rawBody);
        assert.equal(res.body.error.param, param, rawBody);
        assert.equal(res.body.error.message, message, rawBody);
        assert.equal(res.body.error.errors, undefined, `one error, not a second one: ${rawBody}`);
      }
      assert.deepEqual(await counts(h, workspaceId), before);
    });

    it('stores a custom code normalised; every spelling is the same code', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      const code = await createCode(h, { promotion: p.id, code: ' summer-24 ' });
      assert.equal(code.code, 'SUMMER24');
      assert.match(code.id, /^pcode_/);
      for (const spelling of ['SUMMER24', 'ｓｕｍｍｅｒ２４', 'Summer 24']) {
        const dup = await h.request('POST', '/v1/promotion_codes', {
          body: { promotion: p.id, code: spelling },
        });
        assert.equal(dup.status, 409, spelling);
        assert.equal(dup.body.error.code, 'code_already_exists');
      }
      const found = await h.request(
        'GET',
        `/v1/promotion_codes?code=${encodeURIComponent('ｓｕｍｍｅｒ-２４')}`,
      );
      assert.deepEqual(
        found.body.data.map((c: { id: string }) => c.id),
        [code.id],
      );
      // A script written with combining marks; decomposed and composed accents are one code.
      const diwali = await createCode(h, { promotion: p.id, code: 'दिवाली-50' });
      assert.equal(diwali.code, 'दिवाली50');
      const accents = await createCode(h, { promotion: p.id, code: 'e\u0301te\u0301' });
      const composed = await h.request('POST', '/v1/promotion_codes', {
        body: { promotion: p.id, code: 'ÉTÉ' },
      });
      assert.equal(composed.status, 409, JSON.stringify(accents));
    });

    it('refuses bad codes with a typed 400 naming the field, and writes nothing', async () => {
      const { key, workspaceId } = await h.newWorkspace('bad-codes');
      const p = await createPromotion(h, { percent_off_bps: 1000 }, key);
      const before = await counts(h, workspaceId);
      const cases: [Record<string, unknown>, string, string, RegExp][] = [
        [{ code: 'A'.repeat(65) }, 'parameter_invalid', 'code', /at most 64/],
        [{ code: 'A'.repeat(129) }, 'parameter_invalid', 'code', /at most 128/],
        [{ code: 'SALE\ufe0f' }, 'parameter_invalid', 'code', /marks that draw nothing/],
        [{ code: 'SUM\u0000MER' }, 'parameter_invalid', 'code', /control|NUL/],
        [{ code: 'SUM\u0007MER' }, 'parameter_invalid', 'code', /control/],
        [{ code: 'SUM\u200bMER' }, 'parameter_invalid', 'code', /format/],
        [
          { code: 'SALE!' },
          'parameter_invalid',
          'code',
          /only letters \(with their combining marks\), digits/,
        ],
        [{ code: ' -- ' }, 'parameter_invalid', 'code', /at least one/],
        [{ code: 'OK1', max_redemptions: 0 }, 'parameter_invalid', 'max_redemptions', /from 1/],
        [{ code: 'OK2', customer: 'nobody' }, 'resource_not_found', 'customer', /nobody/],
        [{ code: 'OK3', promotion: 'promo_missing' }, 'resource_not_found', 'promotion', /promo_missing/],
      ];
      for (const [body, code, param, message] of cases) {
        const res = await h.request('POST', '/v1/promotion_codes', {
          key,
          body: { promotion: p.id, ...body },
        });
        assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)} -> ${res.status}`);
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param, JSON.stringify(res.body));
        assert.match(res.body.error.message, message);
      }
      assert.deepEqual(await counts(h, workspaceId), before);
    });

    it('binds a code to a customer and lists codes with filters and pages', async () => {
      const { key } = await h.newWorkspace('listing');
      const p = await createPromotion(h, { percent_off_bps: 1000 }, key);
      const other = await createPromotion(h, { percent_off_bps: 500 }, key);
      const customer = await createCustomer(h, 'bound_team', key);
      const bound = await createCode(h, { promotion: p.id, code: 'VIP1', customer: 'bound_team' }, key);
      assert.equal(bound.customer_id, customer.id);
      for (let i = 0; i < 4; i++) await createCode(h, { promotion: p.id, code: `PAGE${i}` }, key);
      await createCode(h, { promotion: other.id, code: 'OTHER' }, key);
      const byCustomer = await h.request('GET', '/v1/promotion_codes?customer=bound_team', { key });
      assert.deepEqual(
        byCustomer.body.data.map((c: { code: string }) => c.code),
        ['VIP1'],
      );
      const seen: string[] = [];
      let url = `/v1/promotion_codes?promotion=${p.id}&limit=2`;
      for (;;) {
        const page = await h.request('GET', url, { key });
        assert.equal(page.status, 200);
        seen.push(...page.body.data.map((c: { code: string }) => c.code));
        if (!page.body.has_more) break;
        url = `/v1/promotion_codes?promotion=${p.id}&limit=2&starting_after=${page.body.data.at(-1).id}`;
      }
      assert.deepEqual(seen, ['PAGE3', 'PAGE2', 'PAGE1', 'PAGE0', 'VIP1']);
      const list = await h.request('GET', '/v1/promotions?limit=1', { key });
      assert.equal(list.body.data[0].id, other.id);
      assert.equal(list.body.has_more, true);
      const malformed = await h.request(
        'GET',
        `/v1/promotion_codes?code=${encodeURIComponent('not a code!')}`,
        { key },
      );
      assert.deepEqual(malformed.body.data, [], 'a text that cannot be a code finds nothing');
    });

    it('filters promotions valid at an instant', async () => {
      const { key } = await h.newWorkspace('valid-at');
      const march = await createPromotion(
        h,
        { percent_off_bps: 1000, starts_at: '2026-03-01', expires_at: '2026-03-31' },
        key,
      );
      await createPromotion(
        h,
        { percent_off_bps: 1000, starts_at: '2026-04-01', expires_at: '2026-04-30' },
        key,
      );
      const open = await createPromotion(h, { percent_off_bps: 1000 }, key);
      const res = await h.request('GET', '/v1/promotions?valid_at=2026-03-31T23:00:00Z', { key });
      assert.deepEqual(
        res.body.data.map((p: { id: string }) => p.id),
        [open.id, march.id],
      );
    });

    it('filters promotions by the plan they apply to, with valid_at', async () => {
      const { key } = await h.newWorkspace('by-plan');
      const every = await createPromotion(h, { percent_off_bps: 1000 }, key);
      const pro = await createPromotion(h, { percent_off_bps: 1000, applies_to: ['pro', 'team'] }, key);
      await createPromotion(h, { percent_off_bps: 1000, applies_to: ['starter'] }, key);
      const later = await createPromotion(
        h,
        { percent_off_bps: 1000, applies_to: ['pro'], starts_at: '2027-01-01' },
        key,
      );
      const ids = async (query: string) =>
        (await h.request('GET', `/v1/promotions?${query}`, { key })).body.data.map(
          (p: { id: string }) => p.id,
        );
      assert.deepEqual(await ids('plan=pro'), [later.id, pro.id, every.id]);
      assert.deepEqual(await ids('plan=team&valid_at=2026-06-01T00:00:00Z'), [pro.id, every.id]);
      assert.deepEqual(await ids('plan=pro&valid_at=2026-06-01T00:00:00Z&limit=1'), [pro.id]);
      assert.deepEqual(await ids('plan=enterprise'), [every.id]);
      const bad = await h.request('GET', '/v1/promotions?plan=', { key });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, 'plan');
    });

    it('answers 404 for an unknown promotion or code', async () => {
      const p = await h.request('GET', '/v1/promotions/promo_nope');
      assert.equal(p.status, 404);
      assert.equal(p.body.error.code, 'resource_not_found');
      const c = await h.request('GET', '/v1/promotion_codes/pcode_nope');
      assert.equal(c.status, 404);
    });
  });
}
