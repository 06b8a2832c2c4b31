import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AssetFacts, decideRewards, type RewardFacts, reversalDue } from './rewards.js';
import { type Program, parseProgram } from './schema.js';
import { findTemplate } from './templates.js';

function template(name: string): Program {
  const parsed = parseProgram(findTemplate(name)!.document);
  assert.ok(parsed.ok);
  return parsed.program;
}

const credit = template('credit-on-first-card');
const freeDays = template('free-days-or-commission');
const minutes = template('bonus-minutes');

const assets = new Map<string, AssetFacts>([
  ['usd_credit', { kind: 'money', currency: 'usd' }],
  ['usd_commission', { kind: 'money', currency: 'usd' }],
  ['service_days', { kind: 'days', currency: null }],
  ['bonus_minutes', { kind: 'units', currency: null }],
]);

const AT = new Date('2026-03-01T12:00:00Z');
const REFERRER_PERIOD_END = new Date('2026-03-20T00:00:00Z');
const REFEREE_PERIOD_END = new Date('2026-04-01T12:00:00Z');

type FactsPatch = Omit<Partial<RewardFacts>, 'referrer'> & { referrer?: Partial<RewardFacts['referrer']> };

function facts(over: FactsPatch = {}): RewardFacts {
  return {
    trigger: 'payment_succeeded',
    at: AT,
    source_key: 'pay_1',
    assets,
    ...over,
    referral: { attributed_at: new Date('2026-01-01T00:00:00Z'), referrer_id: 'cus_a', referee_id: 'cus_b' },
    referrer: {
      suspended: false,
      contract_signed_at: null,
      option: null,
      current_period_end: REFERRER_PERIOD_END,
      ...over.referrer,
    },
    referee: { current_period_end: REFEREE_PERIOD_END },
  };
}

const monthly = (amount = 3900) => ({
  amount,
  currency: 'usd',
  interval: 'month' as const,
  period_start: new Date('2026-03-01T00:00:00Z'),
});

describe('credit-on-first-card rewards', () => {
  it('the first card gives $25 of never-expiring credit to both teams at once', () => {
    const d = decideRewards(credit, facts({ trigger: 'first_card_attached', source_key: '' }));
    assert.deepEqual(
      d.map((x) => [
        x.recipient,
        x.recipient_customer_id,
        x.outcome,
        x.outcome === 'grant' && x.amount,
        x.outcome === 'grant' && x.expiry,
      ]),
      [
        ['referrer', 'cus_a', 'grant', 2500, { type: 'never' }],
        ['referee', 'cus_b', 'grant', 2500, { type: 'never' }],
      ],
    );
    assert.ok(
      d.every((x) => x.source_key === ''),
      'once per referral: a replay finds the same key',
    );
  });

  it('a payment triggers nothing in this program', () => {
    assert.deepEqual(decideRewards(credit, facts({ payment: monthly() })), []);
  });
});

describe('bonus-minutes rewards', () => {
  const cases: [string, number, number][] = [
    ['the 90-minute plan gives 22 minutes each (22.5 rounds half-even)', 90, 22],
    ['the 360-minute plan gives 90 minutes each', 360, 90],
    ['the 1,200-minute plan gives 300 minutes each', 1200, 300],
  ];
  for (const [label, units, expected] of cases) {
    it(label, () => {
      const d = decideRewards(
        minutes,
        facts({
          trigger: 'subscription_activated',
          source_key: 'sub_1',
          subscription: { plan_units: units, interval: 'month' },
        }),
      );
      assert.deepEqual(
        d.map((x) => (x.outcome === 'grant' ? x.amount : x.reason)),
        [expected, expected],
      );
    });
  }

  it("each one's minutes expire at the end of its own current billing period", () => {
    const d = decideRewards(
      minutes,
      facts({
        trigger: 'subscription_activated',
        source_key: 'sub_1',
        subscription: { plan_units: 360, interval: 'month' },
      }),
    );
    assert.deepEqual(
      d.map((x) => x.outcome === 'grant' && x.expiry),
      [
        { type: 'end_of_billing_period', period_end: REFERRER_PERIOD_END },
        { type: 'end_of_billing_period', period_end: REFEREE_PERIOD_END },
      ],
    );
  });

  it('a resubscription has the same key as the first subscription (once per referral)', () => {
    const first = decideRewards(
      minutes,
      facts({
        trigger: 'subscription_activated',
        source_key: 'sub_1',
        subscription: { plan_units: 90, interval: 'month' },
      }),
    );
    const again = decideRewards(
      minutes,
      facts({
        trigger: 'subscription_activated',
        source_key: 'sub_2',
        subscription: { plan_units: 90, interval: 'month' },
      }),
    );
    assert.deepEqual(
      first.map((x) => x.source_key),
      again.map((x) => x.source_key),
    );
  });

  it('a referrer without a current billing period is skipped with the reason', () => {
    const d = decideRewards(
      minutes,
      facts({
        trigger: 'subscription_activated',
        source_key: 'sub_1',
        subscription: { plan_units: 90, interval: 'month' },
        referrer: { current_period_end: null },
      }),
    );
    assert.deepEqual(
      d.map((x) => (x.outcome === 'grant' ? x.amount : x.reason)),
      ['no_billing_period', 22],
    );
  });

  it('a plan without plan_units is skipped with the reason', () => {
    const d = decideRewards(
      minutes,
      facts({ trigger: 'subscription_activated', subscription: { plan_units: null, interval: 'month' } }),
    );
    assert.deepEqual(
      d.map((x) => x.outcome === 'skip' && x.reason),
      ['plan_units_unknown', 'plan_units_unknown'],
    );
  });

  it('a skip a later event can correct leaves the once-per-referral key free; a final skip takes it', () => {
    const unknown = decideRewards(
      minutes,
      facts({
        trigger: 'subscription_activated',
        source_key: 'sub_1',
        subscription: { plan_units: null, interval: 'month' },
      }),
    );
    assert.deepEqual(
      unknown.map((x) => x.source_key),
      ['sub_1', 'sub_1'],
    );
    const suspended = decideRewards(
      minutes,
      facts({
        trigger: 'subscription_activated',
        source_key: 'sub_1',
        subscription: { plan_units: 90, interval: 'month' },
        referrer: { suspended: true },
      }),
    );
    assert.deepEqual(
      suspended.map((x) => [x.outcome === 'skip' && x.reason, x.source_key]),
      [
        ['referrer_suspended', ''],
        [false, ''],
      ],
    );
  });
});

describe('free-days-or-commission rewards', () => {
  const signed = new Date('2026-02-01T00:00:00Z');
  const cases: [string, FactsPatch, (string | number)[]][] = [
    ['a monthly payment gives the referrer 3 days (default option)', { payment: monthly() }, [3]],
    [
      'a yearly payment from 15 January gives one calendar month: 31 days',
      {
        payment: {
          amount: 39000,
          currency: 'usd',
          interval: 'year',
          period_start: new Date('2026-01-15T00:00:00Z'),
        },
      },
      [31],
    ],
    [
      'a yearly payment from 1 February gives one calendar month: 28 days',
      {
        payment: {
          amount: 39000,
          currency: 'usd',
          interval: 'year',
          period_start: new Date('2026-02-01T00:00:00Z'),
        },
      },
      [28],
    ],
    [
      'a payment without an interval is skipped with the reason',
      { payment: { amount: 3900, currency: 'usd', interval: null, period_start: null } },
      ['interval_unknown'],
    ],
    [
      'cash option: 10% of a $39 payment accrues $3.90 after the contract is signed',
      { payment: monthly(), referrer: { option: 'cash', contract_signed_at: signed } },
      [390],
    ],
    [
      'cash option: a payment before the contract accrues nothing, with the reason',
      {
        payment: monthly(),
        referrer: { option: 'cash', contract_signed_at: new Date('2026-03-02T00:00:00Z') },
      },
      ['contract_not_signed'],
    ],
    [
      'cash option: no contract at all accrues nothing',
      { payment: monthly(), referrer: { option: 'cash' } },
      ['contract_not_signed'],
    ],
    [
      'cash option: a payment in another currency is skipped',
      {
        payment: { ...monthly(), currency: 'eur' },
        referrer: { option: 'cash', contract_signed_at: signed },
      },
      ['currency_mismatch'],
    ],
    [
      'cash option: 10% of 4 cents rounds to zero and is skipped',
      { payment: monthly(4), referrer: { option: 'cash', contract_signed_at: signed } },
      ['rounds_to_zero'],
    ],
    [
      'a suspended referrer accrues nothing',
      { payment: monthly(), referrer: { suspended: true } },
      ['referrer_suspended'],
    ],
  ];
  for (const [label, over, expected] of cases) {
    it(label, () => {
      const d = decideRewards(freeDays, facts(over));
      assert.deepEqual(
        d.map((x) => (x.outcome === 'grant' ? x.amount : x.reason)),
        expected,
      );
      assert.ok(d.every((x) => x.recipient === 'referrer' && x.source_key === 'pay_1'));
    });
  }

  it('the chosen option decides which reward accrues, not both', () => {
    const days = decideRewards(freeDays, facts({ payment: monthly(), referrer: { option: 'free_days' } }));
    const cash = decideRewards(
      freeDays,
      facts({ payment: monthly(), referrer: { option: 'cash', contract_signed_at: signed } }),
    );
    assert.deepEqual(
      days.map((x) => x.asset),
      ['service_days'],
    );
    assert.deepEqual(
      cash.map((x) => x.asset),
      ['usd_commission'],
    );
  });
});

describe('payment months and reversals', () => {
  it('a for_months reward stops paying after that many months from attribution', () => {
    const parsed = parseProgram({
      key: 'first-year',
      name: 'First year',
      landing_url: 'https://example.com',
      rewards: [
        {
          trigger: 'payment_succeeded',
          recipient: 'referrer',
          asset: 'usd_commission',
          amount: { kind: 'percent_of_payment', bps: 2000 },
          for_months: 2,
        },
      ],
    });
    assert.ok(parsed.ok);
    const inside = decideRewards(
      parsed.program,
      facts({ at: new Date('2026-02-28T00:00:00Z'), payment: monthly() }),
    );
    const outside = decideRewards(
      parsed.program,
      facts({ at: new Date('2026-03-01T00:00:00Z'), payment: monthly() }),
    );
    assert.deepEqual(
      inside.map((x) => x.outcome === 'grant' && x.amount),
      [780],
    );
    assert.deepEqual(
      outside.map((x) => x.outcome === 'skip' && x.reason),
      ['outside_payment_months'],
    );
  });

  const reversals: [string, number, number, Parameters<typeof reversalDue>[2], number][] = [
    ['a dispute takes back all of it', 390, 0, { status: 'disputed', amount: 3900, amount_refunded: 0 }, 390],
    [
      'a full refund takes back all of it',
      390,
      0,
      { status: 'refunded', amount: 3900, amount_refunded: 3900 },
      390,
    ],
    [
      'a refund of 1,000 of 3,900 takes back 100 of 390',
      390,
      0,
      { status: 'refunded', amount: 3900, amount_refunded: 1000 },
      100,
    ],
    [
      'a second refund takes back only the rest',
      390,
      100,
      { status: 'refunded', amount: 3900, amount_refunded: 3900 },
      290,
    ],
    [
      'a dispute after a full reversal takes nothing more',
      390,
      390,
      { status: 'disputed', amount: 3900, amount_refunded: 3900 },
      0,
    ],
    [
      'a succeeded payment takes nothing back',
      390,
      0,
      { status: 'succeeded', amount: 3900, amount_refunded: 0 },
      0,
    ],
    [
      '3 days of a refund of 1,000 of 3,900 is 1 day (0.77 half-even)',
      3,
      0,
      { status: 'refunded', amount: 3900, amount_refunded: 1000 },
      1,
    ],
  ];
  for (const [label, granted, reversed, payment, expected] of reversals) {
    it(label, () => assert.equal(reversalDue(granted, reversed, payment, 'half_even'), expected));
  }
});
