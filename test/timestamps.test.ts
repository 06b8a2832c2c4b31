/**
 * Instants in the API, in bodies and query strings alike: one range (core/time/instants.ts), from the
 * Unix epoch to the end of year 9999, refused outside it with a typed 400 that names the field and
 * states the range, before anything reaches the store (an instant in year 0 or 10000 used to reach
 * it, and the store's refusal was a 500). Inside the range nothing changed: offsets, fractional
 * seconds and the range's own edges are taken, stored and read back as before, on both stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findTemplate } from '../src/core/programs/templates.js';
import { type Harness, type Reply, startHarness } from './helpers/harness.js';
import { storeCases } from './helpers/stores.js';

const RANGE = /must be from 1970-01-01T00:00:00\.000Z to 9999-12-31T23:59:59\.999Z$/;

/** Instants just outside the range, several written with an offset that carries them out of it. */
const OUT_OF_RANGE = [
  '0000-01-01T00:00:00Z',
  '0000-01-01T00:00:00+01:00',
  '1969-12-31T23:59:59.999Z',
  '1970-01-01T00:30:00+01:00',
  '9999-12-31T23:59:59-01:00',
];

function assertRefused(res: Reply, param: string, value: string) {
  const where = `${param}=${value}: ${JSON.stringify(res.body)}`;
  assert.equal(res.status, 400, where);
  assert.equal(res.body.error.code, 'parameter_invalid', where);
  assert.equal(res.body.error.param, param, where);
  assert.ok(res.body.error.message.startsWith(`'${param}': `), where);
  assert.match(res.body.error.message, RANGE, where);
  assert.equal(res.body.error.errors, undefined, `one error, not a second one: ${where}`);
}

const customerCreated = (id: string, externalId: string, at: string) => ({
  id,
  type: 'customer.created',
  occurred_at: at,
  data: { customer: { external_id: externalId } },
});

for (const store of storeCases()) {
  describe(`timestamps in the API (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      const customer = await h.request('POST', '/v1/customers', { body: { external_id: 'team_ts' } });
      assert.equal(customer.status, 201, JSON.stringify(customer.body));
    });
    after(() => h.close());

    const storedEvents = async () =>
      (
        await h.db.query<{ n: number }>('select count(*)::int as n from events where workspace_id = $1', [
          h.workspaceId,
        ])
      )[0]!.n;

    it('error: a query instant outside the range is a 400 naming the parameter and stating the range', async () => {
      for (const value of OUT_OF_RANGE) {
        const q = encodeURIComponent(value);
        assertRefused(await h.request('GET', `/v1/promotions?valid_at=${q}`), 'valid_at', value);
        assertRefused(await h.request('GET', `/v1/stats/overview?from=${q}`), 'from', value);
        assertRefused(await h.request('GET', `/v1/stats/overview?to=${q}`), 'to', value);
      }
    });

    it('error: a body instant outside the range is a 400 naming the field, and writes nothing', async () => {
      const program = findTemplate('bonus-minutes')!.document;
      const cases: { url: string; param: string; body: (at: string) => unknown }[] = [
        {
          url: '/v1/events',
          param: 'occurred_at',
          body: (at) => customerCreated('evt_ts_1', 'team_ts_new', at),
        },
        {
          url: '/v1/events',
          param: 'data.subscription.current_period_end',
          body: (at) => ({
            id: 'evt_ts_2',
            type: 'subscription.updated',
            occurred_at: '2026-01-01T00:00:00Z',
            data: {
              customer: 'team_ts',
              subscription: {
                id: 'sub_ts',
                plan_id: 'pro',
                interval: 'month',
                status: 'active',
                current_period_start: '2026-01-01T00:00:00Z',
                current_period_end: at,
                amount: 2900,
                currency: 'usd',
              },
            },
          }),
        },
        {
          url: '/v1/events',
          param: 'data.payment.period_start',
          body: (at) => ({
            id: 'evt_ts_3',
            type: 'payment.succeeded',
            occurred_at: '2026-01-01T00:00:00Z',
            data: {
              customer: 'team_ts',
              payment: { id: 'pay_ts', amount: 2900, currency: 'usd', period_start: at },
            },
          }),
        },
        {
          url: '/v1/invoices/settle',
          param: 'period_start',
          body: (at) => ({
            invoice_id: 'in_ts',
            customer: 'team_ts',
            currency: 'usd',
            subtotal_cents: 2900,
            period_start: at,
          }),
        },
        {
          url: '/v1/referrals',
          param: 'attributed_at',
          body: (at) => ({ referee: 'team_ts', source: 'manual', attributed_at: at }),
        },
        { url: '/v1/customers/team_ts/contract', param: 'signed_at', body: (at) => ({ signed_at: at }) },
        {
          url: '/v1/customers/team_ts/grants',
          param: 'expires.at',
          body: (at) => ({
            asset: 'usd_credit',
            amount: 100,
            reason: 'range',
            reference: 'grant_ts',
            source: { type: 'manual', actor: 'ops@example.com' },
            expires: { type: 'at', at },
          }),
        },
        { url: '/v1/programs', param: 'effective_at', body: (at) => ({ ...program, effective_at: at }) },
      ];
      for (const c of cases) {
        for (const value of OUT_OF_RANGE) {
          assertRefused(await h.request('POST', c.url, { body: c.body(value) }), c.param, value);
        }
      }
      assert.equal(await storedEvents(), 0);
      const programs = await h.request('GET', '/v1/programs');
      assert.deepEqual(programs.body.data, []);
    });

    it('error: one event out of range in a batch is named by its path in the batch, and nothing is written', async () => {
      for (const value of OUT_OF_RANGE) {
        const res = await h.request('POST', '/v1/events', {
          body: {
            events: [
              customerCreated('evt_batch_ok', 'team_batch_ok', '2026-01-01T00:00:00Z'),
              customerCreated('evt_batch_bad', 'team_batch_bad', value),
            ],
          },
        });
        assertRefused(res, 'events[1].occurred_at', value);
      }
      assert.equal(await storedEvents(), 0);
    });

    it('happy: the edges of the range, offsets and fractional seconds are taken and read back as the same instant', async () => {
      const taken: [string, string][] = [
        ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
        ['1970-01-01T01:00:00+01:00', '1970-01-01T00:00:00.000Z'],
        ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
        ['9999-12-31T22:59:59.999-01:00', '9999-12-31T23:59:59.999Z'],
        ['2026-03-01T12:00:00.123456+05:30', '2026-03-01T06:30:00.123Z'],
      ];
      const clockWas = h.clock.now();
      for (const [i, [given, instant]] of taken.entries()) {
        // An event may not be later than the server's clock (beyond the skew allowance), so the
        // clock stands at the instant to take the last one of the range.
        h.clock.set(instant);
        const sent = await h.request('POST', '/v1/events', {
          body: customerCreated(`evt_edge_${i}`, `team_edge_${i}`, given),
        });
        assert.equal(sent.status, 200, `${given}: ${JSON.stringify(sent.body)}`);
        assert.equal(sent.body.outcome, 'applied', given);
        assert.equal(new Date(sent.body.occurred_at).toISOString(), instant, given);
        const listed = await h.request('GET', `/v1/promotions?valid_at=${encodeURIComponent(given)}`);
        assert.equal(listed.status, 200, `${given}: ${JSON.stringify(listed.body)}`);
      }
      h.clock.set(clockWas);
      const [row] = await h.db.query<{ min_ms: string; max_ms: string }>(
        `select (extract(epoch from min(occurred_at)) * 1000)::int8::text as min_ms,
                (extract(epoch from max(occurred_at)) * 1000)::int8::text as max_ms
           from events where workspace_id = $1`,
        [h.workspaceId],
      );
      assert.equal(Number(row!.min_ms), 0, 'the epoch is stored as the epoch');
      assert.equal(Number(row!.max_ms), Date.parse('9999-12-31T23:59:59.999Z'), 'the last instant is stored');
    });

    it('documents the range on every date-time in the OpenAPI document', async () => {
      const doc = await h.request('GET', '/v1/openapi.json', { key: null });
      assert.equal(doc.status, 200);
      const found: string[] = [];
      const missing: string[] = [];
      const walk = (node: unknown, where: string) => {
        if (node === null || typeof node !== 'object') return;
        const schema = node as Record<string, unknown>;
        if (schema.format === 'date-time') {
          found.push(where);
          if (
            schema.formatMinimum !== '1970-01-01T00:00:00.000Z' ||
            schema.formatMaximum !== '9999-12-31T23:59:59.999Z'
          ) {
            missing.push(where);
          }
        }
        for (const [key, child] of Object.entries(schema)) walk(child, `${where}/${key}`);
      };
      walk(doc.body, '#');
      assert.ok(found.length >= 10, `date-times found: ${found.length}`);
      assert.deepEqual(missing, [], 'date-times without the range');
    });
  });
}
