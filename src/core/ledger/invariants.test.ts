import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInvariants, type LedgerSnapshot, type SnapshotAccount } from './invariants.js';

const sys = (kind: SnapshotAccount['kind']): SnapshotAccount => ({
  id: kind,
  asset_id: 'usd',
  kind,
  customer_id: null,
  balance: null,
  debt: null,
});

/** One customer granted 100, spent 30 on an invoice, with 20 expired; everything adds up. */
function sound(): LedgerSnapshot {
  return {
    now_ms: 1000,
    accounts: [
      { id: 'cust', asset_id: 'usd', kind: 'customer', customer_id: 'c1', balance: 50, debt: 0 },
      sys('program_expense'),
      sys('breakage'),
      sys('invoice_applied'),
      sys('payout_holds'),
      sys('payouts'),
    ],
    entries: [
      {
        id: 'e1',
        asset_id: 'usd',
        debit_account_id: 'program_expense',
        credit_account_id: 'cust',
        amount: 100,
        kind: 'grant',
        lot_id: 'L1',
      },
      {
        id: 'e2',
        asset_id: 'usd',
        debit_account_id: 'cust',
        credit_account_id: 'invoice_applied',
        amount: 30,
        kind: 'invoice_apply',
        lot_id: 'L1',
      },
      {
        id: 'e3',
        asset_id: 'usd',
        debit_account_id: 'program_expense',
        credit_account_id: 'cust',
        amount: 20,
        kind: 'grant',
        lot_id: 'L2',
      },
      {
        id: 'e4',
        asset_id: 'usd',
        debit_account_id: 'cust',
        credit_account_id: 'breakage',
        amount: 20,
        kind: 'expire',
        lot_id: 'L2',
      },
      {
        id: 'e5',
        asset_id: 'usd',
        debit_account_id: 'cust',
        credit_account_id: 'payout_holds',
        amount: 20,
        kind: 'payout_hold',
        lot_id: 'L1',
      },
    ],
    lots: [
      {
        id: 'L1',
        account_id: 'cust',
        amount: 100,
        remaining: 50,
        debt_repaid: 0,
        expired_amount: 0,
        expires_at_ms: null,
      },
      {
        id: 'L2',
        account_id: 'cust',
        amount: 20,
        remaining: 0,
        debt_repaid: 0,
        expired_amount: 20,
        expires_at_ms: 500,
      },
    ],
    payouts: [{ id: 'p1', account_id: 'cust', amount: 20, status: 'pending' }],
  };
}

describe('checkInvariants', () => {
  it('a sound ledger has no violations', () =>
    assert.deepEqual(checkInvariants(sound(), { expiredSwept: true }), []));

  const broken: [string, (s: LedgerSnapshot) => LedgerSnapshot, RegExp][] = [
    [
      'an entry across two assets breaks the per-asset zero sum',
      (s) => ({
        ...s,
        accounts: [...s.accounts, { ...sys('usage'), id: 'eur_usage', asset_id: 'eur' }],
        entries: [...s.entries, { ...s.entries[1]!, id: 'x', credit_account_id: 'eur_usage' }],
      }),
      /moves value between assets|sum to/,
    ],
    [
      'a cached balance that drifted from the entries',
      (s) => ({ ...s, accounts: s.accounts.map((a) => (a.id === 'cust' ? { ...a, balance: 51 } : a)) }),
      /cached balance/,
    ],
    [
      'a lot whose remaining went negative',
      (s) => ({ ...s, lots: s.lots.map((l) => (l.id === 'L1' ? { ...l, remaining: -1 } : l)) }),
      /outside/,
    ],
    [
      'a lot whose remaining exceeds its amount',
      (s) => ({ ...s, lots: s.lots.map((l) => (l.id === 'L1' ? { ...l, remaining: 101 } : l)) }),
      /outside/,
    ],
    [
      'lots that do not add up to the balance',
      (s) => ({ ...s, lots: s.lots.map((l) => (l.id === 'L1' ? { ...l, remaining: 40 } : l)) }),
      /open lots/,
    ],
    [
      'an expired lot still holding value',
      (s) => ({ ...s, lots: s.lots.map((l) => (l.id === 'L1' ? { ...l, expires_at_ms: 900 } : l)) }),
      /expired but still holds/,
    ],
    [
      'breakage that does not match the expired lots',
      (s) => ({ ...s, lots: s.lots.map((l) => (l.id === 'L2' ? { ...l, expired_amount: 10 } : l)) }),
      /expired_amount|breakage holds/,
    ],
    ['a hold without a pending payout', (s) => ({ ...s, payouts: [] }), /payout_holds holds 20, expected 0/],
    [
      'debt while lots still hold value',
      (s) => ({ ...s, accounts: s.accounts.map((a) => (a.id === 'cust' ? { ...a, debt: 5 } : a)) }),
      /in debt/,
    ],
  ];
  for (const [label, mutate, pattern] of broken) {
    it(`finds ${label}`, () => {
      const violations = checkInvariants(mutate(sound()), { expiredSwept: true });
      assert.ok(
        violations.some((v) => pattern.test(v)),
        violations.join('\n') || 'no violation found',
      );
    });
  }
  it('debt (a balance below zero) is a fault only on an asset that forgives', () => {
    const inDebt = (negative_policy: 'forgive' | 'allow_negative') => {
      const s = sound();
      s.assets = [{ id: 'usd', key: 'usd_credit', negative_policy }];
      s.accounts = s.accounts.map((a) => (a.id === 'cust' ? { ...a, debt: 5 } : a));
      return checkInvariants(s, { expiredSwept: true });
    };
    assert.ok(
      inDebt('forgive').some((v) => /forgives/.test(v)),
      inDebt('forgive').join('\n'),
    );
    assert.ok(!inDebt('allow_negative').some((v) => /forgives/.test(v)));
  });
  it('an expired lot not yet swept is allowed when expiry has not been applied', () => {
    const s = sound();
    s.lots = s.lots.map((l) => (l.id === 'L1' ? { ...l, expires_at_ms: 900 } : l));
    assert.deepEqual(checkInvariants(s, { expiredSwept: false }), []);
  });
});
