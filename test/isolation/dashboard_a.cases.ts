import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';

/** Tenant-isolation cases for the dashboard's reads: referral search, audit log, overview figures. */

const PROGRAM = 'credit-on-first-card';

/**
 * B's program, a referrer with a code, a rewarded referral, a manual referral and a reassignment (so
 * B has audit log entries), and a rejected referral (so B has rejections to show).
 */
async function seedB({ asB, unique }: IsolationContext) {
  const program = await asB('POST', '/v1/programs/from_template', { body: { template: PROGRAM } });
  assert.equal(program.status, 201, JSON.stringify(program.body));
  const at = new Date().toISOString();
  const created = (external_id: string) => ({
    id: unique('evt'),
    type: 'customer.created',
    occurred_at: at,
    data: { customer: { external_id } },
  });
  const card = (customer: string, extra: object = {}) => ({
    id: unique('evt'),
    type: 'card.attached',
    occurred_at: at,
    data: { customer, payment_method: { fingerprint: unique('fp') }, ...extra },
  });
  const referrer = unique('b_referrer');
  const other = unique('b_other');
  const referee = unique('b_referee');
  const manual = unique('b_manual');
  const seeded = await asB('POST', '/v1/events', {
    body: { events: [created(referrer), card(referrer), created(other), card(other)] },
  });
  assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
  const code = await asB('POST', `/v1/customers/${referrer}/referral_code`, { body: { program: PROGRAM } });
  assert.equal(code.status, 201, JSON.stringify(code.body));
  const referred = await asB('POST', '/v1/events', {
    body: { events: [created(referee), card(referee, { referral_code: code.body.code })] },
  });
  const referralId = referred.body.data[1].referral.referral as string;
  assert.equal(referred.body.data[1].referral.status, 'rewarded', JSON.stringify(referred.body));
  const rejected = await asB('POST', '/v1/referrals', { body: { referee: other, code: code.body.code } });
  assert.equal(rejected.body.status, 'rejected', JSON.stringify(rejected.body));
  await asB('POST', '/v1/customers', { body: { external_id: manual } });
  const repaired = await asB('POST', '/v1/referrals', {
    body: { referee: manual, source: 'manual', program: PROGRAM, referrer, reason: 'ticket', actor: 'b' },
  });
  assert.equal(repaired.status, 201, JSON.stringify(repaired.body));
  const moved = await asB('POST', `/v1/referrals/${referralId}/reassign`, {
    body: { referrer: other, reason: 'ticket', actor: 'b' },
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  const referrerRow = await asB('GET', `/v1/customers/${referrer}`);
  const log = await asB('GET', '/v1/audit_log');
  assert.ok(log.body.data.length >= 2, JSON.stringify(log.body));
  return {
    code: code.body.code as string,
    referrer,
    referrerId: referrerRow.body.id as string,
    referralId,
    auditId: log.body.data[0].id as string,
  };
}

function readsOf(seed: Awaited<ReturnType<typeof seedB>>) {
  return [
    '/v1/referrals?limit=100',
    '/v1/audit_log?limit=100',
    '/v1/stats/overview',
    `/v1/referrals/${seed.referralId}`,
    `/v1/customers/${seed.referrer}/referral_summary`,
  ];
}

export const cases: IsolationCase[] = [
  {
    method: 'GET',
    url: '/v1/referrals',
    name: "A's referral search never shows B's referrals, whatever the filter or cursor",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.asA('POST', '/v1/programs/from_template', { body: { template: PROGRAM } });
      await ctx.unchangedForB(async () => {
        const plain = await ctx.asA('GET', '/v1/referrals?limit=100');
        await ctx.expectNoneOfB(plain, 'plain list');
        assert.equal(plain.body.data.length, 0);
        await ctx.expectNoneOfB(
          await ctx.asA('GET', `/v1/referrals?starting_after=${seed.referralId}`),
          "B's cursor",
        );
        await ctx.expectNoneOfB(await ctx.asA('GET', `/v1/referrals?program=${PROGRAM}`), 'same program key');
        for (const ref of [seed.referrerId, seed.referrer]) {
          ctx.expectNotFound(await ctx.asA('GET', `/v1/referrals?customer=${ref}`), `B's customer ${ref}`);
        }
        ctx.expectNotFound(await ctx.asA('GET', `/v1/referrals?code=${seed.code}`), "B's code");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/audit_log',
    name: "A's audit log never shows B's entries, even filtered by B's referral or cursor",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const plain = await ctx.asA('GET', '/v1/audit_log?limit=100');
        await ctx.expectNoneOfB(plain, 'plain list');
        assert.equal(plain.body.data.length, 0);
        const byReferral = await ctx.asA('GET', `/v1/audit_log?referral=${seed.referralId}`);
        await ctx.expectNoneOfB(byReferral, "B's referral");
        assert.equal(byReferral.body.data.length, 0);
        await ctx.expectNoneOfB(
          await ctx.asA('GET', `/v1/audit_log?starting_after=${seed.auditId}`),
          "B's cursor",
        );
        ctx.expectNotFound(await ctx.asA('GET', `/v1/audit_log?customer=${seed.referrer}`), "B's customer");
        ctx.expectNotFound(await ctx.asA('GET', `/v1/audit_log?program=${PROGRAM}`), "B's program key");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/stats/overview',
    name: "A's overview counts nothing of B's referrals, rewards or rejections",
    async run(ctx) {
      const seed = await seedB(ctx);
      // The harness clock stands still while B's events carry the wall-clock time: a range around both.
      const day = 86_400_000;
      const range = `from=${new Date(Date.now() - day).toISOString()}&to=${new Date(Date.now() + day).toISOString()}`;
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(await ctx.asA('GET', `/v1/stats/overview?program=${PROGRAM}`), "B's program key");
        const res = await ctx.asA('GET', `/v1/stats/overview?${range}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(
          [res.body.totals, res.body.top_referrers, res.body.recent_rejections, res.body.rejection_reasons],
          [{ referrals: 0, conversions: 0, rejections: 0, rewards: [] }, [], [], []],
        );
        assert.ok(!JSON.stringify(res.body).includes(seed.referrerId));
        // B, on the same range, sees its own figures: the case would pass vacuously otherwise.
        const forB = await ctx.asB('GET', `/v1/stats/overview?${range}`);
        assert.ok(forB.body.totals.referrals >= 2, JSON.stringify(forB.body.totals));
      }, readsOf(seed));
    },
  },
];
