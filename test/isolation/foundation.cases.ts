import assert from 'node:assert/strict';
import type { IsolationCase, IsolationContext } from '../helpers/isolation.js';

/** Tenant-isolation cases for the foundation routes: customers and billing events. */

const AT = '2026-01-10T12:00:00Z';
const LATER = '2026-01-11T12:00:00Z';

/** B's customer with a card, a subscription and a payment, all made through B's own events. */
async function seedB({ asB, unique }: IsolationContext) {
  const externalId = unique('team');
  const subscription = unique('sub');
  const payment = unique('pay');
  const created = await asB('POST', '/v1/customers', {
    body: {
      external_id: externalId,
      email: 'owner@b.example',
      name: 'B team',
      metadata: { tier: 'gold' },
    },
  });
  assert.equal(created.status, 201);
  const events = await asB('POST', '/v1/events', {
    body: {
      events: [
        {
          id: unique('evt'),
          type: 'card.attached',
          occurred_at: AT,
          data: {
            customer: externalId,
            payment_method: { fingerprint: unique('fp'), last4: '4242' },
          },
        },
        {
          id: unique('evt'),
          type: 'subscription.updated',
          occurred_at: AT,
          data: {
            customer: externalId,
            subscription: {
              id: subscription,
              plan_id: 'pro',
              interval: 'month',
              status: 'active',
              current_period_start: AT,
              current_period_end: '2026-02-10T12:00:00Z',
              amount: 2900,
              currency: 'usd',
            },
          },
        },
        {
          id: unique('evt'),
          type: 'payment.succeeded',
          occurred_at: AT,
          data: {
            customer: externalId,
            payment: {
              id: payment,
              amount: 2900,
              currency: 'usd',
              subscription,
            },
          },
        },
      ],
    },
  });
  assert.equal(events.status, 200, JSON.stringify(events.body));
  const eventIds = (events.body.data as { event_id: string }[]).map((e) => e.event_id);
  return {
    customer: created.body as { id: string; external_id: string },
    subscription,
    payment,
    eventIds,
  };
}

const readsOf = (customer: { id: string; external_id: string }) => [
  `/v1/customers/${customer.id}`,
  `/v1/customers/${customer.external_id}`,
  '/v1/customers?limit=100',
  '/v1/events?limit=100',
];

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/customers',
    name: "upserting B's external_id creates A's own customer and leaves B's untouched",
    async run(ctx) {
      const { asA, unchangedForB } = ctx;
      const { customer } = await seedB(ctx);
      await unchangedForB(async () => {
        const mine = await asA('POST', '/v1/customers', {
          body: {
            external_id: customer.external_id,
            email: 'intruder@a.example',
            metadata: { tier: 'none' },
          },
        });
        assert.equal(mine.status, 201, 'a new customer in A, not an update of B');
        assert.notEqual(mine.body.id, customer.id);
        assert.equal(mine.body.email, 'intruder@a.example');
        assert.deepEqual(mine.body.payment_methods, [], "B's card is not visible through A's customer");
        assert.deepEqual(mine.body.subscriptions, []);
        const again = await asA('POST', '/v1/customers', {
          body: { external_id: customer.external_id, name: 'still A' },
        });
        assert.equal(again.status, 200);
        assert.equal(again.body.id, mine.body.id);
      }, readsOf(customer));
    },
  },
  {
    method: 'POST',
    url: '/v1/customers',
    name: "B's Perks id used as an external_id or a parent reaches nothing of B",
    async run(ctx) {
      const { asA, unchangedForB, unique } = ctx;
      const { customer } = await seedB(ctx);
      await unchangedForB(async () => {
        const named = await asA('POST', '/v1/customers', {
          body: { external_id: customer.id },
        });
        assert.equal(named.status, 201, "B's id is only a string to A");
        assert.notEqual(named.body.id, customer.id);
        for (const parent of [customer.external_id, customer.id]) {
          const child = await asA('POST', '/v1/customers', {
            body: { external_id: unique('child'), parent_customer_id: parent },
          });
          if (parent === customer.id) {
            // A now has a customer whose external_id is this string: it is A's own, never B's.
            assert.equal(child.status, 201);
            assert.equal(child.body.parent_customer_id, named.body.id);
          } else {
            assert.equal(child.status, 400, JSON.stringify(child.body));
            assert.equal(child.body.error.code, 'customer_parent_invalid');
          }
        }
      }, readsOf(customer));
    },
  },
  {
    method: 'POST',
    url: '/v1/customers',
    name: "B's Idempotency-Key neither replays B's response to A nor blocks A",
    async run(ctx) {
      const { asA, asB, unchangedForB, unique } = ctx;
      const key = unique('idem');
      const externalId = unique('team');
      const first = await asB('POST', '/v1/customers', {
        body: { external_id: externalId, email: 'b@b.example' },
        headers: { 'idempotency-key': key },
      });
      assert.equal(first.status, 201);
      await unchangedForB(async () => {
        const mine = await asA('POST', '/v1/customers', {
          body: { external_id: externalId, email: 'b@b.example' },
          headers: { 'idempotency-key': key },
        });
        assert.equal(mine.status, 201, 'the same key and body run afresh in A');
        assert.equal(mine.headers['idempotent-replayed'], undefined);
        assert.notEqual(mine.body.id, first.body.id);
        const reused = await asA('POST', '/v1/customers', {
          body: { external_id: unique('other') },
          headers: { 'idempotency-key': key },
        });
        assert.equal(reused.status, 409, "A's own first use of the key conflicts, not B's");
        assert.equal(reused.body.error.code, 'idempotency_key_reused');
      }, readsOf(first.body));
    },
  },
  {
    method: 'GET',
    url: '/v1/customers',
    name: "A's list, filters and cursors never show B's customers",
    async run(ctx) {
      const { asA, expectNoneOfB, unchangedForB } = ctx;
      const { customer } = await seedB(ctx);
      await unchangedForB(async () => {
        await expectNoneOfB(await asA('GET', '/v1/customers?limit=100'), 'plain list');
        const byEmail = await asA('GET', '/v1/customers?email=owner%40b.example');
        await expectNoneOfB(byEmail, "filtered by B's email");
        assert.equal(byEmail.body.data.length, 0);
        const mine = await asA('POST', '/v1/customers', {
          body: { external_id: 'a_own' },
        });
        assert.equal(mine.status, 201);
        const after = await asA('GET', `/v1/customers?limit=100&starting_after=${customer.id}`);
        await expectNoneOfB(after, "with B's id as the cursor");
        const all = await asA('GET', '/v1/customers?limit=100');
        assert.deepEqual(
          all.body.data.map((c: { external_id: string }) => c.external_id),
          ['a_own'],
          'A sees exactly its own customers',
        );
      }, readsOf(customer));
    },
  },
  {
    method: 'GET',
    url: '/v1/customers/:id',
    name: "B's customer is a 404 for A by Perks id and by external_id",
    async run(ctx) {
      const { asA, expectNotFound, unchangedForB } = ctx;
      const { customer } = await seedB(ctx);
      await unchangedForB(async () => {
        expectNotFound(await asA('GET', `/v1/customers/${customer.id}`), "B's Perks id");
        expectNotFound(await asA('GET', `/v1/customers/${customer.external_id}`), "B's external_id");
        expectNotFound(
          await asA('GET', `/v1/customers/${encodeURIComponent(customer.external_id)}`),
          "B's external_id, encoded",
        );
      }, readsOf(customer));
    },
  },
  {
    method: 'POST',
    url: '/v1/events',
    name: "A's events naming B's customer, subscription and payment affect nothing of B",
    async run(ctx) {
      const { asA, unchangedForB, unique } = ctx;
      const { customer, subscription, payment } = await seedB(ctx);
      await unchangedForB(async () => {
        for (const ref of [customer.external_id, customer.id]) {
          const res = await asA('POST', '/v1/events', {
            body: {
              events: [
                {
                  id: unique('a_evt'),
                  type: 'card.attached',
                  occurred_at: LATER,
                  data: {
                    customer: ref,
                    payment_method: { fingerprint: unique('fp_a') },
                  },
                },
                {
                  id: unique('a_evt'),
                  type: 'subscription.canceled',
                  occurred_at: LATER,
                  data: { customer: ref, subscription: { id: subscription } },
                },
                {
                  id: unique('a_evt'),
                  type: 'payment.refunded',
                  occurred_at: LATER,
                  data: { customer: ref, payment: { id: payment } },
                },
                {
                  id: unique('a_evt'),
                  type: 'customer.created',
                  occurred_at: LATER,
                  data: {
                    customer: { external_id: ref, email: 'hijack@a.example' },
                  },
                },
              ],
            },
          });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          for (const r of res.body.data) {
            assert.equal(r.duplicate, false);
            assert.equal(r.outcome, 'applied');
          }
          // A's facts landed on A's own customer of that name.
          const mine = await asA('GET', `/v1/customers/${encodeURIComponent(ref)}`);
          assert.equal(mine.status, 200);
          assert.notEqual(mine.body.id, customer.id);
          assert.equal(mine.body.email, 'hijack@a.example');
          assert.equal(mine.body.payment_methods.length, 1);
          // The subscription id is A's own after the first round; it stays with A's first customer.
          if (ref === customer.external_id) assert.equal(mine.body.subscriptions[0]?.status, 'canceled');
        }
      }, readsOf(customer));
    },
  },
  {
    method: 'POST',
    url: '/v1/events',
    name: "an event of A with B's event id is not a duplicate",
    async run(ctx) {
      const { asA, unchangedForB } = ctx;
      const { customer, eventIds } = await seedB(ctx);
      const taken = eventIds[0]!;
      await unchangedForB(async () => {
        const single = await asA('POST', '/v1/events', {
          body: {
            id: taken,
            type: 'customer.created',
            occurred_at: AT,
            data: { customer: { external_id: 'a_team' } },
          },
        });
        assert.equal(single.status, 200, JSON.stringify(single.body));
        assert.equal(single.body.duplicate, false, "B's event id is free in A");
        assert.equal(single.body.outcome, 'applied');
        const batch = await asA('POST', '/v1/events', {
          body: {
            events: eventIds.slice(1).map((id) => ({
              id,
              type: 'payment.disputed',
              occurred_at: AT,
              data: { customer: 'a_team', payment: { id: 'a_pay' } },
            })),
          },
        });
        assert.equal(batch.status, 200, JSON.stringify(batch.body));
        assert.deepEqual(
          batch.body.data.map((r: { duplicate: boolean }) => r.duplicate),
          [false, false],
        );
        const again = await asA('POST', '/v1/events', {
          body: {
            id: taken,
            type: 'customer.created',
            occurred_at: AT,
            data: { customer: { external_id: 'a_team' } },
          },
        });
        assert.equal(again.body.duplicate, true, "A's own repeat is A's duplicate");
      }, readsOf(customer));
    },
  },
  {
    method: 'GET',
    url: '/v1/events',
    name: "A's event list, type filter and cursor never show B's events",
    async run(ctx) {
      const { asA, asB, expectNoneOfB, unchangedForB } = ctx;
      const { customer } = await seedB(ctx);
      const bEvents = await asB('GET', '/v1/events?limit=100');
      assert.equal(bEvents.body.data.length, 3);
      await unchangedForB(async () => {
        const empty = await asA('GET', '/v1/events?limit=100');
        await expectNoneOfB(empty, 'plain list');
        assert.equal(empty.body.data.length, 0);
        await expectNoneOfB(await asA('GET', '/v1/events?type=payment.succeeded'), 'filtered by type');
        const cursor = bEvents.body.data.at(-1).id;
        await expectNoneOfB(await asA('GET', `/v1/events?starting_after=${cursor}`), "B's cursor");
      }, readsOf(customer));
    },
  },
  {
    method: 'GET',
    url: '/v1/openapi.json',
    name: 'the public API document is the same for every caller and holds no tenant data',
    async run(ctx) {
      const { asA, asB, h, unchangedForB } = ctx;
      const { customer } = await seedB(ctx);
      await unchangedForB(async () => {
        const forA = await asA('GET', '/v1/openapi.json');
        assert.equal(forA.status, 200);
        const forB = await asB('GET', '/v1/openapi.json');
        const anonymous = await h.request('GET', '/v1/openapi.json', {
          key: null,
        });
        assert.deepEqual(forA.body, forB.body);
        assert.deepEqual(forA.body, anonymous.body);
        const text = JSON.stringify(forA.body);
        assert.ok(!text.includes(customer.external_id) && !text.includes(customer.id));
      }, readsOf(customer));
    },
  },
];
