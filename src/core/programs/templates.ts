/**
 * The three reference programs, shipped as templates (`perks programs create --template NAME` and
 * `POST /v1/programs/from_template`). Each is an ordinary program document plus the ledger assets it
 * pays in, which are created if the workspace does not have them yet.
 */
import type { AssetInput } from '../ledger/assets.js';
import type { ProgramInput } from './schema.js';

export interface ProgramTemplate {
  name: string;
  summary: string;
  /** The original text the template implements (in the repository's reference folder). */
  reference: string;
  document: ProgramInput;
  assets: AssetInput[];
}

const EXAMPLE_LANDING_URL = 'https://example.com/signup';

/**
 * Both teams get $25 of credit when the referred team attaches its first card with the code; the
 * referrer needs a card on file to get a code; credits never expire and there is no cap.
 */
const creditOnFirstCard: ProgramTemplate = {
  name: 'credit-on-first-card',
  summary: 'Both teams get $25 in credits when the referred team attaches its first card with the code.',
  reference: 'credit-on-first-card.txt',
  assets: [{ key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit' }],
  document: {
    key: 'credit-on-first-card',
    name: 'Give $25, get $25',
    description:
      'Share your code; when a new team adds its first card with it, both teams get $25 in credits.',
    landing_url: EXAMPLE_LANDING_URL,
    referrer: { eligibility: 'card_on_file', suspend_after_inactivity_days: null },
    attribution: { methods: ['code'], code_accepted: 'at_first_card', link_window_days: 60 },
    referee: { new_accounts_only: false, separate_account: false, first_card_only: true },
    fraud: {
      self_referral: true,
      referred_once: true,
      card_once_per_program: true,
      max_referrals_per_referrer: null,
    },
    options: [],
    rewards: [
      {
        description: 'Referrer: $25 in credits per successful referral',
        trigger: 'first_card_attached',
        recipient: 'referrer',
        asset: 'usd_credit',
        amount: { kind: 'fixed', value: 2500 },
        expiry: { type: 'never' },
        repeat: 'once_per_referral',
      },
      {
        description: 'New team: $25 in credits on its first card',
        trigger: 'first_card_attached',
        recipient: 'referee',
        asset: 'usd_credit',
        amount: { kind: 'fixed', value: 2500 },
        expiry: { type: 'never' },
        repeat: 'once_per_referral',
      },
    ],
  },
};

/**
 * Every payment of a referred customer gives the referrer 3 free days (monthly) or a calendar month
 * (yearly), or, on the cash option, 10% commission once a contract is signed; $20 minimum payout;
 * a referrer with no new referral for a year is suspended.
 */
const freeDaysOrCommission: ProgramTemplate = {
  name: 'free-days-or-commission',
  summary: 'Per referred payment: 3 free days (monthly) or a month (yearly), or 10% cash after a contract.',
  reference: 'free-days-or-commission.txt',
  assets: [
    { key: 'service_days', kind: 'days', purpose: 'credit' },
    { key: 'usd_commission', kind: 'money', currency: 'usd', purpose: 'commission', payout_minimum: 2000 },
  ],
  document: {
    key: 'free-days-or-commission',
    name: 'Partner program: free days or 10% commission',
    description: 'Share your link; each payment of a customer you bring gives you free days or money.',
    landing_url: EXAMPLE_LANDING_URL,
    referrer: { eligibility: 'any', suspend_after_inactivity_days: 365 },
    attribution: { methods: ['link', 'code'], code_accepted: 'at_signup', link_window_days: 60 },
    referee: {
      new_accounts_only: true,
      new_account_grace_minutes: 60,
      separate_account: true,
      first_card_only: false,
    },
    fraud: {
      self_referral: true,
      referred_once: true,
      card_once_per_program: true,
      max_referrals_per_referrer: null,
    },
    options: [
      {
        key: 'free_days',
        name: 'Free days',
        description: '3 days per monthly payment, a month per yearly one',
      },
      { key: 'cash', name: 'Cash commission', description: '10% of each payment, after a signed contract' },
    ],
    rewards: [
      {
        description: '3 free days per monthly payment, one calendar month per yearly payment',
        trigger: 'payment_succeeded',
        recipient: 'referrer',
        asset: 'service_days',
        amount: { kind: 'per_interval', table: { month: 3, year: '1 calendar month' } },
        expiry: { type: 'never' },
        repeat: 'every_time',
        option: 'free_days',
      },
      {
        description: '10% of each payment, accrued only after the contract is signed',
        trigger: 'payment_succeeded',
        recipient: 'referrer',
        asset: 'usd_commission',
        amount: { kind: 'percent_of_payment', bps: 1000 },
        rounding: 'half_even',
        expiry: { type: 'never' },
        repeat: 'every_time',
        option: 'cash',
        gates: ['has_signed_contract'],
      },
    ],
  },
};

/**
 * When the referred friend's first paid subscription starts, both get 25% of the plan's minutes
 * (rounded half-even), expiring at the end of each one's current billing period; only paying
 * subscribers get a link; existing accounts cannot be referred; a resubscription pays nothing.
 */
const bonusMinutes: ProgramTemplate = {
  name: 'bonus-minutes',
  summary: "Both get 25% of the friend's plan minutes for the current billing period when it subscribes.",
  reference: 'bonus-minutes.txt',
  assets: [{ key: 'bonus_minutes', kind: 'units', unit: 'minutes', purpose: 'credit' }],
  document: {
    key: 'bonus-minutes',
    name: 'Invite friends, earn free minutes',
    description: "You and your friend both get 25% of the friend's plan minutes when the friend subscribes.",
    landing_url: EXAMPLE_LANDING_URL,
    referrer: { eligibility: 'paid_subscription', suspend_after_inactivity_days: null },
    attribution: { methods: ['link', 'code'], code_accepted: 'at_signup', link_window_days: 60 },
    referee: {
      new_accounts_only: true,
      new_account_grace_minutes: 60,
      separate_account: false,
      first_card_only: false,
    },
    fraud: {
      self_referral: true,
      referred_once: true,
      card_once_per_program: true,
      max_referrals_per_referrer: null,
    },
    options: [],
    rewards: [
      {
        description: "Referrer: 25% of the friend's plan minutes for the referrer's current billing period",
        trigger: 'subscription_activated',
        recipient: 'referrer',
        asset: 'bonus_minutes',
        amount: { kind: 'percent_of_plan_units', bps: 2500 },
        rounding: 'half_even',
        expiry: { type: 'end_of_billing_period' },
        repeat: 'once_per_referral',
      },
      {
        description: 'Friend: 25% of its plan minutes for its current billing period',
        trigger: 'subscription_activated',
        recipient: 'referee',
        asset: 'bonus_minutes',
        amount: { kind: 'percent_of_plan_units', bps: 2500 },
        rounding: 'half_even',
        expiry: { type: 'end_of_billing_period' },
        repeat: 'once_per_referral',
      },
    ],
  },
};

export const TEMPLATES: readonly ProgramTemplate[] = [creditOnFirstCard, freeDaysOrCommission, bonusMinutes];
export const TEMPLATE_NAMES = TEMPLATES.map((t) => t.name);

export function findTemplate(name: string): ProgramTemplate | undefined {
  return TEMPLATES.find((t) => t.name === name);
}
