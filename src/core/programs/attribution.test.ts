import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AttributionInput,
  capPeriodStart,
  decideAttribution,
  decideLaterCard,
  referrerEligibility,
} from './attribution.js';
import { type Program, parseProgram, type ProgramInput } from './schema.js';
import { findTemplate } from './templates.js';

function program(name: string, patch: (doc: ProgramInput) => ProgramInput = (d) => d): Program {
  const parsed = parseProgram(patch(structuredClone(findTemplate(name)!.document)));
  assert.ok(parsed.ok);
  return parsed.program;
}

const credit = program('credit-on-first-card');
const freeDays = program('free-days-or-commission');
const minutes = program('bonus-minutes');

const AT = new Date('2026-03-01T12:00:00Z');

function input(over: {
  context?: AttributionInput['context'];
  method?: AttributionInput['method'];
  clicked_at?: Date;
  referrer?: Partial<AttributionInput['referrer']>;
  referee?: Partial<AttributionInput['referee']>;
}): AttributionInput {
  return {
    context: over.context ?? 'signup',
    method: over.method ?? 'code',
    at: AT,
    clicked_at: over.clicked_at,
    referrer: {
      id: 'cus_referrer',
      parent_id: null,
      fingerprints: ['fp_referrer'],
      has_card: true,
      has_paid_subscription: true,
      suspended: false,
      ...over.referrer,
    },
    referee: {
      id: 'cus_referee',
      parent_id: null,
      fingerprints: [],
      created_at: AT,
      billed_before: false,
      already_referred: false,
      ...over.referee,
    },
  };
}

const firstCard = { fingerprint: 'fp_new', first: true };

describe('referrer eligibility', () => {
  const cases: [string, Program, boolean, boolean, string | null][] = [
    ['credit-on-first-card: no code without a card on file', credit, false, true, 'card_on_file'],
    ['credit-on-first-card: a card on file is enough', credit, true, false, null],
    ['bonus-minutes: only paying subscribers get a link', minutes, true, false, 'paid_subscription'],
    ['bonus-minutes: a paying subscriber is eligible', minutes, false, true, null],
    ['free-days-or-commission: anyone is eligible', freeDays, false, false, null],
  ];
  for (const [label, p, has_card, has_paid_subscription, unmet] of cases) {
    it(label, () => {
      const result = referrerEligibility(p, { has_card, has_paid_subscription });
      assert.equal(result.eligible ? null : result.unmet, unmet);
    });
  }
});

describe('attribution decisions', () => {
  const cases: [string, Program, AttributionInput, string | null][] = [
    [
      'credit-on-first-card: a code with the first card is accepted',
      credit,
      input({ context: 'card_attached', referee: { fingerprints: ['fp_new'], card_attached: firstCard } }),
      null,
    ],
    [
      'credit-on-first-card: a code at a second card attach is refused',
      credit,
      input({
        context: 'card_attached',
        referee: {
          fingerprints: ['fp_old', 'fp_new'],
          card_attached: { fingerprint: 'fp_new', first: false },
        },
      }),
      'not_first_card',
    ],
    [
      'credit-on-first-card: an existing free-tier team without a card can use a code',
      credit,
      input({
        context: 'card_attached',
        referee: {
          created_at: new Date('2025-01-01T00:00:00Z'),
          fingerprints: ['fp_new'],
          card_attached: firstCard,
        },
      }),
      null,
    ],
    [
      'credit-on-first-card: a self-referral is refused',
      credit,
      input({ context: 'card_attached', referee: { id: 'cus_referrer', card_attached: firstCard } }),
      'self_referral',
    ],
    [
      "credit-on-first-card: the referrer's own card makes it a self-referral",
      credit,
      input({
        context: 'card_attached',
        referee: {
          fingerprints: ['fp_referrer'],
          card_attached: { fingerprint: 'fp_referrer', first: true },
        },
      }),
      'self_referral',
    ],
    [
      'credit-on-first-card: a team under the same parent account is a self-referral',
      credit,
      input({
        context: 'card_attached',
        referrer: { parent_id: 'cus_org' },
        referee: { parent_id: 'cus_org', card_attached: firstCard },
      }),
      'self_referral',
    ],
    [
      'credit-on-first-card: a referrer whose card is gone is not eligible at attribution',
      credit,
      input({
        context: 'card_attached',
        referrer: { has_card: false },
        referee: { card_attached: firstCard },
      }),
      'referrer_not_eligible',
    ],
    [
      'credit-on-first-card: a link is not a method of this program',
      credit,
      input({ method: 'link', clicked_at: AT }),
      'method_not_allowed',
    ],
    [
      'free-days-or-commission: a link click 10 days before signup attributes',
      freeDays,
      input({ method: 'link', clicked_at: new Date('2026-02-19T12:00:00Z') }),
      null,
    ],
    [
      'free-days-or-commission: a click 60 days before signup is outside the window',
      freeDays,
      input({ method: 'link', clicked_at: new Date('2025-12-31T12:00:00Z') }),
      'attribution_window_expired',
    ],
    [
      'free-days-or-commission: a sub-account of the referrer is not a referral',
      freeDays,
      input({ referee: { parent_id: 'cus_referrer' } }),
      'sub_account',
    ],
    [
      'free-days-or-commission: a suspended referrer gets no new referrals',
      freeDays,
      input({ referrer: { suspended: true } }),
      'referrer_suspended',
    ],
    [
      'bonus-minutes: an account older than the grace period cannot be referred',
      minutes,
      input({ referee: { created_at: new Date('2026-02-01T00:00:00Z') } }),
      'not_new_account',
    ],
    [
      'bonus-minutes: an account that had a subscription cannot be referred',
      minutes,
      input({ context: 'api', referee: { billed_before: true } }),
      'not_new_account',
    ],
    [
      'bonus-minutes: an account created a minute ago is new through the API',
      minutes,
      input({ context: 'api', referee: { created_at: new Date(AT.getTime() - 60_000) } }),
      null,
    ],
    [
      'bonus-minutes: a code entered at a card attach is not at signup',
      minutes,
      input({ context: 'card_attached', referee: { card_attached: firstCard } }),
      'code_not_accepted_now',
    ],
    [
      'bonus-minutes: a support repair is not bound to the signup moment',
      minutes,
      input({
        context: 'manual',
        method: 'manual',
        referee: { created_at: new Date('2026-02-01T00:00:00Z') },
      }),
      null,
    ],
    [
      'credit-on-first-card: a team referred by another referrer is refused first of all',
      credit,
      input({ context: 'api', referee: { already_referred: true, fingerprints: ['fp_x'] } }),
      'already_referred',
    ],
    [
      'credit-on-first-card: a self-referral through the API is named as such, whatever the moment',
      credit,
      input({ context: 'api', referee: { id: 'cus_referrer', fingerprints: ['fp_referrer'] } }),
      'self_referral',
    ],
    [
      'bonus-minutes: a support repair still refuses a self-referral',
      minutes,
      input({ context: 'manual', method: 'manual', referee: { id: 'cus_referrer' } }),
      'self_referral',
    ],
  ];
  for (const [label, p, attempt, expected] of cases) {
    it(label, () => {
      const decision = decideAttribution(p, attempt);
      assert.equal(decision.ok ? null : decision.rejection.reason, expected, JSON.stringify(decision));
    });
  }

  it('an accepted attempt claims the referee, its cards and the cap slot', () => {
    const capped = program('credit-on-first-card', (d) => ({
      ...d,
      fraud: { ...d.fraud, max_referrals_per_referrer: { count: 10, period: 'month' } },
    }));
    const decision = decideAttribution(
      capped,
      input({ context: 'card_attached', referee: { fingerprints: ['fp_new'], card_attached: firstCard } }),
    );
    assert.ok(decision.ok);
    assert.deepEqual(decision.claims, [
      { kind: 'referee_once' },
      { kind: 'card', fingerprint: 'fp_new' },
      { kind: 'cap', count: 10, period: 'month', period_start: new Date('2026-03-01T00:00:00Z') },
    ]);
  });

  it('credit-on-first-card has no cap: 1,000 referrals by one team claim no cap slot', () => {
    const decision = decideAttribution(
      credit,
      input({ context: 'card_attached', referee: { card_attached: firstCard } }),
    );
    assert.ok(decision.ok);
    assert.ok(!decision.claims.some((c) => c.kind === 'cap'));
  });

  it("a later card that is the referrer's own is a self-referral; another card is claimed", () => {
    const mine = decideLaterCard(credit, ['fp_referrer'], 'fp_referrer');
    assert.equal(mine.ok ? null : mine.rejection.reason, 'self_referral');
    const other = decideLaterCard(credit, ['fp_referrer'], 'fp_other');
    assert.deepEqual(other.ok && other.claims, [{ kind: 'card', fingerprint: 'fp_other' }]);
  });
});

describe('cap periods', () => {
  const at = new Date('2026-03-05T15:00:00Z'); // a Thursday
  const cases: [string, Parameters<typeof capPeriodStart>[0], string][] = [
    ['a day starts at UTC midnight', 'day', '2026-03-05T00:00:00.000Z'],
    ['a week starts on Monday', 'week', '2026-03-02T00:00:00.000Z'],
    ['a month starts on the first', 'month', '2026-03-01T00:00:00.000Z'],
    ['a year starts on 1 January', 'year', '2026-01-01T00:00:00.000Z'],
    ['all time has one period', 'all_time', '1970-01-01T00:00:00.000Z'],
  ];
  for (const [label, period, expected] of cases) {
    it(label, () => assert.equal(capPeriodStart(period, at).toISOString(), expected));
  }
});
