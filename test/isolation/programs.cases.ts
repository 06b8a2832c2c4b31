import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';

/** Tenant-isolation cases for referral programs, codes, links, referrals and repairs. */

const PROGRAM = 'credit-on-first-card';

/** B's program (from a template), a referrer with a card and a code, and a rewarded referral. */
async function seedB({ asB, asA, unique }: IsolationContext) {
  const program = await asB('POST', '/v1/programs/from_template', {
    body: { template: PROGRAM },
  });
  assert.equal(program.status, 201, JSON.stringify(program.body));
  const referrer = unique('b_referrer');
  const referee = unique('b_referee');
  const at = new Date().toISOString();
  const seeded = await asB('POST', '/v1/events', {
    body: {
      events: [
        {
          id: unique('evt'),
          type: 'customer.created',
          occurred_at: at,
          data: { customer: { external_id: referrer } },
        },
        {
          id: unique('evt'),
          type: 'card.attached',
          occurred_at: at,
          data: {
            customer: referrer,
            payment_method: { fingerprint: unique('fp') },
          },
        },
      ],
    },
  });
  assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
  const code = await asB('POST', `/v1/customers/${referrer}/referral_code`, {
    body: { program: PROGRAM },
  });
  assert.equal(code.status, 201, JSON.stringify(code.body));
  const referred = await asB('POST', '/v1/events', {
    body: {
      events: [
        {
          id: unique('evt'),
          type: 'customer.created',
          occurred_at: at,
          data: { customer: { external_id: referee } },
        },
        {
          id: unique('evt'),
          type: 'card.attached',
          occurred_at: at,
          data: {
            customer: referee,
            referral_code: code.body.code,
            payment_method: { fingerprint: unique('fp') },
          },
        },
      ],
    },
  });
  assert.equal(referred.body.data[1].referral.status, 'rewarded', JSON.stringify(referred.body));
  const referrerRow = await asB('GET', `/v1/customers/${referrer}`);
  // A has customers of the same external ids, so "not found" is never an accident of A's emptiness.
  await asA('POST', '/v1/customers', {
    body: { external_id: `${referrer}_a` },
  });
  return {
    programId: program.body.id as string,
    code: code.body.code as string,
    referrer,
    referrerId: referrerRow.body.id as string,
    referee,
    referralId: referred.body.data[1].referral.referral as string,
  };
}

function readsOf(seed: Awaited<ReturnType<typeof seedB>>) {
  return [
    `/v1/programs/${PROGRAM}`,
    `/v1/programs/${PROGRAM}/versions`,
    `/v1/customers/${seed.referrer}/referral_summary`,
    `/v1/customers/${seed.referrer}/referrals`,
    `/v1/referrals/${seed.referralId}`,
    `/v1/customers/${seed.referrer}/balances`,
  ];
}

/** A route on B's customer answers 404 to A, by Perks id and by external id. */
function customerRouteCase(
  method: 'GET' | 'POST',
  suffix: string,
  name: string,
  body?: object,
): IsolationCase {
  return {
    method,
    url: `/v1/customers/:id/${suffix}`,
    name,
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        for (const ref of [seed.referrerId, seed.referrer]) {
          const res = await ctx.asA(method, `/v1/customers/${ref}/${suffix}`, body ? { body } : {});
          ctx.expectNotFound(res, `${method} ${suffix} with B's customer ${ref}`);
        }
      }, readsOf(seed));
    },
  };
}

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/programs',
    name: "applying a document under B's program key creates A's own program and leaves B's untouched",
    async run(ctx) {
      const seed = await seedB(ctx);
      const template = await ctx.asB('GET', '/v1/programs/templates');
      const document = template.body.data.find((t: { name: string }) => t.name === PROGRAM).document;
      await ctx.unchangedForB(async () => {
        const missingAsset = await ctx.asA('POST', '/v1/programs', {
          body: document,
        });
        assert.equal(missingAsset.status, 400, "B's asset does not exist for A");
        assert.equal(missingAsset.body.error.code, 'program_invalid');
        await ctx.asA('POST', '/v1/assets', {
          body: {
            key: 'usd_credit',
            kind: 'money',
            currency: 'usd',
            purpose: 'credit',
          },
        });
        const mine = await ctx.asA('POST', '/v1/programs', {
          body: { ...document, name: 'A owns this' },
        });
        assert.equal(mine.status, 201, JSON.stringify(mine.body));
        assert.notEqual(mine.body.id, seed.programId);
        assert.equal(mine.body.version, 1);
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/programs/from_template',
    name: "creating the same template in A makes A's own program and assets",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const mine = await ctx.asA('POST', '/v1/programs/from_template', {
          body: { template: PROGRAM },
        });
        assert.equal(mine.status, 201);
        assert.notEqual(mine.body.id, seed.programId);
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/programs',
    name: "A's program list and cursor never show B's programs",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const list = await ctx.asA('GET', '/v1/programs?limit=100');
        await ctx.expectNoneOfB(list, 'plain list');
        assert.equal(list.body.data.length, 0);
        await ctx.expectNoneOfB(
          await ctx.asA('GET', `/v1/programs?starting_after=${seed.programId}`),
          "B's cursor",
        );
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/programs/:id',
    name: "B's program is a 404 for A by id and by key",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(await ctx.asA('GET', `/v1/programs/${seed.programId}`), "B's program id");
        ctx.expectNotFound(await ctx.asA('GET', `/v1/programs/${PROGRAM}`), "B's program key");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/programs/:id/versions',
    name: "B's program versions are a 404 for A",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(await ctx.asA('GET', `/v1/programs/${seed.programId}/versions`), "B's program id");
        ctx.expectNotFound(await ctx.asA('GET', `/v1/programs/${PROGRAM}/versions`), "B's program key");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/programs/templates',
    name: 'the templates are the same for every workspace and hold no tenant data',
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const forA = await ctx.asA('GET', '/v1/programs/templates');
        const forB = await ctx.asB('GET', '/v1/programs/templates');
        assert.equal(forA.status, 200);
        assert.deepEqual(forA.body, forB.body);
        assert.ok(!JSON.stringify(forA.body).includes(seed.code));
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/programs/schema.json',
    name: 'the program JSON Schema is the same for every caller and holds no tenant data',
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        const forA = await ctx.asA('GET', '/v1/programs/schema.json');
        const anonymous = await ctx.h.request('GET', '/v1/programs/schema.json', { key: null });
        assert.equal(forA.status, 200);
        assert.deepEqual(forA.body, anonymous.body);
        assert.ok(!JSON.stringify(forA.body).includes(seed.code));
      }, readsOf(seed));
    },
  },
  customerRouteCase('POST', 'referral_code', "A cannot get a code for B's customer", { program: PROGRAM }),
  {
    method: 'POST',
    url: '/v1/customers/:id/referral_code',
    name: "A cannot take B's vanity code: the code stays B's, A's request names only the conflict",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.asA('POST', '/v1/programs/from_template', {
        body: { template: PROGRAM },
      });
      const mine = ctx.unique('a_team');
      await ctx.asA('POST', '/v1/events', {
        body: {
          events: [
            {
              id: ctx.unique('evt'),
              type: 'customer.created',
              occurred_at: new Date().toISOString(),
              data: { customer: { external_id: mine } },
            },
            {
              id: ctx.unique('evt'),
              type: 'card.attached',
              occurred_at: new Date().toISOString(),
              data: {
                customer: mine,
                payment_method: { fingerprint: ctx.unique('fp') },
              },
            },
          ],
        },
      });
      await ctx.unchangedForB(async () => {
        const taken = await ctx.asA('POST', `/v1/customers/${mine}/referral_code`, {
          body: { program: PROGRAM, code: seed.code },
        });
        assert.equal(taken.status, 409, JSON.stringify(taken.body));
        assert.equal(taken.body.error.code, 'referral_code_taken');
      }, readsOf(seed));
    },
  },
  customerRouteCase('GET', 'referral_summary', "B's customer's referral summary is a 404 for A"),
  customerRouteCase('GET', 'referrals', "B's customer's referrals are a 404 for A"),
  customerRouteCase('GET', 'referral_tree', "B's customer's referral tree is a 404 for A"),
  customerRouteCase('POST', 'referral_option', "A cannot choose an option for B's customer", {
    program: PROGRAM,
    option: 'cash',
  }),
  customerRouteCase('POST', 'referral_reinstate', "A cannot reinstate B's referrer", {
    program: PROGRAM,
    reason: 'attack',
    actor: 'a',
  }),
  customerRouteCase('POST', 'contract', "A cannot record a contract for B's customer", {}),
  {
    method: 'POST',
    url: '/v1/referrals',
    name: "B's code, B's referrer and B's referee reach nothing of B",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.asA('POST', '/v1/programs/from_template', {
        body: { template: PROGRAM },
      });
      const mine = ctx.unique('a_referee');
      await ctx.asA('POST', '/v1/customers', { body: { external_id: mine } });
      await ctx.unchangedForB(async () => {
        const byCode = await ctx.asA('POST', '/v1/referrals', {
          body: { referee: mine, code: seed.code },
        });
        assert.equal(byCode.status, 400);
        assert.equal(byCode.body.error.code, 'referral_code_invalid', "B's code does not exist for A");
        const manual = await ctx.asA('POST', '/v1/referrals', {
          body: {
            referee: mine,
            source: 'manual',
            program: PROGRAM,
            referrer: seed.referrerId,
            reason: 'x',
            actor: 'a',
          },
        });
        ctx.expectNotFound(manual, "B's referrer");
        const bReferee = await ctx.asA('POST', '/v1/referrals', {
          body: { referee: seed.referee, code: seed.code },
        });
        ctx.expectNotFound(bReferee, "B's referee");
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/events',
    name: "an event of A carrying B's referral code is an invalid code for A, and B gains nothing",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.asA('POST', '/v1/programs/from_template', {
        body: { template: PROGRAM },
      });
      await ctx.unchangedForB(async () => {
        const team = ctx.unique('a_team');
        const res = await ctx.asA('POST', '/v1/events', {
          body: {
            events: [
              {
                id: ctx.unique('evt'),
                type: 'customer.created',
                occurred_at: new Date().toISOString(),
                data: { customer: { external_id: team } },
              },
              {
                id: ctx.unique('evt'),
                type: 'card.attached',
                occurred_at: new Date().toISOString(),
                data: {
                  customer: team,
                  referral_code: seed.code,
                  payment_method: { fingerprint: ctx.unique('fp') },
                },
              },
            ],
          },
        });
        assert.equal(res.status, 200);
        assert.equal(res.body.data[1].referral.error.code, 'referral_code_invalid');
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/referrals/:id',
    name: "B's referral is a 404 for A",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(await ctx.asA('GET', `/v1/referrals/${seed.referralId}`), "B's referral id");
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/referrals/:id/reassign',
    name: "A cannot reassign B's referral",
    async run(ctx) {
      const seed = await seedB(ctx);
      const mine = ctx.unique('a_partner');
      await ctx.asA('POST', '/v1/customers', { body: { external_id: mine } });
      await ctx.unchangedForB(async () => {
        const res = await ctx.asA('POST', `/v1/referrals/${seed.referralId}/reassign`, {
          body: { referrer: mine, reason: 'attack', actor: 'a' },
        });
        ctx.expectNotFound(res, "B's referral id");
      }, readsOf(seed));
    },
  },
];
