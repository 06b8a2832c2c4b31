import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';

/** Tenant-isolation cases for promotions, codes, code batches and redemptions. */

/** B's promotion with a custom code, a generated batch, a customer and a redemption, all made by B. */
async function seedB({ asB, unique }: IsolationContext) {
  const promotion = await asB('POST', '/v1/promotions', {
    body: { name: 'B sale', percent_off_bps: 2000, max_redemptions: 10 },
  });
  assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
  const codeText = unique('BSALE').replaceAll('_', '');
  const code = await asB('POST', '/v1/promotion_codes', {
    body: { promotion: promotion.body.id, code: codeText, max_redemptions: 5 },
  });
  assert.equal(code.status, 201, JSON.stringify(code.body));
  const batch = await asB('POST', `/v1/promotions/${promotion.body.id}/codes/generate`, {
    body: { count: 3, prefix: 'BB' },
  });
  assert.equal(batch.status, 201, JSON.stringify(batch.body));
  const customerExternalId = unique('bteam');
  const customer = await asB('POST', '/v1/customers', {
    body: { external_id: customerExternalId },
  });
  assert.equal(customer.status, 201);
  const subscription = unique('bsub');
  const redemption = await asB('POST', '/v1/promotion_codes/redeem', {
    body: { code: codeText, customer: customerExternalId, subscription },
  });
  assert.equal(redemption.status, 201, JSON.stringify(redemption.body));
  return {
    promotion: promotion.body as { id: string },
    code: code.body as { id: string; code: string },
    batch: batch.body as { id: string },
    customer: customer.body as { id: string; external_id: string },
    subscription,
    redemption: redemption.body as { id: string },
  };
}

type Seed = Awaited<ReturnType<typeof seedB>>;

const readsOf = (s: Seed) => [
  `/v1/promotions/${s.promotion.id}`,
  '/v1/promotions?limit=100',
  `/v1/promotion_codes/${s.code.id}`,
  '/v1/promotion_codes?limit=100',
  `/v1/promotions/${s.promotion.id}/code_batches/${s.batch.id}`,
  `/v1/redemptions/${s.redemption.id}`,
  '/v1/redemptions?limit=100',
];

/** A's own customer, to send requests that are valid apart from naming B's things. */
async function customerOfA({ asA, unique }: IsolationContext) {
  const externalId = unique('ateam');
  const res = await asA('POST', '/v1/customers', {
    body: { external_id: externalId },
  });
  assert.equal(res.status, 201);
  return res.body as { id: string; external_id: string };
}

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/promotions',
    name: "creating a promotion in A touches nothing of B's",
    async run(ctx) {
      const { asA, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        const mine = await asA('POST', '/v1/promotions', {
          body: { name: 'B sale', percent_off_bps: 2000 },
        });
        assert.equal(mine.status, 201);
        assert.notEqual(mine.body.id, seed.promotion.id);
        assert.equal(mine.body.times_redeemed, 0, "B's redemptions do not count in A");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/promotions',
    name: "A's promotion list never shows B's promotions",
    async run(ctx) {
      const { asA, expectNoneOfB, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        await expectNoneOfB(await asA('GET', '/v1/promotions?limit=100'), 'plain list');
        await expectNoneOfB(
          await asA('GET', `/v1/promotions?limit=100&starting_after=${seed.promotion.id}`),
          "with B's id as the cursor",
        );
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/promotions/:id',
    name: "B's promotion is a 404 for A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('GET', `/v1/promotions/${seed.promotion.id}`), "B's promotion id");
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/promotions/:id/codes/generate',
    name: "A cannot generate codes into B's promotion",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(
          await asA('POST', `/v1/promotions/${seed.promotion.id}/codes/generate`, { body: { count: 5 } }),
          'small batch',
        );
        expectNotFound(
          await asA('POST', `/v1/promotions/${seed.promotion.id}/codes/generate`, { body: { count: 5_000 } }),
          'background batch',
        );
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/promotions/:id/code_batches',
    name: "B's code batches are a 404 for A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('GET', `/v1/promotions/${seed.promotion.id}/code_batches`), "B's promotion");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/promotions/:id/code_batches/:batch_id',
    name: "B's batch progress is a 404 for A, even under A's own promotion",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      const mine = await asA('POST', '/v1/promotions', {
        body: { name: 'A', percent_off_bps: 100 },
      });
      await unchangedForB(async () => {
        expectNotFound(
          await asA('GET', `/v1/promotions/${seed.promotion.id}/code_batches/${seed.batch.id}`),
          "B's promotion and batch",
        );
        expectNotFound(
          await asA('GET', `/v1/promotions/${mine.body.id}/code_batches/${seed.batch.id}`),
          "A's promotion, B's batch",
        );
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/promotion_codes',
    name: "A can neither attach a code to B's promotion nor bind it to B's customer; the same text is A's own",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      const mine = await asA('POST', '/v1/promotions', {
        body: { name: 'A', percent_off_bps: 100 },
      });
      await unchangedForB(async () => {
        expectNotFound(
          await asA('POST', '/v1/promotion_codes', {
            body: { promotion: seed.promotion.id, code: 'ATTACK1' },
          }),
          "B's promotion",
        );
        expectNotFound(
          await asA('POST', '/v1/promotion_codes', {
            body: {
              promotion: mine.body.id,
              code: 'ATTACK2',
              customer: seed.customer.external_id,
            },
          }),
          "B's customer",
        );
        const same = await asA('POST', '/v1/promotion_codes', {
          body: { promotion: mine.body.id, code: seed.code.code },
        });
        assert.equal(same.status, 201, 'codes are unique per workspace: the same text is free in A');
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/promotion_codes',
    name: "A's code list and its filters never show B's codes",
    async run(ctx) {
      const { asA, expectNoneOfB, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        await expectNoneOfB(await asA('GET', '/v1/promotion_codes?limit=100'), 'plain list');
        const byText = await asA('GET', `/v1/promotion_codes?code=${seed.code.code}`);
        await expectNoneOfB(byText, "B's code text");
        assert.equal(byText.body.data.length, 0);
        const byPromotion = await asA('GET', `/v1/promotion_codes?promotion=${seed.promotion.id}`);
        await expectNoneOfB(byPromotion, "B's promotion");
        assert.equal(byPromotion.body.data.length, 0);
        const byBatch = await asA('GET', `/v1/promotion_codes?batch=${seed.batch.id}`);
        await expectNoneOfB(byBatch, "B's batch");
        assert.equal(byBatch.body.data.length, 0);
        expectNotFound(await asA('GET', `/v1/promotion_codes?customer=${seed.customer.id}`), "B's customer");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/promotion_codes/:id',
    name: "B's code is a 404 for A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('GET', `/v1/promotion_codes/${seed.code.id}`), "B's code id");
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/promotion_codes/validate',
    name: "B's code is an unknown code to A, and B's customer an unknown customer",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      const customer = await customerOfA(ctx);
      await unchangedForB(async () => {
        const res = await asA('POST', '/v1/promotion_codes/validate', {
          body: { code: seed.code.code, customer: customer.external_id },
        });
        assert.equal(res.status, 200);
        assert.equal(res.body.valid, false);
        assert.equal(res.body.error.code, 'code_invalid');
        expectNotFound(
          await asA('POST', '/v1/promotion_codes/validate', {
            body: { code: seed.code.code, customer: seed.customer.external_id },
          }),
          "B's customer",
        );
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/promotion_codes/redeem',
    name: "A cannot redeem B's code, nor redeem for B's customer or B's subscription",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      const customer = await customerOfA(ctx);
      const mine = await asA('POST', '/v1/promotions', {
        body: { name: 'A', percent_off_bps: 100 },
      });
      await asA('POST', '/v1/promotion_codes', {
        body: { promotion: mine.body.id, code: 'AOWN' },
      });
      await unchangedForB(async () => {
        const stolen = await asA('POST', '/v1/promotion_codes/redeem', {
          body: { code: seed.code.code, customer: customer.external_id },
        });
        assert.equal(stolen.status, 404);
        assert.equal(stolen.body.error.code, 'code_invalid');
        expectNotFound(
          await asA('POST', '/v1/promotion_codes/redeem', {
            body: { code: 'AOWN', customer: seed.customer.external_id },
          }),
          "B's customer",
        );
        // B's subscription id is only a string in A: it names A's own (new) subscription slot.
        const sameSub = await asA('POST', '/v1/promotion_codes/redeem', {
          body: {
            code: 'AOWN',
            customer: customer.external_id,
            subscription: seed.subscription,
          },
        });
        assert.equal(sameSub.status, 201, "B's promotion on that subscription id does not block A");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/redemptions',
    name: "A's redemption list and its filters never show B's redemptions",
    async run(ctx) {
      const { asA, expectNoneOfB, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        await expectNoneOfB(await asA('GET', '/v1/redemptions?limit=100'), 'plain list');
        for (const filter of [
          `promotion=${seed.promotion.id}`,
          `promotion_code=${seed.code.id}`,
          `subscription=${seed.subscription}`,
          `starting_after=${seed.redemption.id}`,
        ]) {
          const res = await asA('GET', `/v1/redemptions?${filter}`);
          await expectNoneOfB(res, filter);
          assert.equal(res.body.data.length, 0, filter);
        }
        expectNotFound(await asA('GET', `/v1/redemptions?customer=${seed.customer.id}`), "B's customer");
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/redemptions/:id',
    name: "B's redemption is a 404 for A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('GET', `/v1/redemptions/${seed.redemption.id}`), "B's redemption id");
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/redemptions/:id/void',
    name: "A cannot void B's redemption",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const seed = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('POST', `/v1/redemptions/${seed.redemption.id}/void`), "B's redemption");
        expectNotFound(
          await asA('POST', `/v1/redemptions/${seed.redemption.id}/void`, {
            headers: { 'idempotency-key': 'void-b' },
          }),
          "B's redemption, with an idempotency key",
        );
      }, readsOf(seed));
    },
  },
];
