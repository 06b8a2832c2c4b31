import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { createCode, createCustomer, createPromotion, errorCode, redeem, validate } from './helpers.js';

/**
 * Expiry through the API, with the clock moved by hand: a code that expires at the end of a date in
 * America/New_York is valid at 23:59:59 local and invalid at 00:00:00 local, on both days a DST
 * change happens (a naive conversion with the offset in force at the start of the day is an hour off
 * on those days), and expiry is checked by validate and by redeem.
 */
const CASES = [
  {
    date: '2026-03-08',
    lastSecond: '2026-03-09T03:59:59Z',
    midnight: '2026-03-09T04:00:00Z',
    change: 'DST starts',
  },
  {
    date: '2026-11-01',
    lastSecond: '2026-11-02T04:59:59Z',
    midnight: '2026-11-02T05:00:00Z',
    change: 'DST ends',
  },
] as const;

for (const store of storeCases()) {
  describe(`code expiry in a time zone (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    for (const c of CASES) {
      it(`expiring at the end of ${c.date} in New York (${c.change}): valid at 23:59:59, invalid at 00:00:00 local`, async () => {
        const p = await createPromotion(h, {
          percent_off_bps: 1000,
          expires_at: c.date,
          time_zone: 'America/New_York',
          max_per_customer: 10,
          stackable: true,
        });
        assert.equal(p.expires_at, new Date(c.midnight).toISOString());
        const code = `NY${c.date.replaceAll('-', '')}`;
        await createCode(h, { promotion: p.id, code });
        const customer = `team_${code}`;
        await createCustomer(h, customer);

        h.clock.set(c.lastSecond);
        const v = await validate(h, { code, customer });
        assert.equal(v.body.valid, true, JSON.stringify(v.body));
        const r = await redeem(h, { code, customer, subscription: `sub_${code}_1` });
        assert.equal(r.status, 201, JSON.stringify(r.body));

        h.clock.set(c.midnight);
        const v2 = await validate(h, { code, customer });
        assert.equal(v2.body.valid, false);
        assert.equal(v2.body.error.code, 'code_expired');
        const r2 = await redeem(h, { code, customer, subscription: `sub_${code}_2` });
        assert.equal(r2.status, 422);
        assert.equal(errorCode(r2), 'code_expired');
        assert.equal(r2.body.error.expires_at, new Date(c.midnight).toISOString());
      });
    }

    it("a code's own date-only expiry is read in its promotion's zone", async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000, time_zone: 'Asia/Tokyo' });
      const code = await createCode(h, { promotion: p.id, code: 'TOKYODATE', expires_at: '2026-04-01' });
      assert.equal(code.expires_at, '2026-04-01T15:00:00.000Z');
    });

    it('starts_at as a date is the first instant of that day in the zone', async () => {
      const p = await createPromotion(h, {
        percent_off_bps: 1000,
        starts_at: '2026-11-01',
        time_zone: 'America/New_York',
      });
      assert.equal(p.starts_at, '2026-11-01T04:00:00.000Z');
      await createCode(h, { promotion: p.id, code: 'STARTSNY' });
      await createCustomer(h, 'team_starts');
      h.clock.set('2026-11-01T03:59:59Z');
      assert.equal(
        (await validate(h, { code: 'STARTSNY', customer: 'team_starts' })).body.error.code,
        'code_not_yet_active',
      );
      h.clock.set('2026-11-01T04:00:00Z');
      assert.equal((await validate(h, { code: 'STARTSNY', customer: 'team_starts' })).body.valid, true);
    });

    it('takes window boundaries from 1970 to the end of year 9999, alike on both stores; others get a 400', async () => {
      const last = await createPromotion(h, {
        percent_off_bps: 1000,
        starts_at: '1970-01-01T00:00:00Z',
        expires_at: '9999-12-31T23:59:59.999Z',
      });
      assert.equal(last.starts_at, '1970-01-01T00:00:00.000Z');
      assert.equal(last.expires_at, '9999-12-31T23:59:59.999Z');
      const read = await h.request('GET', `/v1/promotions/${last.id}`);
      assert.equal(read.body.expires_at, '9999-12-31T23:59:59.999Z');
      const before = await h.request('GET', '/v1/promotions?limit=100');
      for (const [field, value, zone] of [
        // The end of that day is the first instant of year 10000.
        ['expires_at', '9999-12-31', 'UTC'],
        ['expires_at', '9999-12-31T23:59:59-12:00', 'UTC'],
        ['starts_at', '0001-01-01T00:00:00Z', 'UTC'],
        ['starts_at', '1969-12-31', 'America/New_York'],
      ] as const) {
        const res = await h.request('POST', '/v1/promotions', {
          body: { name: 'range', percent_off_bps: 1000, [field]: value, time_zone: zone },
        });
        assert.equal(res.status, 400, `${field} ${value}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.param, field);
        assert.match(
          res.body.error.message,
          /must be from 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z/,
        );
      }
      const code = await h.request('POST', '/v1/promotion_codes', {
        body: { promotion: last.id, code: 'FARCODE', expires_at: '9999-12-31' },
      });
      assert.equal(code.status, 400, JSON.stringify(code.body));
      assert.match(code.body.error.message, /leave expires_at out for no expiry/);
      const after = await h.request('GET', '/v1/promotions?limit=100');
      assert.equal(after.body.data.length, before.body.data.length, 'nothing written');
    });
  });
}
