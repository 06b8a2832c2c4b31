/**
 * Provider-neutral billing events (POST /v1/events): batches and their limit, duplicates, late and
 * out-of-order facts, atomic batches, and bad input that must be refused with nothing written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_EVENT_CLOCK_SKEW_MS } from '../src/app/events.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { workspaceState } from './helpers/isolation.js';
import { storeCases } from './helpers/stores.js';

const T1 = '2026-01-01T00:00:00Z';
const T2 = '2026-01-02T00:00:00Z';
const T3 = '2026-01-03T00:00:00Z';

const customerCreated = (
  id: string,
  externalId: string,
  at: string,
  fields: Record<string, unknown> = {},
) => ({
  id,
  type: 'customer.created',
  occurred_at: at,
  data: { customer: { external_id: externalId, ...fields } },
});

const cardAttached = (id: string, customer: string, fingerprint: string, at: string) => ({
  id,
  type: 'card.attached',
  occurred_at: at,
  data: {
    customer,
    payment_method: { fingerprint, brand: 'visa', last4: '4242' },
  },
});

const paymentSucceeded = (id: string, customer: string, payment: string, at: string, amount = 2900) => ({
  id,
  type: 'payment.succeeded',
  occurred_at: at,
  data: {
    customer,
    payment: { id: payment, amount, currency: 'usd', interval: 'month' },
  },
});

const subscriptionUpdated = (
  id: string,
  customer: string,
  subscription: string,
  at: string,
  fields: { plan_id: string; status: string; amount: number },
) => ({
  id,
  type: 'subscription.updated',
  occurred_at: at,
  data: {
    customer,
    subscription: {
      id: subscription,
      interval: 'month',
      current_period_start: T1,
      current_period_end: '2026-02-01T00:00:00Z',
      currency: 'usd',
      ...fields,
    },
  },
});

for (const store of storeCases()) {
  describe(`billing events (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    /** A fresh workspace per test, so "nothing written" can be checked on the whole workspace. */
    async function workspace() {
      const ws = await h.newWorkspace('events');
      const send = (body: unknown) => h.request('POST', '/v1/events', { key: ws.key, body });
      const sendRaw = (rawBody: string) => h.request('POST', '/v1/events', { key: ws.key, rawBody });
      const get = (url: string) => h.request('GET', url, { key: ws.key });
      const allEvents = async () => {
        const out: { event_id: string; outcome: string; type: string }[] = [];
        let url = '/v1/events?limit=100';
        for (;;) {
          const page = await get(url);
          assert.equal(page.status, 200);
          out.push(...page.body.data);
          if (!page.body.has_more) return out;
          url = `/v1/events?limit=100&starting_after=${page.body.data.at(-1).id}`;
        }
      };
      const state = () => workspaceState(h.db, ws.workspaceId);
      return { ...ws, send, sendRaw, get, allEvents, state };
    }

    async function paymentRow(workspaceId: string, externalId: string) {
      const [row] = await h.db.query<{
        status: string;
        amount: number | null;
        amount_refunded: number;
      }>(
        'select status, amount, amount_refunded from payments where workspace_id = $1 and external_id = $2',
        [workspaceId, externalId],
      );
      return row;
    }

    it('accepts one event and answers with its result', async () => {
      const ws = await workspace();
      const res = await ws.send(customerCreated('evt_1', 'team_1', T1, { email: 'ops@team1.example' }));
      assert.equal(res.status, 200);
      assert.equal(res.body.object, 'event');
      assert.match(res.body.id, /^evt_[0-9a-z]{26}$/);
      assert.equal(res.body.event_id, 'evt_1');
      assert.equal(res.body.type, 'customer.created');
      assert.equal(res.body.occurred_at, '2026-01-01T00:00:00.000Z');
      assert.equal(res.body.duplicate, false);
      assert.equal(res.body.outcome, 'applied');
      const customer = await ws.get('/v1/customers/team_1');
      assert.equal(customer.body.email, 'ops@team1.example');
    });

    it('accepts a batch of 1,000 events and refuses 1,001 with a typed 400 naming the limit', async () => {
      const ws = await workspace();
      const batch = (n: number, prefix: string) =>
        Array.from({ length: n }, (_, i) =>
          i % 2 === 0
            ? customerCreated(`${prefix}_${i}`, `team_${i}`, T1)
            : paymentSucceeded(`${prefix}_${i}`, `team_${i - 1}`, `pay_${prefix}_${i}`, T1),
        );
      const tooMany = await ws.send({ events: batch(1001, 'big') });
      assert.equal(tooMany.status, 400, JSON.stringify(tooMany.body).slice(0, 300));
      assert.equal(tooMany.body.error.code, 'parameter_invalid');
      assert.equal(tooMany.body.error.param, 'events');
      assert.match(tooMany.body.error.message, /at most 1000 events/);
      assert.equal((await ws.allEvents()).length, 0, 'the refused batch wrote nothing');

      const full = await ws.send({ events: batch(1000, 'full') });
      assert.equal(full.status, 200);
      assert.equal(full.body.object, 'list');
      assert.equal(full.body.data.length, 1000);
      assert.deepEqual(
        full.body.data.map((r: { event_id: string }) => r.event_id),
        batch(1000, 'full').map((e) => e.id),
        'results come back in the order sent',
      );
      assert.ok(full.body.data.every((r: { duplicate: boolean }) => !r.duplicate));
      assert.equal((await ws.allEvents()).length, 1000);
      const customers = await ws.get('/v1/customers?limit=100');
      assert.equal(customers.body.data.length, 100);
      assert.equal(customers.body.has_more, true);
    });

    it('answers a duplicate with 200 duplicate: true and changes nothing, even with other content', async () => {
      const ws = await workspace();
      const first = await ws.send(paymentSucceeded('evt_dup', 'team_dup', 'pay_dup', T1, 1000));
      assert.equal(first.status, 200);
      const before = await ws.state();
      for (const body of [
        paymentSucceeded('evt_dup', 'team_dup', 'pay_dup', T1, 1000),
        paymentSucceeded('evt_dup', 'team_other', 'pay_other', T2, 5000),
      ]) {
        const again = await ws.send(body);
        assert.equal(again.status, 200);
        assert.equal(again.body.duplicate, true);
        assert.equal(again.body.id, first.body.id, 'the first delivery is named');
        assert.equal(again.body.type, 'payment.succeeded');
      }
      assert.deepEqual(await ws.state(), before, 'nothing changed');
      assert.equal((await paymentRow(ws.workspaceId, 'pay_dup'))!.amount, 1000);
      assert.equal((await ws.get('/v1/customers/team_other')).status, 404);
    });

    it('spots duplicates inside one batch and across batches', async () => {
      const ws = await workspace();
      const inOne = await ws.send({
        events: [
          cardAttached('evt_a', 'team_b', 'fp_1', T1),
          cardAttached('evt_a', 'team_b', 'fp_2', T2),
          cardAttached('evt_b', 'team_b', 'fp_3', T2),
        ],
      });
      assert.equal(inOne.status, 200);
      assert.deepEqual(
        inOne.body.data.map((r: { duplicate: boolean }) => r.duplicate),
        [false, true, false],
      );
      assert.equal(inOne.body.data[1].id, inOne.body.data[0].id);
      const across = await ws.send({
        events: [cardAttached('evt_b', 'team_b', 'fp_4', T3), cardAttached('evt_c', 'team_b', 'fp_5', T3)],
      });
      assert.deepEqual(
        across.body.data.map((r: { duplicate: boolean }) => r.duplicate),
        [true, false],
      );
      const customer = await ws.get('/v1/customers/team_b');
      assert.deepEqual(
        customer.body.payment_methods.map((p: { fingerprint: string }) => p.fingerprint).sort(),
        ['fp_1', 'fp_3', 'fp_5'],
        'the duplicates attached no card',
      );
      assert.equal((await ws.allEvents()).length, 3);
    });

    it('does not roll a subscription back with a late subscription.updated', async () => {
      const ws = await workspace();
      const newer = await ws.send(
        subscriptionUpdated('evt_new', 'team_s', 'sub_1', T2, {
          plan_id: 'pro',
          status: 'active',
          amount: 4900,
        }),
      );
      assert.equal(newer.body.outcome, 'applied');
      const late = await ws.send(
        subscriptionUpdated('evt_old', 'team_s', 'sub_1', T1, {
          plan_id: 'basic',
          status: 'trialing',
          amount: 900,
        }),
      );
      assert.equal(late.status, 200);
      assert.equal(late.body.outcome, 'stale');
      assert.equal(late.body.duplicate, false);
      const [sub] = (await ws.get('/v1/customers/team_s')).body.subscriptions;
      assert.equal(sub.plan_id, 'pro');
      assert.equal(sub.status, 'active');
      assert.equal(sub.amount, 4900);
      // A cancellation is a fact too: an update older than it does not revive the subscription.
      await ws.send({
        id: 'evt_cancel',
        type: 'subscription.canceled',
        occurred_at: T3,
        data: { customer: 'team_s', subscription: { id: 'sub_1' } },
      });
      const revive = await ws.send(
        subscriptionUpdated('evt_revive', 'team_s', 'sub_1', T2, {
          plan_id: 'pro',
          status: 'active',
          amount: 4900,
        }),
      );
      assert.equal(revive.body.outcome, 'stale');
      const [after] = (await ws.get('/v1/customers/team_s')).body.subscriptions;
      assert.equal(after.status, 'canceled');
      assert.equal(after.canceled_at, '2026-01-03T00:00:00.000Z');
      const outcomes = Object.fromEntries((await ws.allEvents()).map((e) => [e.event_id, e.outcome]));
      assert.deepEqual(outcomes, {
        evt_new: 'applied',
        evt_old: 'stale',
        evt_cancel: 'applied',
        evt_revive: 'stale',
      });
    });

    it('keeps newer customer facts when customer.created arrives late', async () => {
      const ws = await workspace();
      await ws.send(
        customerCreated('evt_c2', 'team_c', T2, {
          email: 'new@c.example',
          name: 'New',
        }),
      );
      const late = await ws.send(
        customerCreated('evt_c1', 'team_c', T1, {
          email: 'old@c.example',
          name: 'Old',
        }),
      );
      assert.equal(late.body.outcome, 'stale');
      const customer = await ws.get('/v1/customers/team_c');
      assert.equal(customer.body.email, 'new@c.example');
      assert.equal(customer.body.name, 'New');
      // A customer written through the API holds the state as of the call; an older event does not undo it.
      h.clock.set('2026-01-05T00:00:00Z');
      const api = await h.request('POST', '/v1/customers', {
        key: ws.key,
        body: { external_id: 'team_api', email: 'api@c.example' },
      });
      assert.equal(api.status, 201);
      const older = await ws.send(
        customerCreated('evt_api', 'team_api', T3, {
          email: 'event@c.example',
        }),
      );
      assert.equal(older.body.outcome, 'stale');
      assert.equal((await ws.get('/v1/customers/team_api')).body.email, 'api@c.example');
    });

    it('keeps a refund when payment.succeeded arrives after payment.refunded', async () => {
      const ws = await workspace();
      const refunded = await ws.send({
        id: 'evt_refund',
        type: 'payment.refunded',
        occurred_at: T2,
        data: {
          customer: 'team_p',
          payment: { id: 'pay_1', amount_refunded: 2900 },
        },
      });
      assert.equal(refunded.status, 200);
      const succeeded = await ws.send(paymentSucceeded('evt_paid', 'team_p', 'pay_1', T1, 2900));
      assert.equal(succeeded.status, 200);
      const row = await paymentRow(ws.workspaceId, 'pay_1');
      assert.equal(row!.status, 'refunded', 'the late success did not roll the refund back');
      assert.equal(row!.amount, 2900, 'the late success still fills in what was unknown');
      assert.equal(row!.amount_refunded, 2900);
      // And in the usual order, too.
      await ws.send(paymentSucceeded('evt_paid_2', 'team_p', 'pay_2', T1, 1500));
      await ws.send({
        id: 'evt_refund_2',
        type: 'payment.refunded',
        occurred_at: T2,
        data: { customer: 'team_p', payment: { id: 'pay_2' } },
      });
      const second = await paymentRow(ws.workspaceId, 'pay_2');
      assert.equal(second!.status, 'refunded');
      assert.equal(second!.amount_refunded, 1500, 'a refund without an amount refunds it all');
    });

    it('keeps a card attached before its customer.created arrived', async () => {
      const ws = await workspace();
      const card = await ws.send(cardAttached('evt_card', 'team_early', 'fp_early', T2));
      assert.equal(card.body.outcome, 'applied');
      const created = await ws.send(
        customerCreated('evt_created', 'team_early', T1, {
          email: 'early@x.example',
          name: 'Early',
        }),
      );
      assert.equal(created.status, 200);
      assert.equal(created.body.outcome, 'applied', 'the bare record made for the card is filled in');
      const customer = await ws.get('/v1/customers/team_early');
      assert.equal(customer.body.email, 'early@x.example');
      assert.equal(customer.body.name, 'Early');
      assert.equal(customer.body.payment_methods.length, 1);
      assert.equal(customer.body.payment_methods[0].fingerprint, 'fp_early');
      assert.equal(customer.body.payment_methods[0].first, true);
      const list = await ws.get('/v1/customers');
      assert.equal(list.body.data.length, 1, 'one customer, not a second one for the late creation');
    });

    it('writes nothing from a batch with one invalid event, naming events[i]', async () => {
      const ws = await workspace();
      const valid = [
        customerCreated('evt_ok_1', 'team_ok', T1),
        cardAttached('evt_ok_2', 'team_ok', 'fp_ok', T1),
      ];
      const shapeError = await ws.send({
        events: [...valid, paymentSucceeded('evt_bad', 'team_ok', 'pay_bad', T1, -5)],
      });
      assert.equal(shapeError.status, 400);
      assert.equal(shapeError.body.error.code, 'parameter_invalid');
      assert.equal(shapeError.body.error.param, 'events[2].data.payment.amount');
      assert.match(shapeError.body.error.message, /must be from 1 to 1000000000000/);
      // Valid in shape, refused while applying: the events before it are rolled back with it.
      const domainError = await ws.send({
        events: [
          ...valid,
          customerCreated('evt_bad_parent', 'team_child', T1, {
            parent_customer_id: 'ghost',
          }),
        ],
      });
      assert.equal(domainError.status, 400);
      assert.equal(domainError.body.error.code, 'customer_parent_invalid');
      assert.equal(domainError.body.error.param, 'events[2].data.customer.parent_customer_id');
      assert.match(domainError.body.error.message, /^event 2 \('evt_bad_parent'\)/);
      assert.deepEqual(await ws.allEvents(), []);
      assert.equal((await ws.get('/v1/customers')).body.data.length, 0);
      // The same batch, corrected, goes through: the refused attempts left no duplicates behind.
      const fixed = await ws.send({ events: valid });
      assert.deepEqual(
        fixed.body.data.map((r: { duplicate: boolean }) => r.duplicate),
        [false, false],
      );
    });

    it('refuses bad input with a typed 4xx naming the problem, and writes nothing', async () => {
      const ws = await workspace();
      const good = paymentSucceeded('evt_in', 'team_in', 'pay_in', T1);
      const withPayment = (payment: Record<string, unknown>) => ({
        ...good,
        data: { ...good.data, payment: { ...good.data.payment, ...payment } },
      });
      const cases: {
        label: string;
        body?: unknown;
        raw?: string;
        code: string;
        param: string | null;
        message: RegExp;
      }[] = [
        {
          label: 'malformed JSON',
          raw: '{"id": "evt", "type": ',
          code: 'body_malformed',
          param: null,
          message: /not valid JSON/,
        },
        {
          label: 'a JSON array',
          body: [good],
          code: 'parameter_invalid',
          param: 'body',
          message: /expected object/,
        },
        {
          label: 'amount as a string',
          body: withPayment({ amount: '2900' }),
          code: 'parameter_invalid',
          param: 'data.payment.amount',
          message: /integer amount in minor units/,
        },
        {
          label: 'occurred_at as a number',
          body: { ...good, occurred_at: 1767225600 },
          code: 'parameter_invalid',
          param: 'occurred_at',
          message: /ISO 8601/,
        },
        {
          label: 'data as an array',
          body: { ...good, data: [] },
          code: 'parameter_invalid',
          param: 'data',
          message: /expected object/,
        },
        {
          label: 'id as a number',
          body: { ...good, id: 42 },
          code: 'parameter_invalid',
          param: 'id',
          message: /expected string/,
        },
        {
          label: 'an unknown top-level field',
          body: { ...good, livemode: true },
          code: 'parameter_unknown',
          param: 'livemode',
          message: /unknown field 'livemode'/,
        },
        {
          label: 'an unknown nested field',
          body: withPayment({ tax: 10 }),
          code: 'parameter_unknown',
          param: 'data.payment.tax',
          message: /unknown field/,
        },
        {
          label: 'a negative amount',
          body: withPayment({ amount: -100 }),
          code: 'parameter_invalid',
          param: 'data.payment.amount',
          message: /must be from 1 to 1000000000000/,
        },
        {
          label: 'a zero payment',
          body: withPayment({ amount: 0 }),
          code: 'parameter_invalid',
          param: 'data.payment.amount',
          message: /must be from 1 to 1000000000000/,
        },
        {
          label: 'a fractional amount',
          body: withPayment({ amount: 29.99 }),
          code: 'parameter_invalid',
          param: 'data.payment.amount',
          message: /not a fraction/,
        },
        {
          label: 'an amount past the limit',
          body: withPayment({ amount: 1e12 + 1 }),
          code: 'parameter_invalid',
          param: 'data.payment.amount',
          message: /from 1 to 1000000000000/,
        },
        {
          label: 'an unknown currency',
          body: withPayment({ currency: 'xyz' }),
          code: 'parameter_invalid',
          param: 'data.payment.currency',
          message: /not a known ISO 4217/,
        },
        {
          label: 'an upper-case currency',
          body: withPayment({ currency: 'USD' }),
          code: 'parameter_invalid',
          param: 'data.payment.currency',
          message: /lower-case ISO 4217/,
        },
        {
          label: 'an unknown event type',
          body: { ...good, type: 'payment.exploded' },
          code: 'parameter_invalid',
          param: 'type',
          message: /must be one of: customer\.created, card\.attached/,
        },
        {
          label: 'a date without a time',
          body: { ...good, occurred_at: '2026-01-01' },
          code: 'parameter_invalid',
          param: 'occurred_at',
          message: /ISO 8601 date-time with a time zone/,
        },
        {
          label: 'a date-time without a zone',
          body: { ...good, occurred_at: '2026-01-01T00:00:00' },
          code: 'parameter_invalid',
          param: 'occurred_at',
          message: /time zone/,
        },
        {
          label: 'a US-style date',
          body: { ...good, occurred_at: '01/02/2026' },
          code: 'parameter_invalid',
          param: 'occurred_at',
          message: /ISO 8601/,
        },
        {
          label: 'an impossible date',
          body: { ...good, occurred_at: '2026-02-30T00:00:00Z' },
          code: 'parameter_invalid',
          param: 'occurred_at',
          message: /ISO 8601/,
        },
        {
          label: 'a bad period date',
          body: withPayment({ period_start: 'yesterday' }),
          code: 'parameter_invalid',
          param: 'data.payment.period_start',
          message: /ISO 8601/,
        },
        {
          label: 'a missing id',
          body: { ...good, id: undefined },
          code: 'parameter_missing',
          param: 'id',
          message: /'id' is required/,
        },
        {
          label: 'a missing customer',
          body: { ...good, data: { payment: good.data.payment } },
          code: 'parameter_missing',
          param: 'data.customer',
          message: /required/,
        },
        {
          label: 'an id with spaces',
          body: { ...good, id: 'evt one' },
          code: 'parameter_invalid',
          param: 'id',
          message: /printable ASCII/,
        },
        {
          label: 'an empty batch',
          body: { events: [] },
          code: 'parameter_invalid',
          param: 'events',
          message: /at least one event/,
        },
        {
          label: 'events not a list',
          body: { events: good },
          code: 'parameter_invalid',
          param: 'events',
          message: /expected array/,
        },
        {
          label: 'a NUL in a text field',
          body: cardAttached('evt_nul', 'team_in', 'fp', T1),
          code: 'parameter_invalid',
          param: 'data.payment_method.brand',
          message: /NUL/,
        },
      ];
      const nul = cases.at(-1)!;
      (nul.body as { data: { payment_method: { brand: string } } }).data.payment_method.brand = 'vi\u0000sa';
      for (const c of cases) {
        const res = c.raw !== undefined ? await ws.sendRaw(c.raw) : await ws.send(c.body);
        assert.ok(res.status >= 400 && res.status < 500, `${c.label}: ${res.status}`);
        assert.equal(res.body.error.code, c.code, `${c.label}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.param, c.param, `${c.label}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, c.message, `${c.label}: ${res.body.error.message}`);
      }
      assert.deepEqual(await ws.allEvents(), [], 'no event was stored');
      assert.equal((await ws.get('/v1/customers')).body.data.length, 0, 'no customer was made');
      const state = await ws.state();
      for (const [table, rows] of Object.entries(state)) {
        if (table === 'api_keys' || table === 'workspaces') continue;
        assert.deepEqual(rows, [], `${table} holds rows after refused requests`);
      }
      // The good event itself is accepted, so the refusals were about the faults, not the event.
      assert.equal((await ws.send(good)).status, 200);
    });

    it('.error refuses an occurred_at beyond the clock-skew allowance, single or in a batch, writing nothing', async () => {
      const ws = await workspace();
      const now = h.clock.now();
      const skew = MAX_EVENT_CLOCK_SKEW_MS;
      const later = (ms: number) => new Date(now.getTime() + ms).toISOString();
      const limit = later(skew);
      const future = subscriptionUpdated('evt_future', 'team_f', 'sub_f', '9999-12-31T00:00:00Z', {
        plan_id: 'pro',
        status: 'active',
        amount: 4900,
      });
      const single = await ws.send(future);
      assert.equal(single.status, 400);
      assert.equal(single.body.error.code, 'parameter_invalid');
      assert.equal(single.body.error.param, 'occurred_at');
      assert.ok(single.body.error.message.includes(limit), single.body.error.message);
      assert.ok(single.body.error.message.includes(now.toISOString()), single.body.error.message);
      // One event past the limit by a second refuses the whole batch, valid events and all.
      const batch = await ws.send({
        events: [
          customerCreated('evt_f_ok', 'team_f', T1),
          paymentSucceeded('evt_f_pay', 'team_f', 'pay_f', later(skew + 1000)),
        ],
      });
      assert.equal(batch.status, 400);
      assert.equal(batch.body.error.code, 'parameter_invalid');
      assert.equal(batch.body.error.param, 'events[1].occurred_at');
      assert.match(batch.body.error.message, /^event 1 \('evt_f_pay'\)/);
      assert.deepEqual(await ws.allEvents(), []);
      assert.equal((await ws.get('/v1/customers')).body.data.length, 0);
      // Within the allowance is clock skew, accepted; the refused far-future update did not make
      // the real one stale.
      const skewed = await ws.send(
        subscriptionUpdated('evt_skewed', 'team_f', 'sub_f', later(skew - 1000), {
          plan_id: 'basic',
          status: 'active',
          amount: 900,
        }),
      );
      assert.equal(skewed.status, 200);
      assert.equal(skewed.body.outcome, 'applied');
      // Period instants are not bounded by the clock: a period ending years ahead is fine.
      const longPeriod = await ws.send({
        ...paymentSucceeded('evt_f_long', 'team_f', 'pay_long', T1),
        data: {
          customer: 'team_f',
          payment: {
            id: 'pay_long',
            amount: 2900,
            currency: 'usd',
            period_start: T1,
            period_end: '2099-01-01T00:00:00Z',
          },
        },
      });
      assert.equal(longPeriod.status, 200);
    });

    it('.error refuses a billing period that ends before it starts, naming the end field, writing nothing', async () => {
      const ws = await workspace();
      const backwardsSub = subscriptionUpdated('evt_back_sub', 'team_b', 'sub_b', T1, {
        plan_id: 'pro',
        status: 'active',
        amount: 4900,
      });
      backwardsSub.data.subscription.current_period_start = '2026-02-01T00:00:00Z';
      backwardsSub.data.subscription.current_period_end = T1;
      const backwardsPay = {
        ...paymentSucceeded('evt_back_pay', 'team_b', 'pay_b', T1),
        data: {
          customer: 'team_b',
          payment: {
            id: 'pay_b',
            amount: 2900,
            currency: 'usd',
            period_start: '2026-02-01T00:00:00Z',
            period_end: T1,
          },
        },
      };
      const sub = await ws.send(backwardsSub);
      assert.equal(sub.status, 400);
      assert.equal(sub.body.error.code, 'parameter_invalid');
      assert.equal(sub.body.error.param, 'data.subscription.current_period_end');
      assert.match(sub.body.error.message, /must not be before current_period_start/);
      const pay = await ws.send(backwardsPay);
      assert.equal(pay.status, 400);
      assert.equal(pay.body.error.code, 'parameter_invalid');
      assert.equal(pay.body.error.param, 'data.payment.period_end');
      assert.match(pay.body.error.message, /must not be before period_start/);
      const batch = await ws.send({ events: [customerCreated('evt_b_ok', 'team_b', T1), backwardsPay] });
      assert.equal(batch.status, 400);
      assert.equal(batch.body.error.param, 'events[1].data.payment.period_end');
      assert.deepEqual(await ws.allEvents(), []);
      assert.equal((await ws.get('/v1/customers')).body.data.length, 0);
      assert.equal(await paymentRow(ws.workspaceId, 'pay_b'), undefined);
    });
  });
}
