/**
 * A reference model of the ledger in plain TypeScript: lists and loops, no database, and none of
 * src/core/ledger, so that the property tests compare two independent readings of the rules.
 *
 * Lots are numbered in the order they are created; the real store's lot ids are sortable and
 * created in the same order, so lot n of the model is the n-th lot of the store.
 */

export type Kind = 'money' | 'units' | 'days';
export type Purpose = 'credit' | 'commission';
export type Policy = 'allow_negative' | 'forgive';

export interface ModelAsset {
  key: string;
  kind: Kind;
  currency: string | null;
  purpose: Purpose;
  policy: Policy;
  minimum: number;
}

export interface ModelLot {
  n: number;
  customer: string;
  asset: string;
  /** The number of the lot that started this grant. */
  grant: number;
  amount: number;
  remaining: number;
  expires_at: number | null;
  granted_at: number;
  debt_repaid: number;
  expired: number;
}

export interface Piece {
  lot: number;
  amount: number;
}

export type Expiry = { type: 'never' } | { type: 'at'; at: number } | { type: 'after_days'; days: number };

export type Result<T> = { ok: true; value: T } | { ok: false; code: string };

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(code: string): Result<T> => ({ ok: false, code });

interface Settlement {
  customer: string;
  currency: string;
  subtotal: number;
  credits: Piece[];
  amount_due: number;
  voided: boolean;
}

interface Reversal {
  unspent: number;
  spent: number;
  debt_added: number;
  forgiven: number;
  taken_from_other_lots: number;
}

interface Payout {
  customer: string;
  asset: string;
  amount: number;
  pieces: Piece[];
  status: 'pending' | 'paid' | 'rejected' | 'canceled';
}

const DAY_MS = 86_400_000;

export class LedgerModel {
  now: number;
  readonly assets = new Map<string, ModelAsset>();
  readonly lots: ModelLot[] = [];
  readonly debt = new Map<string, number>();
  readonly grantsByReference = new Map<
    string,
    { lot: number; amount: number; expiry: Expiry; asset: string; customer: string }
  >();
  readonly settlements = new Map<string, Settlement>();
  readonly reversals = new Map<number, Reversal>();
  readonly payouts: Payout[] = [];
  /** What each asset's breakage account holds. */
  readonly breakage = new Map<string, number>();

  constructor(now: number, assets: ModelAsset[]) {
    this.now = now;
    for (const a of assets) this.assets.set(a.key, a);
  }

  private debtOf(customer: string, asset: string) {
    return this.debt.get(`${customer}/${asset}`) ?? 0;
  }

  private setDebt(customer: string, asset: string, value: number) {
    this.debt.set(`${customer}/${asset}`, value);
  }

  /** A lot is usable while now < expires_at. */
  private usable(l: ModelLot) {
    return l.remaining > 0 && (l.expires_at === null || this.now < l.expires_at);
  }

  /** The spec's order, written out: earliest expiry (none = last), then oldest grant, then creation. */
  private ordered(lots: ModelLot[]) {
    const key = (l: ModelLot) => [
      l.expires_at === null ? Number.POSITIVE_INFINITY : l.expires_at,
      l.granted_at,
      l.n,
    ];
    return lots
      .filter((l) => this.usable(l))
      .sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        for (let i = 0; i < 3; i++) if (ka[i]! !== kb[i]!) return ka[i]! < kb[i]! ? -1 : 1;
        return 0;
      });
  }

  private lotsOf(customer: string, asset: string) {
    return this.lots.filter((l) => l.customer === customer && l.asset === asset);
  }

  /** Applies every expiry due now: the remainder of each lot past its expiry goes to breakage. */
  expireAll() {
    for (const l of this.lots) {
      if (l.remaining > 0 && l.expires_at !== null && l.expires_at <= this.now) {
        this.breakage.set(l.asset, (this.breakage.get(l.asset) ?? 0) + l.remaining);
        l.expired += l.remaining;
        l.remaining = 0;
      }
    }
  }

  private take(lots: ModelLot[], amount: number): Piece[] {
    const pieces: Piece[] = [];
    let left = amount;
    for (const l of this.ordered(lots)) {
      if (left === 0) break;
      const t = Math.min(l.remaining, left);
      l.remaining -= t;
      left -= t;
      pieces.push({ lot: l.n, amount: t });
    }
    return pieces;
  }

  private available(lots: ModelLot[]) {
    return this.ordered(lots).reduce((s, l) => s + l.remaining, 0);
  }

  private newLot(
    customer: string,
    asset: string,
    amount: number,
    grant: number | null,
    expires_at: number | null,
    granted_at: number,
  ) {
    const n = this.lots.length;
    const debt = this.debtOf(customer, asset);
    const repaid = Math.min(debt, amount);
    this.setDebt(customer, asset, debt - repaid);
    const lot: ModelLot = {
      n,
      customer,
      asset,
      grant: grant ?? n,
      amount,
      remaining: amount - repaid,
      expires_at,
      granted_at,
      debt_repaid: repaid,
      expired: 0,
    };
    this.lots.push(lot);
    return lot;
  }

  grant(
    customer: string,
    asset: string,
    amount: number,
    expiry: Expiry,
    reference: string,
  ): Result<{ lot: number; created: boolean }> {
    const prior = this.grantsByReference.get(reference);
    if (prior) {
      const same =
        prior.customer === customer &&
        prior.asset === asset &&
        prior.amount === amount &&
        JSON.stringify(prior.expiry) === JSON.stringify(expiry);
      return same ? ok({ lot: prior.lot, created: false }) : fail('grant_reference_reused');
    }
    let expires_at: number | null = null;
    if (expiry.type === 'at') {
      if (expiry.at <= this.now) return fail('expiry_invalid');
      expires_at = expiry.at;
    } else if (expiry.type === 'after_days') {
      expires_at = this.now + expiry.days * DAY_MS;
    }
    const lot = this.newLot(customer, asset, amount, null, expires_at, this.now);
    this.grantsByReference.set(reference, { lot: lot.n, amount, expiry, asset, customer });
    return ok({ lot: lot.n, created: true });
  }

  consume(customer: string, asset: string, amount: number, partial: boolean): Result<Piece[]> {
    const a = this.assets.get(asset)!;
    if (a.kind === 'money') return fail('asset_not_applicable');
    const lots = this.lotsOf(customer, asset);
    if (!partial && this.available(lots) < amount) return fail('insufficient_balance');
    this.expireAll();
    return ok(this.take(lots, amount));
  }

  settle(
    invoice: string,
    customer: string,
    currency: string,
    subtotal: number,
  ): Result<{ credits: Piece[]; amount_due: number }> {
    const prior = this.settlements.get(invoice);
    if (prior) {
      const same = prior.customer === customer && prior.currency === currency && prior.subtotal === subtotal;
      return same
        ? ok({ credits: prior.credits, amount_due: prior.amount_due })
        : fail('invoice_already_settled');
    }
    this.expireAll();
    const credit = [...this.assets.values()].filter(
      (a) => a.kind === 'money' && a.purpose === 'credit' && a.currency === currency,
    );
    const lots = this.lots.filter((l) => l.customer === customer && credit.some((a) => a.key === l.asset));
    const credits = this.take(lots, subtotal);
    const applied = credits.reduce((s, p) => s + p.amount, 0);
    const settlement = {
      customer,
      currency,
      subtotal,
      credits,
      amount_due: subtotal - applied,
      voided: false,
    };
    this.settlements.set(invoice, settlement);
    return ok({ credits, amount_due: settlement.amount_due });
  }

  /** Gives a spent piece back as a new lot of its grant with the original expiry. */
  private restore(piece: Piece) {
    const from = this.lots[piece.lot]!;
    const lot = this.newLot(
      from.customer,
      from.asset,
      piece.amount,
      from.grant,
      from.expires_at,
      from.granted_at,
    );
    const policy = this.assets.get(from.asset)!.policy;
    if (this.reversals.has(from.grant) && policy === 'forgive') lot.remaining = 0;
  }

  voidInvoice(invoice: string): Result<null> {
    const s = this.settlements.get(invoice);
    if (!s) return fail('resource_not_found');
    if (s.voided) return ok(null);
    this.expireAll();
    for (const p of s.credits) this.restore(p);
    s.voided = true;
    this.expireAll();
    return ok(null);
  }

  reverse(customer: string, grant: number): Result<Reversal> {
    const root = this.lots[grant];
    if (!root || root.grant !== root.n || root.customer !== customer) return fail('resource_not_found');
    const prior = this.reversals.get(grant);
    if (prior) return ok(prior);
    this.expireAll();
    const mine = this.lots.filter((l) => l.grant === grant);
    const unspent = mine.reduce((s, l) => s + l.remaining, 0);
    const expired = mine.reduce((s, l) => s + l.expired, 0);
    for (const l of mine) l.remaining = 0;
    const spent = root.amount - unspent - expired;
    const result: Reversal = { unspent, spent, debt_added: 0, forgiven: 0, taken_from_other_lots: 0 };
    if (this.assets.get(root.asset)!.policy === 'forgive') {
      result.forgiven = spent;
    } else {
      const others = this.lotsOf(customer, root.asset).filter((l) => l.grant !== grant);
      const taken = this.take(others, spent).reduce((s, p) => s + p.amount, 0);
      result.taken_from_other_lots = taken;
      result.debt_added = spent - taken;
      this.setDebt(customer, root.asset, this.debtOf(customer, root.asset) + spent - taken);
    }
    this.reversals.set(grant, result);
    return ok(result);
  }

  requestPayout(
    customer: string,
    asset: string,
    amount: number,
  ): Result<{ payout: number; pieces: Piece[] }> {
    const a = this.assets.get(asset)!;
    if (a.purpose !== 'commission') return fail('asset_not_applicable');
    if (amount < a.minimum) return fail('payout_below_minimum');
    const lots = this.lotsOf(customer, asset);
    if (this.available(lots) < amount) return fail('insufficient_balance');
    this.expireAll();
    const pieces = this.take(lots, amount);
    this.payouts.push({ customer, asset, amount, pieces, status: 'pending' });
    return ok({ payout: this.payouts.length - 1, pieces });
  }

  decidePayout(index: number, outcome: 'paid' | 'rejected' | 'canceled'): Result<null> {
    const p = this.payouts[index];
    if (!p) return fail('resource_not_found');
    if (p.status === outcome) return ok(null);
    if (p.status !== 'pending') return fail('payout_not_pending');
    if (outcome !== 'paid') {
      this.expireAll();
      for (const piece of p.pieces) this.restore(piece);
      this.expireAll();
    }
    p.status = outcome;
    return ok(null);
  }

  /** Per (customer, asset): available (open lots less debt), held (pending payouts) and debt. */
  balance(customer: string, asset: string) {
    const lots = this.lotsOf(customer, asset);
    const debt = this.debtOf(customer, asset);
    const held = this.payouts
      .filter((p) => p.customer === customer && p.asset === asset && p.status === 'pending')
      .reduce((s, p) => s + p.amount, 0);
    return { available: lots.reduce((s, l) => s + l.remaining, 0) - debt, held, debt };
  }
}
