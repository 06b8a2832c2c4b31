import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amountWords, eligibilityHint, rewardWords, type WordedAsset, withdrawal } from './wording.js';

const usdCredit: WordedAsset = { kind: 'money', purpose: 'credit', currency: 'usd', unit: null };
const usdCommission: WordedAsset = { kind: 'money', purpose: 'commission', currency: 'usd', unit: null };
const jpyCredit: WordedAsset = { kind: 'money', purpose: 'credit', currency: 'jpy', unit: null };
const eurCredit: WordedAsset = { kind: 'money', purpose: 'credit', currency: 'eur', unit: null };
const minutes: WordedAsset = { kind: 'units', purpose: 'credit', currency: null, unit: 'minutes' };
const days: WordedAsset = { kind: 'days', purpose: 'credit', currency: null, unit: null };

describe('rewards in the program words', () => {
  const table: [string, WordedAsset, number, string][] = [
    ['a whole dollar amount drops the cents', usdCredit, 5000, '$50 in credits'],
    ['cents are kept when there are some', usdCredit, 2550, '$25.50 in credits'],
    ['commission says so', usdCommission, 390, '$3.90 in commission'],
    ['a zero-decimal currency has no minor digits', jpyCredit, 500, '¥500 in credits'],
    ['another currency uses its own symbol', eurCredit, 1999, '€19.99 in credits'],
    ['units are bonus units', minutes, 90, '90 bonus minutes'],
    ['one unit is singular', minutes, 1, '1 bonus minute'],
    ['large counts are grouped', minutes, 12000, '12,000 bonus minutes'],
    ['days are free days', days, 12, '12 free days'],
    ['one day is singular', days, 1, '1 free day'],
    ['zero reads as zero', days, 0, '0 free days'],
  ];
  for (const [label, asset, amount, expected] of table) {
    it(label, () => assert.equal(rewardWords(asset, amount), expected));
  }

  it('the bare amount has no purpose words', () => {
    assert.equal(amountWords(usdCommission, 2000), '$20');
    assert.equal(amountWords(minutes, 22), '22 bonus minutes');
  });
});

describe('eligibility hints', () => {
  const table: [string, Parameters<typeof eligibilityHint>, string][] = [
    [
      'a code-only program asks for a card',
      ['card_on_file', ['code']],
      'Add a card to get your referral code.',
    ],
    [
      'a link program promises the link',
      ['paid_subscription', ['link', 'code']],
      'Subscribe to a paid plan to get your referral link.',
    ],
    ['a card for a link', ['card_on_file', ['link']], 'Add a card to get your referral link.'],
  ];
  for (const [label, args, expected] of table) {
    it(label, () => assert.equal(eligibilityHint(...args), expected));
  }
});

describe('withdrawal', () => {
  it('nothing available cannot be withdrawn, and says where it opens', () => {
    const w = withdrawal(usdCommission, 0, 2000);
    assert.equal(w.allowed, false);
    assert.equal(w.allowed === false && w.reason, 'nothing_to_withdraw');
    assert.equal(w.message, 'Nothing to withdraw yet. Withdrawals open at $20.');
  });
  it('below the minimum cannot be withdrawn', () => {
    const w = withdrawal(usdCommission, 1999, 2000);
    assert.equal(w.allowed, false);
    assert.equal(w.message, 'Withdrawals open at $20; you have $19.99.');
  });
  it('exactly the minimum can be withdrawn', () => {
    assert.deepEqual(withdrawal(usdCommission, 2000, 2000), {
      allowed: true,
      message: 'You can withdraw $20.',
    });
  });
  it('without a minimum, any positive balance can be withdrawn', () => {
    assert.equal(withdrawal(usdCommission, 1, 0).allowed, true);
    assert.equal(withdrawal(usdCommission, 0, 0).message, 'Nothing to withdraw yet.');
  });
});
