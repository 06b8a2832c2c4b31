import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { codeFor, DAY_MS, type Events, events, fromTemplate, referral } from '../programs/helpers.js';

/**
 * GET /v1/stats/overview, the figures of the dashboard's Overview page. The expected reward cost is
 * recomputed from each referral's own reward rows (GET /v1/referrals/{id}), not written down.
 */
const PROGRAM = 'credit-on-first-card';
const START = '2026-03-02T00:00:00Z'; // a Monday

for (const store of storeCases()) {
  describe(`overview figures (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    const referralIds: string[] = [];
    /** The rule that rejected the one refused referral, as the API answered it. */
    let rejectedFor: string;

    async function overview(query: string) {
      const res = await h.request('GET', `/v1/stats/overview${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }

    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-03-02T09:00:00Z');
      ev = events(h);
      await fromTemplate(h, PROGRAM);
      await ev.send([
        ev.customerCreated('alpha'),
        ev.cardAttached('alpha', 'fp_alpha'),
        ev.customerCreated('omega'),
        ev.cardAttached('omega', 'fp_omega'),
      ]);
      const alpha = await codeFor(h, 'alpha', PROGRAM);
      const omega = await codeFor(h, 'omega', PROGRAM);
      // Day 1: two referrals by alpha. Day 2: one by omega. Day 3: one by alpha and a rejection.
      const plan: [number, string, string][] = [
        [0, 'b1', alpha],
        [0, 'b2', alpha],
        [1, 'c1', omega],
        [2, 'd1', alpha],
      ];
      for (const [day, team, code] of plan) {
        h.clock.set(new Date(Date.parse('2026-03-02T10:00:00Z') + day * DAY_MS));
        const res = await ev.send([
          ev.customerCreated(team),
          ev.cardAttached(team, `fp_${team}`, { referral_code: code }),
        ]);
        assert.equal(res.data[1].referral.status, 'rewarded', JSON.stringify(res));
        referralIds.push(res.data[1].referral.referral);
      }
      // alpha already has its card, so a code it gives now is refused (with the rule that refused it).
      const self = await h.request('POST', '/v1/referrals', { body: { referee: 'alpha', code: omega } });
      assert.equal(self.body.status, 'rejected', JSON.stringify(self.body));
      referralIds.push(self.body.id);
      rejectedFor = self.body.reason;
      // Day 4: a reassignment takes d1's reward back from alpha and gives one to omega.
      h.clock.set('2026-03-05T10:00:00Z');
      const moved = await h.request('POST', `/v1/referrals/${referralIds[3]}/reassign`, {
        body: { referrer: 'omega', reason: 'wrong partner', actor: 'support' },
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      h.clock.set('2026-03-09T12:00:00Z');
    });
    after(() => h.close());

    it('counts referrals, conversions, rejections and reward cost per day, empty days included', async () => {
      const body = await overview(`?from=${START}&to=2026-03-09T00:00:00Z&interval=day`);
      assert.equal(body.from, '2026-03-02T00:00:00.000Z');
      assert.equal(body.to, '2026-03-09T00:00:00.000Z');
      assert.equal(body.series.length, 7);
      assert.deepEqual(
        body.series.map((s: any) => [s.start.slice(0, 10), s.referrals, s.conversions, s.rejections]),
        [
          ['2026-03-02', 2, 2, 0],
          ['2026-03-03', 1, 1, 0],
          ['2026-03-04', 1, 1, 1],
          ['2026-03-05', 0, 0, 0],
          ['2026-03-06', 0, 0, 0],
          ['2026-03-07', 0, 0, 0],
          ['2026-03-08', 0, 0, 0],
        ],
      );
      assert.deepEqual(
        {
          referrals: body.totals.referrals,
          conversions: body.totals.conversions,
          rejections: body.totals.rejections,
        },
        { referrals: 4, conversions: 4, rejections: 1 },
      );

      // The cost per day and asset, recomputed from every reward row of every referral.
      const expected = new Map<string, { granted: number; reversed: number }>();
      for (const id of referralIds) {
        for (const r of (await referral(h, id)).rewards) {
          if (r.status === 'skipped') continue;
          const k = `${r.occurred_at.slice(0, 10)} ${r.asset}`;
          const e = expected.get(k) ?? { granted: 0, reversed: 0 };
          e.granted += r.amount;
          e.reversed += r.reversed_amount;
          expected.set(k, e);
        }
      }
      const got = new Map<string, { granted: number; reversed: number }>();
      for (const s of body.series) {
        for (const r of s.rewards) {
          assert.equal(r.net, r.granted - r.reversed);
          got.set(`${s.start.slice(0, 10)} ${r.asset}`, { granted: r.granted, reversed: r.reversed });
        }
      }
      assert.deepEqual(Object.fromEntries(got), Object.fromEntries(expected));
      const reversed = [...expected.values()].reduce((n, e) => n + e.reversed, 0);
      assert.equal(reversed, 2500, "the reassignment took back alpha's reward for d1");
      const granted = [...expected.values()].reduce((n, e) => n + e.granted, 0);
      assert.deepEqual(body.totals.rewards, [
        { asset: 'usd_credit', granted, reversed, net: granted - reversed },
      ]);
      assert.deepEqual(body.assets, [{ asset: 'usd_credit', kind: 'money', currency: 'usd', unit: null }]);
    });

    it('names the top referrers of the range, and the latest rejections with their reasons', async () => {
      const body = await overview(`?from=${START}&to=2026-03-09T00:00:00Z`);
      assert.deepEqual(
        body.top_referrers.map((t: any) => [t.external_id, t.referrals, t.converted]),
        [
          ['alpha', 2, 2],
          ['omega', 2, 2],
        ],
        'd1 now counts for omega, its referrer after the repair',
      );
      const alpha = body.top_referrers[0].rewards_earned;
      assert.deepEqual(alpha, [{ asset: 'usd_credit', granted: 7500, reversed: 2500, net: 5000 }]);
      assert.deepEqual(body.rejection_reasons, [{ reason: rejectedFor, count: 1 }]);
      assert.equal(body.recent_rejections.length, 1);
      const [rejection] = body.recent_rejections;
      assert.equal(rejection.referral, referralIds[4]);
      assert.equal(rejection.referee_external_id, 'alpha');
      assert.equal(rejection.referrer_external_id, 'omega');
      assert.equal(rejection.reason, rejectedFor);
      assert.ok(rejection.reason_message);
    });

    it('buckets by ISO week and calendar month, and a range outside the activity is all zeros', async () => {
      const weeks = await overview(`?from=2026-03-04T00:00:00Z&to=2026-03-16T00:00:00Z&interval=week`);
      assert.equal(weeks.from, '2026-03-02T00:00:00.000Z', 'moved back to Monday');
      assert.deepEqual(
        weeks.series.map((s: any) => [s.start.slice(0, 10), s.referrals]),
        [
          ['2026-03-02', 4],
          ['2026-03-09', 0],
        ],
      );
      const months = await overview(`?from=2026-01-15T00:00:00Z&to=2026-04-01T00:00:00Z&interval=month`);
      assert.deepEqual(
        months.series.map((s: any) => [s.start.slice(0, 7), s.referrals, s.rejections]),
        [
          ['2026-01', 0, 0],
          ['2026-02', 0, 0],
          ['2026-03', 4, 1],
        ],
      );
      const before = await overview(`?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z`);
      assert.equal(before.totals.referrals, 0);
      assert.deepEqual(before.top_referrers, []);
      assert.deepEqual(before.recent_rejections, []);
      assert.deepEqual(before.totals.rewards, []);
    });

    it('defaults to the last 30 days, and filters by program', async () => {
      const body = await overview('');
      assert.equal(body.interval, 'day');
      assert.equal(body.to, '2026-03-09T12:00:00.000Z');
      assert.equal(body.from, '2026-02-07T00:00:00.000Z');
      assert.equal(body.totals.referrals, 4);
      assert.equal(body.program, null);
      const scoped = await overview(`?program=${PROGRAM}`);
      assert.equal(scoped.program, PROGRAM);
      assert.equal(scoped.totals.referrals, 4);
      await h.request('POST', '/v1/programs/from_template', { body: { template: 'bonus-minutes' } });
      const other = await overview('?program=bonus-minutes');
      assert.equal(other.totals.referrals, 0);
      assert.deepEqual(other.top_referrers, []);
    });

    it('refuses a reversed, empty or too long range with the limit, and unknown parameters', async () => {
      const cases: [string, number, string, string, RegExp][] = [
        [
          '?from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z',
          400,
          'parameter_invalid',
          'from',
          /before 'to'/,
        ],
        [
          '?from=2026-03-05T00:00:00Z&to=2026-03-05T00:00:00Z',
          400,
          'parameter_invalid',
          'from',
          /before 'to'/,
        ],
        [
          '?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
          400,
          'parameter_invalid',
          'from',
          /at most 366 days/,
        ],
        [
          '?from=2020-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&interval=month',
          400,
          'parameter_invalid',
          'from',
          /at most 1830 days/,
        ],
        ['?from=yesterday', 400, 'parameter_invalid', 'from', /ISO 8601/],
        ['?interval=hour', 400, 'parameter_invalid', 'interval', /day|week|month/],
        ['?program=nope', 404, 'resource_not_found', 'program', /nope/],
        ['?colour=red', 400, 'parameter_unknown', 'colour', /colour/],
      ];
      for (const [query, status, code, param, message] of cases) {
        const res = await h.request('GET', `/v1/stats/overview${query}`);
        assert.equal(res.status, status, `${query}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, code, query);
        assert.equal(res.body.error.param, param, query);
        assert.match(res.body.error.message, message, query);
      }
      const tooLong = await h.request(
        'GET',
        '/v1/stats/overview?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
      );
      assert.equal(tooLong.body.error.limit_days, 366);
    });
  });
}
