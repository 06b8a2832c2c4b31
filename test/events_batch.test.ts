import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db, Sql } from '../src/app/ports.js';
import { MAX_BALANCE_MINOR } from '../src/core/money/amount.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { storeCases } from './helpers/stores.js';

/**
 * A batch of events is applied as a whole (src/app/events_batch.ts), and the same events sent one
 * by one are applied one after another. Both must end in the same state, row for row: the same
 * events, customers, payments, referrals and their history, reward rows, ledger lots, entries and
 * balances, and webhook deliveries. Ids are random, so they are compared by the order they were
 * taken in (the n-th `lot_` id of one store against the n-th of the other).
 */

// The webhook endpoint below is on this machine; it only receives the deliveries queued for it.
process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

const FREE_DAYS = 'free-days-or-commission';
const CUSTOM = 'first-payment-bonus';
const CREDIT = 'usd_credit';
const START = '2026-01-10T09:00:00.000Z';

/** Tables that hold what events change (everything but keys, secrets and idempotency records). */
const TABLES = [
  'customers',
  'events',
  'payments',
  'payment_methods',
  'subscriptions',
  'referrals',
  'referral_transitions',
  'referral_rewards',
  'referral_reward_totals',
  'referrers',
  'referral_audit_log',
  'referral_card_claims',
  'ledger_accounts',
  'ledger_lots',
  'ledger_entries',
  'ledger_reversals',
  'outbox',
];

/** A program that tests what the reference programs do not: a once-only payment reward and a window. */
const customProgram = {
  key: CUSTOM,
  name: 'First payment bonus',
  landing_url: 'https://example.com/join',
  referrer: { eligibility: 'any' },
  attribution: { methods: ['code'], code_accepted: 'at_any_time' },
  rewards: [
    {
      trigger: 'payment_succeeded',
      recipient: 'referrer',
      asset: CREDIT,
      amount: { kind: 'fixed', value: 500 },
      repeat: 'once_per_referral',
      expiry: { type: 'after', duration: 'P30D' },
    },
    {
      trigger: 'payment_succeeded',
      recipient: 'referee',
      asset: CREDIT,
      amount: { kind: 'percent_of_payment', bps: 500 },
      for_months: 2,
    },
  ],
};

interface Ev {
  id: string;
  type: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

const at = (iso: string, n = 0) => new Date(Date.parse(iso) + n * 60_000).toISOString();
let seq = 0;
const ev = (type: string, occurred: string, data: Record<string, unknown>): Ev => ({
  id: `evt_batch_${++seq}`,
  type,
  occurred_at: occurred,
  data,
});
const created = (customer: string, occurred: string, code?: string) =>
  ev('customer.created', occurred, {
    customer: { external_id: customer },
    ...(code ? { referral_code: code } : {}),
  });
const pay = (
  customer: string,
  id: string,
  occurred: string,
  extra: Record<string, unknown> = {},
  amount = 3900,
) =>
  ev('payment.succeeded', occurred, {
    customer,
    payment: { id, amount, currency: 'usd', interval: 'month', ...extra },
  });

/** Partners with vanity codes, and clients referred by them; each referral qualified by a first payment. */
async function setUp(h: Harness): Promise<Ev> {
  // Both stores get the same events, ids included.
  seq = 0;
  h.clock.set(START);
  const ok = async (method: 'POST', url: string, body: unknown) => {
    const res = await h.request(method, url, { body });
    assert.ok(res.status < 300, `${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await ok('POST', '/v1/programs/from_template', { template: FREE_DAYS });
  await ok('POST', '/v1/assets', { key: CREDIT, kind: 'money', currency: 'usd', purpose: 'credit' });
  await ok('POST', '/v1/programs', customProgram);
  await ok('POST', '/v1/webhook_endpoints', { url: 'http://127.0.0.1:9/hooks', event_types: ['*'] });
  const partners: [string, string, string][] = [
    ['p_cash', FREE_DAYS, 'PCASH001'],
    ['p_days', FREE_DAYS, 'PDAYS001'],
    ['p_nocontract', FREE_DAYS, 'PNOCON01'],
    ['p_old', FREE_DAYS, 'POLD0001'],
    ['p_custom', CUSTOM, 'PCUSTOM1'],
  ];
  for (const [partner, program, code] of partners) {
    await ok('POST', '/v1/events', created(partner, START));
    await ok('POST', `/v1/customers/${partner}/referral_code`, { program, code });
  }
  for (const partner of ['p_cash', 'p_nocontract']) {
    await ok('POST', `/v1/customers/${partner}/referral_option`, { program: FREE_DAYS, option: 'cash' });
  }
  await ok('POST', '/v1/customers/p_cash/contract', {});
  const clients: [string, string][] = [
    ['c_cash', 'PCASH001'],
    ['c_days', 'PDAYS001'],
    ['c_nocontract', 'PNOCON01'],
    ['c_old', 'POLD0001'],
    ['c_custom', 'PCUSTOM1'],
    ['c_pending', 'PDAYS001'],
  ];
  for (const [client, code] of clients) await ok('POST', '/v1/events', created(client, at(START, 1), code));
  // Each referral but c_pending's is qualified by a first payment, sent alone.
  const first: Ev[] = [];
  for (const [client] of clients.filter(([c]) => c !== 'c_pending')) {
    first.push(pay(client, `pi_setup_${client}`, at(START, 10)));
    await ok('POST', '/v1/events', first.at(-1));
  }
  await ok('POST', '/v1/events', created('c_plain', START));
  return first[0]!;
}

/** The events of the batch: plain payments, and every kind of event that needs more than a decision. */
function batchEvents(setupPayment: Ev): Ev[] {
  seq = 1_000;
  const day = (n: number) => at('2026-01-12T00:00:00.000Z', n * 24 * 60);
  const list: Ev[] = [
    pay('c_cash', 'pi_1', day(0)),
    pay('c_days', 'pi_2', day(0)),
    pay('c_days', 'pi_3', day(1), { interval: 'year', period_start: '2026-02-01T00:00:00.000Z' }, 39000),
    pay('c_nocontract', 'pi_4', day(1)),
    pay('c_custom', 'pi_5', day(2), {}, 2000),
    pay('c_new', 'pi_6', day(2)),
    pay('c_new', 'pi_7', day(3)),
    pay('c_plain', 'pi_8', day(3)),
  ];
  // A payment more than a year after the partner's last referral: its suspension is recorded.
  list.push(pay('c_old', 'pi_9', '2027-02-01T00:00:00.000Z'));
  list.push(pay('c_old', 'pi_10', '2027-02-02T00:00:00.000Z'));
  list.push({ ...list[0]!, data: { ...list[0]!.data } }); // the same event id again
  list.push(pay('c_cash', 'pi_1', day(4))); // the same payment under another event id
  list.push(ev('payment.refunded', day(4), { customer: 'c_days', payment: { id: 'pi_2' } }));
  list.push(pay('c_days', 'pi_11', day(5)));
  list.push(created('c_late', day(5), 'PCASH001'));
  list.push(pay('c_cash', 'pi_12', day(6)));
  list.push(pay('c_late', 'pi_13', day(6)));
  list.push(pay('c_pending', 'pi_14', day(6)));
  list.push(
    ev('card.attached', day(7), { customer: 'c_plain', payment_method: { fingerprint: 'fp_plain' } }),
  );
  list.push(setupPayment); // sent before this batch
  // Outside the custom program's two months: the referee's share is skipped with its reason.
  list.push(pay('c_custom', 'pi_15', '2026-03-20T00:00:00.000Z', {}, 2000));
  for (let n = 0; n < 40; n++) {
    // Customers no event applied on its own has touched, so the batch decides them itself.
    const client = ['c_custom', 'c_nocontract', 'c_new', 'c_fresh_a', 'c_fresh_b'][n % 5]!;
    list.push(pay(client, `pi_more_${n}`, day(8 + n), n % 4 === 3 ? { interval: 'year' } : {}, 1000 + n));
    // Facts about customers no pending payment names: applied before the payments are written.
    if (n === 10) list.push(created('c_other', day(8 + n)));
    if (n === 11) {
      list.push(
        ev('subscription.updated', day(8 + n), {
          customer: 'c_other',
          subscription: {
            id: 'sub_other',
            plan_id: 'plan',
            interval: 'month',
            status: 'active',
            current_period_start: day(8 + n),
            current_period_end: day(38 + n),
            amount: 2900,
            currency: 'usd',
          },
        }),
      );
    }
    // A card of a customer with payments waiting to be written: they are written first.
    if (n === 20) {
      list.push(
        ev('card.attached', day(8 + n), { customer: 'c_fresh_a', payment_method: { fingerprint: 'fp_a' } }),
      );
    }
  }
  return list;
}

/** Counts the statements a harness's store runs, in and out of transactions, while `fn` runs. */
async function statements<T>(h: Harness, fn: () => Promise<T>): Promise<{ result: T; count: number }> {
  const db = h.db;
  const { query, transaction } = db;
  let count = 0;
  db.query = ((text: string, params?: readonly unknown[]) => {
    count++;
    return query.call(db, text, params);
  }) as Db['query'];
  db.transaction = ((work: (tx: Sql) => Promise<unknown>) =>
    transaction.call(db, (tx) =>
      work({
        query: ((text: string, params?: readonly unknown[]) => {
          count++;
          return tx.query(text, params);
        }) as Sql['query'],
      }),
    )) as Db['transaction'];
  try {
    return { result: await fn(), count };
  } finally {
    db.query = query;
    db.transaction = transaction;
  }
}

/** Every row of the tables, with ids replaced by their prefix and rank, as sorted lines. */
async function snapshot(h: Harness): Promise<string> {
  const tables: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await h.db.query(`select * from ${table}`);
    // Stamped by the database's clock rather than the use case's.
    if (table === 'payment_methods') for (const r of rows) delete r.created_at;
    tables[table] = rows.map((r) => JSON.stringify(r));
  }
  return normaliseIds(JSON.stringify(tables), (text) => {
    const parsed = JSON.parse(text) as Record<string, string[]>;
    return Object.entries(parsed)
      .map(([table, rows]) => `${table}:\n${[...rows].sort().join('\n')}`)
      .join('\n');
  });
}

/** Replaces every Perks id with `prefix#n`, n its rank among the ids of that prefix in `text`. */
function normaliseIds(text: string, then: (normalised: string) => string = (t) => t): string {
  const pattern = /\b([a-z]{2,4})_([0-9a-z]{26})\b/g;
  const byPrefix = new Map<string, Set<string>>();
  for (const [, prefix, body] of text.matchAll(pattern)) {
    const set = byPrefix.get(prefix!) ?? new Set<string>();
    set.add(body!);
    byPrefix.set(prefix!, set);
  }
  const rank = new Map<string, string>();
  for (const [prefix, bodies] of byPrefix) {
    [...bodies].sort().forEach((body, i) => rank.set(`${prefix}_${body}`, `${prefix}#${i}`));
  }
  return then(text.replace(pattern, (id) => rank.get(id)!));
}

for (const store of storeCases()) {
  describe(`a batch of events and the same events one by one (${store.name})`, () => {
    let batched: Harness;
    let single: Harness;
    let setupPayment: Ev;
    before(async () => {
      batched = await startHarness(store);
      single = await startHarness(store);
      setupPayment = await setUp(batched);
      await setUp(single);
    });
    after(async () => {
      await batched.close();
      await single.close();
    });

    it('end in the same state and answer the same results', async () => {
      const list = batchEvents(setupPayment);
      // After the batch's latest event: an event later than the server's clock is refused.
      for (const h of [batched, single]) h.clock.set('2027-02-03T00:00:00.000Z');

      const { result: whole, count: batchStatements } = await statements(batched, () =>
        batched.request('POST', '/v1/events', { body: { events: list } }),
      );
      assert.equal(whole.status, 200, JSON.stringify(whole.body));
      const oneByOne: unknown[] = [];
      const { count: singleStatements } = await statements(single, async () => {
        for (const event of list) {
          const res = await single.request('POST', '/v1/events', { body: event });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          oneByOne.push(res.body);
        }
      });
      // The plain payments were written together: far fewer statements than event by event.
      assert.ok(
        batchStatements < singleStatements / 2,
        `${batchStatements} statements for the batch, ${singleStatements} one by one`,
      );
      assert.equal(
        normaliseIds(JSON.stringify(whole.body.data, null, 1)),
        normaliseIds(JSON.stringify(oneByOne, null, 1)),
      );

      const [a, b] = [await snapshot(batched), await snapshot(single)];
      if (process.env.DEBUG_SNAPSHOT) {
        (await import('node:fs')).writeFileSync('/tmp/snap_a.txt', a);
        (await import('node:fs')).writeFileSync('/tmp/snap_b.txt', b);
      }
      assert.equal(a, b);

      // The batch did what the scenario is about (so that an empty state cannot pass).
      const rewards = await batched.db.query<{ status: string; reason: string | null }>(
        'select status, reason from referral_rewards',
      );
      const reasons = new Set(rewards.map((r) => r.reason ?? r.status));
      for (const expected of [
        'granted',
        'contract_not_signed',
        'referrer_suspended',
        'outside_payment_months',
      ]) {
        assert.ok(reasons.has(expected), `a reward ${expected}: ${[...reasons].join(', ')}`);
      }
      const [suspended] = await batched.db.query<{ n: number }>(
        'select count(*)::int as n from referrers where suspended_at is not null',
      );
      assert.equal(suspended!.n, 1);
      const duplicates = whole.body.data.filter((r: { duplicate: boolean }) => r.duplicate);
      assert.equal(duplicates.length, 2);
    });

    it('names the event a batch fails on and writes nothing of the batch', async () => {
      // The partner's commission balance is a little under the ledger's limit for one account, so
      // the commission of the fourth payment would take it over.
      for (const h of [batched, single]) {
        await h.db.query(
          `update ledger_accounts set balance = $1 where kind = 'customer' and customer_id =
             (select id from customers where external_id = 'p_cash')
             and asset_id = (select id from ledger_assets where key = 'usd_commission')`,
          [MAX_BALANCE_MINOR - 500],
        );
      }
      const before = await snapshot(batched);
      const list = [
        pay('c_days', 'pi_big_1', '2026-01-21T00:00:00.000Z'),
        pay('c_custom', 'pi_big_2', '2026-01-21T00:00:00.000Z'),
        pay('c_plain', 'pi_big_3', '2026-01-21T00:00:00.000Z'),
        pay('c_cash', 'pi_big_4', '2026-01-21T00:00:00.000Z', {}, 9_000),
        pay('c_nocontract', 'pi_big_5', '2026-01-21T00:00:00.000Z'),
      ];
      const res = await batched.request('POST', '/v1/events', { body: { events: list } });
      const alone = await single.request('POST', '/v1/events', { body: list[3] });
      assert.equal(res.status, alone.status, JSON.stringify(res.body));
      assert.ok(res.status >= 400 && res.status < 500, JSON.stringify(res.body));
      assert.equal(res.body.error.code, alone.body.error.code);
      assert.match(res.body.error.message, /^event 3 \('evt_batch_\d+'\): /);
      assert.equal(await snapshot(batched), before);
    });
  });
}
