import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProgram, programJsonSchema } from './schema.js';
import { TEMPLATES } from './templates.js';

const minimal = {
  key: 'simple',
  name: 'Simple',
  landing_url: 'https://example.com/join',
  rewards: [
    { trigger: 'signup', recipient: 'referee', asset: 'usd_credit', amount: { kind: 'fixed', value: 500 } },
  ],
};

describe('program documents', () => {
  for (const template of TEMPLATES) {
    it(`the ${template.name} template is a valid program`, () => {
      const parsed = parseProgram(template.document);
      assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
    });
  }

  it('fills in every default, so a stored version states each rule', () => {
    const parsed = parseProgram(minimal);
    assert.ok(parsed.ok);
    const p = parsed.program;
    assert.equal(p.referrer.eligibility, 'any');
    assert.deepEqual(p.attribution, {
      methods: ['code', 'link'],
      code_accepted: 'at_any_time',
      link_window_days: 60,
    });
    assert.equal(p.referee.new_accounts_only, false);
    assert.equal(p.fraud.self_referral, true);
    assert.equal(p.fraud.max_referrals_per_referrer, null);
    assert.equal(p.rewards[0]!.rounding, 'half_even');
    assert.deepEqual(p.rewards[0]!.expiry, { type: 'never' });
    assert.equal(p.rewards[0]!.repeat, 'once_per_referral');
  });

  it('payment rewards repeat on every payment unless told otherwise', () => {
    const parsed = parseProgram({
      ...minimal,
      rewards: [
        {
          trigger: 'payment_succeeded',
          recipient: 'referrer',
          asset: 'usd_commission',
          amount: { kind: 'percent_of_payment', bps: 1000 },
        },
      ],
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.program.rewards[0]!.repeat, 'every_time');
  });

  it('lists every schema error by its path', () => {
    const parsed = parseProgram({
      key: 'Bad Key',
      name: '',
      landing_url: 'ftp://example.com',
      referrer: { eligibility: 'rich' },
      surprise: true,
      rewards: [
        {
          trigger: 'signup',
          recipient: 'referrer',
          asset: 'usd',
          amount: { kind: 'percent_of_payment', bps: 1000 },
        },
        { trigger: 'payday', recipient: 'referee', asset: 'usd', amount: { kind: 'fixed', value: 0 } },
        {
          trigger: 'payment_succeeded',
          recipient: 'referrer',
          asset: 'usd',
          amount: { kind: 'fixed', value: 1 },
          expiry: { type: 'after', duration: 'thirty days' },
        },
      ],
    });
    assert.ok(!parsed.ok);
    const paths = parsed.errors.map((e) => e.path).sort();
    assert.deepEqual(paths, [
      'key',
      'landing_url',
      'name',
      'referrer.eligibility',
      'rewards[1].amount.value',
      'rewards[1].trigger',
      'rewards[2].expiry.duration',
      'surprise',
    ]);
  });

  it('checks rules across fields once the shape is right', () => {
    const parsed = parseProgram({
      ...minimal,
      attribution: { methods: ['code', 'code'] },
      options: [{ key: 'cash', name: 'Cash' }],
      rewards: [
        {
          trigger: 'signup',
          recipient: 'referrer',
          asset: 'usd',
          amount: { kind: 'percent_of_payment', bps: 1000 },
        },
        {
          trigger: 'signup',
          recipient: 'referee',
          asset: 'usd',
          amount: { kind: 'fixed', value: 5 },
          repeat: 'every_time',
        },
        {
          trigger: 'signup',
          recipient: 'referee',
          asset: 'usd',
          amount: { kind: 'fixed', value: 5 },
          for_months: 3,
        },
        {
          trigger: 'signup',
          recipient: 'referee',
          asset: 'usd',
          amount: { kind: 'fixed', value: 5 },
          option: 'days',
        },
        {
          trigger: 'signup',
          recipient: 'referee',
          asset: 'usd',
          amount: { kind: 'fixed', value: 5 },
          gates: ['has_signed_contract'],
        },
      ],
    });
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.errors.map((e) => e.path),
      [
        'attribution.methods',
        'rewards[0].amount.kind',
        'rewards[1].repeat',
        'rewards[2].for_months',
        'rewards[3].option',
        'rewards[4].gates',
      ],
    );
  });

  it('tells a whole number past 2^53 (1e20) the bound it crossed, in one error', () => {
    for (const [value, message] of [
      [1e20, 'must be at most 3650'],
      [-1e20, 'must be at least 1'],
      [1.5, 'must be a whole number'],
    ] as const) {
      const parsed = parseProgram({ ...minimal, referrer: { suspend_after_inactivity_days: value } });
      assert.ok(!parsed.ok);
      assert.deepEqual(
        parsed.errors,
        [{ path: 'referrer.suspend_after_inactivity_days', message }],
        `${value}`,
      );
    }
  });

  it('takes effective_at from 1970 to the end of year 9999 only, offsets counted', () => {
    const range = 'must be from 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z';
    for (const [at, instant] of [
      ['0000-01-01T00:00:00+01:00', '-000001-12-31T23:00:00.000Z'],
      ['9999-12-31T23:59:59-12:00', '+010000-01-01T11:59:59.000Z'],
    ] as const) {
      const parsed = parseProgram({ ...minimal, effective_at: at });
      assert.ok(!parsed.ok);
      assert.deepEqual(parsed.errors, [
        { path: 'effective_at', message: `${instant} is out of range: ${range}` },
      ]);
    }
    assert.ok(parseProgram({ ...minimal, effective_at: '9999-12-31T23:59:59.999Z' }).ok);
    assert.ok(parseProgram({ ...minimal, effective_at: '2026-01-01T12:00:00.5+05:30' }).ok);
  });

  it('publishes a JSON Schema of what an author writes', () => {
    const schema = programJsonSchema();
    const text = JSON.stringify(schema);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.match(
      text,
      /"formatMinimum":"1970-01-01T00:00:00.000Z","formatMaximum":"9999-12-31T23:59:59.999Z"/,
    );
    for (const word of [
      'landing_url',
      'percent_of_plan_units',
      'end_of_billing_period',
      'has_signed_contract',
    ]) {
      assert.ok(text.includes(word), word);
    }
  });
});
