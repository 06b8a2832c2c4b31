import { MAX_BALANCE_MINOR } from '../money/amount.js';
import { isExpired } from './lots.js';

/**
 * The ledger's invariants as one pure check over a snapshot of a workspace's ledger. The property
 * tests run it after every step; an operator can run it over a live store. It returns every
 * violation it finds, described in words, and an empty list when the ledger is sound.
 */
export type AccountKind =
  | 'customer'
  | 'program_expense'
  | 'breakage'
  | 'invoice_applied'
  | 'usage'
  | 'payout_holds'
  | 'payouts'
  | 'clawback';

export const SYSTEM_ACCOUNT_KINDS = [
  'program_expense',
  'breakage',
  'invoice_applied',
  'usage',
  'payout_holds',
  'payouts',
  'clawback',
] as const satisfies readonly Exclude<AccountKind, 'customer'>[];

export interface SnapshotAccount {
  id: string;
  asset_id: string;
  kind: AccountKind;
  customer_id: string | null;
  /** Customer accounts only: the cached balance and debt. */
  balance: number | null;
  debt: number | null;
}

export interface SnapshotEntry {
  id: string;
  asset_id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: number;
  kind: string;
  lot_id: string | null;
}

export interface SnapshotLot {
  id: string;
  account_id: string;
  amount: number;
  remaining: number;
  debt_repaid: number;
  expired_amount: number;
  expires_at_ms: number | null;
}

export interface SnapshotPayout {
  id: string;
  account_id: string;
  amount: number;
  status: 'pending' | 'paid' | 'rejected' | 'canceled';
}

export interface SnapshotAsset {
  id: string;
  key: string;
  negative_policy: 'allow_negative' | 'forgive';
}

export interface LedgerSnapshot {
  now_ms: number;
  accounts: readonly SnapshotAccount[];
  entries: readonly SnapshotEntry[];
  lots: readonly SnapshotLot[];
  payouts: readonly SnapshotPayout[];
  /** When given, debt (a balance below zero) is checked against each asset's negative policy. */
  assets?: readonly SnapshotAsset[];
}

export function checkInvariants(s: LedgerSnapshot, options: { expiredSwept: boolean }): string[] {
  const out: string[] = [];
  const accounts = new Map(s.accounts.map((a) => [a.id, a]));
  const net = new Map<string, number>(s.accounts.map((a) => [a.id, 0]));
  const lotOutflow = new Map<string, number>();
  const lotInflow = new Map<string, number>();
  const lotExpired = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  for (const e of s.entries) {
    const debit = accounts.get(e.debit_account_id);
    const credit = accounts.get(e.credit_account_id);
    if (!debit || !credit) {
      out.push(`entry ${e.id} names an unknown account`);
      continue;
    }
    if (debit.asset_id !== e.asset_id || credit.asset_id !== e.asset_id) {
      out.push(`entry ${e.id} moves value between assets`);
    }
    if (!Number.isSafeInteger(e.amount) || e.amount <= 0) out.push(`entry ${e.id} has amount ${e.amount}`);
    add(net, debit.id, -e.amount);
    add(net, credit.id, e.amount);
    if (e.lot_id !== null) {
      if (debit.kind === 'customer') add(lotOutflow, e.lot_id, e.amount);
      if (credit.kind === 'customer') add(lotInflow, e.lot_id, e.amount);
      if (e.kind === 'expire') add(lotExpired, e.lot_id, e.amount);
    }
  }

  // 1. Per asset, the sum over all accounts is zero.
  const perAsset = new Map<string, number>();
  for (const a of s.accounts) add(perAsset, a.asset_id, net.get(a.id) ?? 0);
  for (const [asset, total] of perAsset) {
    if (total !== 0) out.push(`asset ${asset}: accounts sum to ${total}, not 0`);
  }

  // 2. Lots stay within [0, amount], each lot's history adds up, and open lots sum to the balance.
  const lotsByAccount = new Map<string, SnapshotLot[]>();
  for (const l of s.lots) {
    if (l.remaining < 0 || l.remaining > l.amount) {
      out.push(`lot ${l.id}: remaining ${l.remaining} is outside [0, ${l.amount}]`);
    }
    if ((lotInflow.get(l.id) ?? 0) !== l.amount) {
      out.push(`lot ${l.id}: amount ${l.amount} but ${lotInflow.get(l.id) ?? 0} came in`);
    }
    const used = lotOutflow.get(l.id) ?? 0;
    if (l.amount - l.debt_repaid - used !== l.remaining) {
      out.push(
        `lot ${l.id}: ${l.amount} - ${l.debt_repaid} repaid - ${used} used != remaining ${l.remaining}`,
      );
    }
    if ((lotExpired.get(l.id) ?? 0) !== l.expired_amount) {
      out.push(
        `lot ${l.id}: expired_amount ${l.expired_amount} but ${lotExpired.get(l.id) ?? 0} went to breakage`,
      );
    }
    // 4. An expired lot holds nothing once expiry has been applied.
    if (options.expiredSwept && isExpired(l, s.now_ms) && l.remaining !== 0) {
      out.push(`lot ${l.id} expired but still holds ${l.remaining}`);
    }
    const list = lotsByAccount.get(l.account_id) ?? [];
    list.push(l);
    lotsByAccount.set(l.account_id, list);
  }
  for (const a of s.accounts) {
    if (a.kind !== 'customer') continue;
    const lots = lotsByAccount.get(a.id) ?? [];
    const open = lots.reduce((sum, l) => sum + l.remaining, 0);
    const debt = a.debt ?? 0;
    if (a.balance !== net.get(a.id)) {
      out.push(`account ${a.id}: cached balance ${a.balance} but entries sum to ${net.get(a.id)}`);
    }
    if (a.balance !== open - debt) {
      out.push(`account ${a.id}: balance ${a.balance} != open lots ${open} - debt ${debt}`);
    }
    if (debt < 0) out.push(`account ${a.id}: negative debt ${debt}`);
    const asset = s.assets?.find((x) => x.id === a.asset_id);
    if (debt > 0 && asset?.negative_policy === 'forgive') {
      out.push(
        `account ${a.id}: in debt ${debt} (balance below zero) but asset ${asset.key} forgives; only allow_negative assets go below zero`,
      );
    }
    if (debt > 0 && open > 0) out.push(`account ${a.id}: in debt ${debt} while lots hold ${open}`);
    if ((a.balance ?? 0) > MAX_BALANCE_MINOR) out.push(`account ${a.id}: balance above the limit`);
  }

  // System accounts move only one way, and their totals match what the records say.
  const system = (asset: string, kind: AccountKind) =>
    s.accounts.find((a) => a.asset_id === asset && a.kind === kind);
  const expiredByAsset = new Map<string, number>();
  for (const l of s.lots) {
    const acc = accounts.get(l.account_id);
    if (acc) add(expiredByAsset, acc.asset_id, l.expired_amount);
  }
  const heldByAsset = new Map<string, number>();
  const paidByAsset = new Map<string, number>();
  for (const p of s.payouts) {
    const acc = accounts.get(p.account_id);
    if (!acc) continue;
    if (p.status === 'pending') add(heldByAsset, acc.asset_id, p.amount);
    if (p.status === 'paid') add(paidByAsset, acc.asset_id, p.amount);
  }
  for (const asset of perAsset.keys()) {
    const check = (kind: AccountKind, want: number) => {
      const acc = system(asset, kind);
      const have = acc ? (net.get(acc.id) ?? 0) : 0;
      if (have !== want) out.push(`asset ${asset}: ${kind} holds ${have}, expected ${want}`);
    };
    // 4. The remainder of every expired lot sits in breakage.
    check('breakage', expiredByAsset.get(asset) ?? 0);
    check('payout_holds', heldByAsset.get(asset) ?? 0);
    check('payouts', paidByAsset.get(asset) ?? 0);
    const expense = system(asset, 'program_expense');
    if (expense && (net.get(expense.id) ?? 0) > 0) out.push(`asset ${asset}: program_expense is positive`);
    for (const kind of ['usage', 'invoice_applied', 'clawback'] as const) {
      const acc = system(asset, kind);
      if (acc && (net.get(acc.id) ?? 0) < 0) out.push(`asset ${asset}: ${kind} is negative`);
    }
  }
  return out;
}
