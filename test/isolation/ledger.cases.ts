import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';

/** Tenant-isolation cases for the credits ledger: assets, grants, consumptions, invoices, reversals, payouts. */

const ASSETS = [
  { key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit' },
  { key: 'minutes', kind: 'units', unit: 'minutes', purpose: 'credit' },
  { key: 'commission', kind: 'money', currency: 'usd', purpose: 'commission', payout_minimum: 100 },
];

/** B's ledger: assets, a customer with grants (never expiring), a consumption, a settled invoice and payouts. */
async function seedB({ asB, unique }: IsolationContext) {
  for (const body of ASSETS) {
    const res = await asB('POST', '/v1/assets', { body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const customer = await asB('POST', '/v1/customers', { body: { external_id: unique('team') } });
  assert.equal(customer.status, 201);
  const c = customer.body as { id: string; external_id: string };
  const grant = async (asset: string, amount: number) => {
    const reference = unique('grant');
    const res = await asB('POST', `/v1/customers/${c.id}/grants`, {
      body: { asset, amount, reason: 'seed', reference, source: { type: 'manual', actor: 'ops@b.example' } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.id as string, reference };
  };
  const credit = await grant('usd_credit', 5000);
  const minutes = await grant('minutes', 300);
  await grant('commission', 9000);
  const consumption = await asB('POST', `/v1/customers/${c.id}/consumptions`, {
    body: { asset: 'minutes', amount: 30 },
  });
  assert.equal(consumption.status, 201);
  const invoice = unique('in');
  const settled = await asB('POST', '/v1/invoices/settle', {
    body: { invoice_id: invoice, customer: c.id, currency: 'usd', subtotal_cents: 1200 },
  });
  assert.equal(settled.status, 200, JSON.stringify(settled.body));
  const payout = async () => {
    const res = await asB('POST', '/v1/payouts', {
      body: { customer: c.id, asset: 'commission', amount: 1000, destination: 'iban:B' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const pending = await payout();
  const paid = await payout();
  const approved = await asB('POST', `/v1/payouts/${paid}/approve`, {
    body: { approved_by: 'finance@b.example' },
  });
  assert.equal(approved.status, 200);
  return { customer: c, credit, minutes, invoice, pending, paid };
}

type Seed = Awaited<ReturnType<typeof seedB>>;

const readsOf = (b: Seed) => [
  '/v1/assets?limit=100',
  `/v1/customers/${b.customer.id}/balances`,
  `/v1/customers/${b.customer.id}/ledger?limit=100`,
  '/v1/payouts?limit=100',
  `/v1/payouts/${b.pending}`,
  `/v1/payouts/${b.paid}`,
];

/** A's own customer (same external id as B's, which must not matter) with A's own assets. */
async function ownCustomer({ asA }: IsolationContext, b: Seed) {
  const res = await asA('POST', '/v1/customers', { body: { external_id: b.customer.external_id } });
  assert.equal(res.status, 201);
  return res.body.id as string;
}

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/assets',
    name: "creating B's asset keys makes A's own assets, with A's definitions",
    async run(ctx) {
      const { asA, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        const mine = await asA('POST', '/v1/assets', {
          body: { key: 'usd_credit', kind: 'money', currency: 'eur', purpose: 'credit' },
        });
        assert.equal(mine.status, 201, "B's key is free in A, even with another definition");
        assert.equal(mine.body.currency, 'eur');
      }, readsOf(b));
    },
  },
  {
    method: 'GET',
    url: '/v1/assets',
    name: "A's asset list and cursor never show B's assets",
    async run(ctx) {
      const { asA, asB, expectNoneOfB, unchangedForB } = ctx;
      const b = await seedB(ctx);
      const bAssets = await asB('GET', '/v1/assets');
      await unchangedForB(async () => {
        const empty = await asA('GET', '/v1/assets?limit=100');
        await expectNoneOfB(empty, 'plain list');
        assert.equal(empty.body.data.length, 0);
        await expectNoneOfB(
          await asA('GET', `/v1/assets?starting_after=${bAssets.body.data[0].id}`),
          "B's cursor",
        );
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/customers/:id/grants',
    name: "A cannot grant to B's customer; B's asset keys and references mean nothing in A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      const body = {
        asset: 'usd_credit',
        amount: 100,
        reason: 'x',
        reference: b.credit.reference,
        source: { type: 'manual', actor: 'a' },
      };
      await unchangedForB(async () => {
        for (const ref of [b.customer.id, b.customer.external_id]) {
          expectNotFound(await asA('POST', `/v1/customers/${ref}/grants`, { body }), `B's customer ${ref}`);
        }
        const mine = await ownCustomer(ctx, b);
        expectNotFound(await asA('POST', `/v1/customers/${mine}/grants`, { body }), "B's asset key in A");
        await asA('POST', '/v1/assets', { body: ASSETS[0] });
        const granted = await asA('POST', `/v1/customers/${mine}/grants`, { body });
        assert.equal(granted.status, 201, "B's reference is free in A: a new grant, not B's");
        assert.notEqual(granted.body.id, b.credit.id);
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/customers/:id/consumptions',
    name: "A cannot consume B's units, by B's customer id or external id",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        for (const ref of [b.customer.id, b.customer.external_id]) {
          expectNotFound(
            await asA('POST', `/v1/customers/${ref}/consumptions`, {
              body: { asset: 'minutes', amount: 10 },
            }),
            `B's customer ${ref}`,
          );
        }
        const mine = await ownCustomer(ctx, b);
        await asA('POST', '/v1/assets', { body: ASSETS[1] });
        const res = await asA('POST', `/v1/customers/${mine}/consumptions`, {
          body: { asset: 'minutes', amount: 10 },
        });
        assert.equal(res.status, 409, "A's own customer has nothing; B's minutes are not reachable");
        assert.equal(res.body.error.code, 'insufficient_balance');
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/customers/:id/reversals',
    name: "A cannot reverse B's grants, through B's customer or its own",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(
          await asA('POST', `/v1/customers/${b.customer.id}/reversals`, { body: { grant: b.credit.id } }),
          "B's customer and grant",
        );
        const mine = await ownCustomer(ctx, b);
        for (const grant of [b.credit.id, b.credit.reference, b.minutes.id]) {
          expectNotFound(
            await asA('POST', `/v1/customers/${mine}/reversals`, { body: { grant } }),
            `B's grant ${grant}`,
          );
        }
      }, readsOf(b));
    },
  },
  {
    method: 'GET',
    url: '/v1/customers/:id/balances',
    name: "B's balances are a 404 for A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        for (const ref of [b.customer.id, b.customer.external_id]) {
          expectNotFound(await asA('GET', `/v1/customers/${ref}/balances`), `B's customer ${ref}`);
        }
        const mine = await ownCustomer(ctx, b);
        const res = await asA('GET', `/v1/customers/${mine}/balances`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.data, [], "A's namesake customer holds nothing of B's");
      }, readsOf(b));
    },
  },
  {
    method: 'GET',
    url: '/v1/customers/:id/ledger',
    name: "B's statement is a 404 for A, and B's entry ids are no cursor into it",
    async run(ctx) {
      const { asA, asB, expectNotFound, expectNoneOfB, unchangedForB } = ctx;
      const b = await seedB(ctx);
      const entries = await asB('GET', `/v1/customers/${b.customer.id}/ledger`);
      await unchangedForB(async () => {
        for (const ref of [b.customer.id, b.customer.external_id]) {
          expectNotFound(await asA('GET', `/v1/customers/${ref}/ledger`), `B's customer ${ref}`);
        }
        const mine = await ownCustomer(ctx, b);
        await expectNoneOfB(
          await asA('GET', `/v1/customers/${mine}/ledger?starting_after=${entries.body.data.at(-1).id}`),
          "B's cursor",
        );
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/invoices/settle',
    name: "A's settle never touches B's credit, and B's invoice id is A's own new invoice",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        const body = {
          invoice_id: b.invoice,
          customer: b.customer.id,
          currency: 'usd',
          subtotal_cents: 1200,
        };
        expectNotFound(await asA('POST', '/v1/invoices/settle', { body }), "B's customer");
        const mine = await ownCustomer(ctx, b);
        const res = await asA('POST', '/v1/invoices/settle', { body: { ...body, customer: mine } });
        assert.equal(res.status, 200, 'not a replay or a conflict with B');
        assert.equal(res.body.amount_due_cents, 1200, "B's credit is never applied to A's invoice");
        assert.deepEqual(res.body.credits, []);
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/invoices/:invoice_id/void',
    name: "A cannot void B's invoice",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('POST', `/v1/invoices/${b.invoice}/void`), "B's invoice");
      }, readsOf(b));
    },
  },
  {
    method: 'POST',
    url: '/v1/payouts',
    name: "A cannot request a payout from B's customer or commission",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        for (const customer of [b.customer.id, b.customer.external_id]) {
          expectNotFound(
            await asA('POST', '/v1/payouts', {
              body: { customer, asset: 'commission', amount: 500, destination: 'iban:A' },
            }),
            `B's customer ${customer}`,
          );
        }
        const mine = await ownCustomer(ctx, b);
        await asA('POST', '/v1/assets', { body: ASSETS[2] });
        const res = await asA('POST', '/v1/payouts', {
          body: { customer: mine, asset: 'commission', amount: 500, destination: 'iban:A' },
        });
        assert.equal(res.status, 409);
        assert.equal(res.body.error.code, 'insufficient_balance');
      }, readsOf(b));
    },
  },
  ...(['approve', 'reject', 'cancel'] as const).map((action): IsolationCase => ({
    method: 'POST',
    url: `/v1/payouts/:id/${action}`,
    name: `A cannot ${action} B's payouts`,
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      const body =
        action === 'approve'
          ? { approved_by: 'a@a.example' }
          : action === 'reject'
            ? { rejected_by: 'a@a.example' }
            : {};
      await unchangedForB(async () => {
        for (const id of [b.pending, b.paid]) {
          expectNotFound(await asA('POST', `/v1/payouts/${id}/${action}`, { body }), `B's payout ${id}`);
        }
      }, readsOf(b));
    },
  })),
  {
    method: 'GET',
    url: '/v1/payouts',
    name: "A's payout list, filters and cursor never show B's payouts",
    async run(ctx) {
      const { asA, expectNotFound, expectNoneOfB, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        const all = await asA('GET', '/v1/payouts?limit=100');
        await expectNoneOfB(all, 'plain list');
        assert.equal(all.body.data.length, 0);
        await expectNoneOfB(await asA('GET', '/v1/payouts?status=pending'), 'by status');
        await expectNoneOfB(await asA('GET', `/v1/payouts?starting_after=${b.paid}`), "B's cursor");
        expectNotFound(await asA('GET', `/v1/payouts?customer=${b.customer.id}`), "filtered by B's customer");
      }, readsOf(b));
    },
  },
  {
    method: 'GET',
    url: '/v1/payouts/:id',
    name: "B's payouts are a 404 for A",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const b = await seedB(ctx);
      await unchangedForB(async () => {
        for (const id of [b.pending, b.paid])
          expectNotFound(await asA('GET', `/v1/payouts/${id}`), `B's payout ${id}`);
      }, readsOf(b));
    },
  },
];
