import { PerksError } from '../core/errors.js';
import { dueForExpiry } from '../core/ledger/expiry.js';
import { type NegativePolicy, planRestore } from '../core/ledger/inflow.js';
import type { Lot, Take } from '../core/ledger/lots.js';
import { MAX_BALANCE_MINOR } from '../core/money/amount.js';
import { type AssetRow, type SystemAccounts, type SystemKind, systemAccounts } from './ledger_assets.js';
import type { OutboxInput } from './outbox.js';
import {
  DELIVERY_ID_PREFIX,
  type WebhookEventType,
  type WebhookSubscriber,
  webhookDeliveries,
} from './outbox_webhooks.js';
import type { Deps, Sql } from './ports.js';

/**
 * The write side of the ledger, shared by every use case: load and lock a customer's account, change
 * it in memory as the core decided, and write all of it (new lots, changed lots, entries, the account
 * balance, the webhook deliveries that report it) in one statement at the end. Nothing here decides
 * anything; the core does.
 */

export type EntryKind =
  | 'grant'
  | 'consume'
  | 'invoice_apply'
  | 'invoice_void'
  | 'reversal'
  | 'expire'
  | 'payout_hold'
  | 'payout_post'
  | 'payout_release';

export type SourceType = 'program' | 'referral' | 'event' | 'manual';

/** What an operation needs of an open lot: the burn-down facts and the amounts it changes. */
export interface OpenLot extends Lot {
  account_id: string;
  asset_id: string;
  customer_id: string;
  grant_id: string;
  amount: number;
  debt_repaid: number;
  expired_amount: number;
  reversed_amount: number;
}

/** A whole lot, with what a lot given back from it copies (source, reason, expiry policy). */
export interface LotState extends OpenLot {
  restored_from_lot_id: string | null;
  source_type: SourceType;
  source_id: string | null;
  actor: string | null;
  reason: string | null;
  reference: string | null;
  expiry_policy: unknown;
  metadata: Record<string, string> | null;
  created_at_ms: number;
}

export interface LotRow {
  workspace_id: string;
  id: string;
  account_id: string;
  asset_id: string;
  customer_id: string;
  grant_id: string;
  restored_from_lot_id: string | null;
  amount: number;
  remaining: number;
  debt_repaid: number;
  expired_amount: number;
  reversed_amount: number;
  expires_at: Date | null;
  granted_at: Date;
  source_type: SourceType;
  source_id: string | null;
  actor: string | null;
  reason: string | null;
  reference: string | null;
  expiry_policy: unknown;
  metadata: Record<string, string> | null;
  created_at: Date;
}

export function lotFromRow(r: LotRow): LotState {
  return {
    id: r.id,
    account_id: r.account_id,
    asset_id: r.asset_id,
    customer_id: r.customer_id,
    grant_id: r.grant_id,
    restored_from_lot_id: r.restored_from_lot_id,
    amount: r.amount,
    remaining: r.remaining,
    debt_repaid: r.debt_repaid,
    expired_amount: r.expired_amount,
    reversed_amount: r.reversed_amount,
    expires_at_ms: r.expires_at?.getTime() ?? null,
    granted_at_ms: r.granted_at.getTime(),
    source_type: r.source_type,
    source_id: r.source_id,
    actor: r.actor,
    reason: r.reason,
    reference: r.reference,
    expiry_policy: r.expiry_policy,
    metadata: r.metadata,
    created_at_ms: r.created_at.getTime(),
  };
}

export interface AccountState {
  id: string;
  asset: AssetRow;
  system: SystemAccounts;
  customer_id: string;
  balance: number;
  debt: number;
  /** Stamped on the account row by every write to it; null before the first (see ledger_apply). */
  version: string | null;
  /** The open lots (remaining > 0) as loaded, plus lots created during this operation. */
  lots: OpenLot[];
}

interface AccountRow {
  id: string;
  asset_id: string;
  customer_id: string;
  balance: number;
  debt: number;
  version: string | null;
}

/** What ledger_lock answers, as JSON. */
interface LockedJson<Prior> {
  customer: string | null;
  accounts?: AccountRow[];
  lots?: OpenLotJson[];
  prior?: Prior | null;
  assets?: (Omit<AssetRow, 'created_at'> & { created_at: string })[];
  subscription?: { id: string; customer_id: string } | null;
  webhooks?: WebhookSubscriber[];
  may_discount?: boolean;
}

/** A lot row as ledger_lock returns it: JSON, so timestamps are ISO strings. */
export type LotJson = Omit<LotRow, 'expires_at' | 'granted_at' | 'created_at'> & {
  expires_at: string | null;
  granted_at: string;
  created_at: string;
};

/** An open lot as ledger_lock returns it: only the columns an operation reads. */
type OpenLotJson = Omit<OpenLot, 'expires_at_ms' | 'granted_at_ms'> & {
  expires_at: string | null;
  granted_at: string;
};

function openLotFromJson({ expires_at, granted_at, ...j }: OpenLotJson): OpenLot {
  return {
    ...j,
    expires_at_ms: expires_at === null ? null : Date.parse(expires_at),
    granted_at_ms: Date.parse(granted_at),
  };
}

export function lotRowFromJson(j: LotJson): LotRow {
  return {
    ...j,
    expires_at: j.expires_at === null ? null : new Date(j.expires_at),
    granted_at: new Date(j.granted_at),
    created_at: new Date(j.created_at),
  };
}

export interface Locked<Prior> {
  customer_id: string;
  /** One per asset the customer has an account for, in account id order. */
  accounts: AccountState[];
  /** What was already recorded under the grant reference or invoice id, as JSON, if anything. */
  prior: Prior | null;
  /** With `currency`: the money credit assets in that currency. */
  assets: AssetRow[];
  /** With `subscription`: that subscription, if it exists in the workspace. */
  subscription: { id: string; customer_id: string } | null;
  /** The workspace's webhook endpoints, read with the lock, for the events the operation emits. */
  webhooks: WebhookSubscriber[];
  /**
   * With `invoice`, when nothing was settled under it yet: false when the customer holds no open
   * promotion redemption and the invoice has no discount recorded, so the discount step would find
   * nothing.
   */
  may_have_discounts: boolean;
}

/** What an operation locks: the customer's accounts for the assets (or a currency), and a key. */
export interface LockTarget {
  /** The customer as the caller named it: Perks id or external id. */
  customerRef: string;
  assets: readonly AssetRow[];
  /** Instead of `assets`: every money credit asset in this currency (a settlement). */
  currency?: string | undefined;
  /** Lock this grant reference and return the grant made under it. */
  reference?: string | undefined;
  /** Lock this invoice id and return its settlement. */
  invoice?: string | undefined;
  subscription?: string | undefined;
  /** The parameter named by the error when the customer does not exist. */
  param?: string | undefined;
}

export interface LockOptions {
  /** Create the customer's missing accounts for the assets (a grant). */
  create?: boolean;
  /** Load the open lots. */
  lots: boolean;
  /** Instead of `assets`: every money credit asset in this currency (a settlement). */
  currency?: string | undefined;
  /** Lock this grant reference and return the grant made under it. */
  reference?: string | undefined;
  /** Lock this invoice id and return its settlement. */
  invoice?: string | undefined;
  subscription?: string | undefined;
  /** The parameter named by the error when the customer does not exist. */
  param?: string | undefined;
}

/**
 * Starts a ledger operation in one round trip (the ledger_lock function): resolves the customer
 * (Perks id or external id), locks its accounts for the assets in id order (creating missing ones
 * with `create`), and loads their open lots. The account row lock is the serialisation point: every
 * operation that changes an account takes it first, so two concurrent consumers or payouts can never
 * both spend the same lot, and locking in id order keeps two operations from deadlocking.
 *
 * With `reference` or `invoice` it also locks that key and returns what was already recorded under
 * it, so a concurrent repeat waits for the first and then finds it.
 */
export async function lockLedger<Prior = never>(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  assets: readonly AssetRow[],
  options: LockOptions,
): Promise<Locked<Prior>> {
  const [row] = await tx.query<{ locked: LockedJson<Prior> }>(
    'select ledger_lock($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) as locked',
    [
      workspaceId,
      customerRef,
      assets.map((a) => a.id),
      options.currency ?? null,
      options.create ? assets.map(() => deps.ids.id('acc')) : null,
      deps.clock.now(),
      options.lots,
      options.reference ?? null,
      options.invoice ?? null,
      options.subscription ?? null,
    ],
  );
  return fromLockedJson(tx, workspaceId, customerRef, assets, row!.locked, options.param);
}

async function fromLockedJson<Prior>(
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  assets: readonly AssetRow[],
  locked: LockedJson<Prior>,
  param = 'id',
): Promise<Locked<Prior>> {
  if (locked.customer === null) {
    throw new PerksError('resource_not_found', `no customer '${customerRef}'`, param);
  }
  const found = (locked.assets ?? []).map((a) => ({ ...a, created_at: new Date(a.created_at) }));
  const byId = new Map([...assets, ...found].map((a) => [a.id, a]));
  const accounts: AccountState[] = [];
  for (const a of locked.accounts ?? [])
    accounts.push(await toState(tx, workspaceId, a, byId.get(a.asset_id)!));
  const byAsset = new Map(accounts.map((a) => [a.asset.id, a]));
  for (const l of locked.lots ?? []) byAsset.get(l.asset_id)?.lots.push(openLotFromJson(l));
  return {
    customer_id: locked.customer,
    accounts,
    prior: locked.prior ?? null,
    assets: found,
    subscription: locked.subscription ?? null,
    webhooks: locked.webhooks ?? [],
    may_have_discounts: locked.may_discount ?? false,
  };
}

async function toState(
  tx: Sql,
  workspaceId: string,
  row: AccountRow,
  asset: AssetRow,
): Promise<AccountState> {
  return {
    id: row.id,
    asset,
    system: await systemAccounts(tx, workspaceId, asset.id),
    customer_id: row.customer_id,
    balance: row.balance,
    debt: row.debt,
    version: row.version,
    lots: [],
  };
}

/**
 * Locks a known customer's existing accounts for these assets and loads their open lots, with the
 * workspace's webhook endpoints (also when there are no assets, for an operation that only reports).
 */
export async function lockAccounts(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerId: string,
  assets: readonly AssetRow[],
): Promise<{ accounts: AccountState[]; webhooks: WebhookSubscriber[] }> {
  const locked = await lockLedger(deps, tx, workspaceId, customerId, assets, { lots: true });
  return { accounts: locked.accounts, webhooks: locked.webhooks };
}

export interface EntryDraft {
  debit_account_id: string;
  credit_account_id: string;
  amount: number;
  kind: EntryKind;
  lot_id: string | null;
  effective_at: Date;
}

interface EntryRecord extends EntryDraft {
  id: string;
  asset_id: string;
  customer_id: string;
  operation_id: string;
  reference: string | null;
}

/** What a new lot copies from the grant it belongs to. */
export type LotTemplate = Pick<
  LotState,
  | 'grant_id'
  | 'restored_from_lot_id'
  | 'expires_at_ms'
  | 'granted_at_ms'
  | 'source_type'
  | 'source_id'
  | 'actor'
  | 'reason'
  | 'reference'
  | 'expiry_policy'
  | 'metadata'
>;

/** A lot given back (voided invoice, voided payout) keeps the original grant, source and expiry. */
export function restoredTemplate(from: LotState): LotTemplate {
  return {
    grant_id: from.grant_id,
    restored_from_lot_id: from.id,
    expires_at_ms: from.expires_at_ms,
    granted_at_ms: from.granted_at_ms,
    source_type: from.source_type,
    source_id: from.source_id,
    actor: from.actor,
    reason: from.reason,
    reference: null,
    expiry_policy: null,
    metadata: from.metadata,
  };
}

interface ExpiredPiece {
  acc: AccountState;
  lot: OpenLot;
  amount: number;
  effective_at_ms: number;
}

/**
 * The changes one operation makes, collected in memory and written at once by `flush`, with the
 * webhook events that report them: `emit` for the operation's own event, and `credits.expired` for
 * whatever `expire` moved to breakage, so every path that expires (operations, reads, the sweeper)
 * tells subscribers once, in the same write.
 */
export class Posting {
  private readonly entries: EntryRecord[] = [];
  private readonly created = new Map<string, LotState>();
  private readonly changed = new Map<string, OpenLot>();
  private readonly accounts = new Map<string, AccountState>();
  private readonly expired: ExpiredPiece[] = [];
  private readonly outbox: (OutboxInput & { id: string })[] = [];
  readonly now_ms: number;

  constructor(
    private readonly deps: Deps,
    readonly workspaceId: string,
    readonly now: Date,
    readonly operationId: string,
    readonly reference: string | null,
    /** The workspace's webhook endpoints, as the lock read them (`Locked.webhooks`). */
    private readonly webhooks: readonly WebhookSubscriber[],
  ) {
    this.now_ms = now.getTime();
  }

  /** Queues a webhook event to the subscribed endpoints, written with the rest by `flush`. */
  emit(type: WebhookEventType, data: unknown) {
    for (const row of webhookDeliveries(this.deps, this.webhooks, type, data).rows) {
      this.outbox.push({ ...row, id: this.deps.ids.id(DELIVERY_ID_PREFIX) });
    }
  }

  /** One credits.expired event per account that had lots expire in this operation. */
  private emitExpiries() {
    const byAccount = new Map<string, ExpiredPiece[]>();
    for (const piece of this.expired) {
      const list = byAccount.get(piece.acc.id) ?? [];
      list.push(piece);
      byAccount.set(piece.acc.id, list);
    }
    this.expired.length = 0;
    for (const pieces of byAccount.values()) {
      const acc = pieces[0]!.acc;
      this.emit('credits.expired', {
        object: 'credit_expiry',
        customer: acc.customer_id,
        asset: acc.asset.key,
        amount: pieces.reduce((sum, p) => sum + p.amount, 0),
        lots: pieces.map((p) => ({
          lot: p.lot.id,
          grant: p.lot.grant_id,
          amount: p.amount,
          expired_at: new Date(p.effective_at_ms).toISOString(),
        })),
        operation: this.operationId,
      });
    }
  }

  get entryCount() {
    return this.entries.length;
  }

  /** A transfer between two accounts of `acc`'s asset, on behalf of `acc`'s customer. */
  private post(acc: AccountState, draft: EntryDraft) {
    this.entries.push({
      ...draft,
      id: this.deps.ids.id('ent'),
      asset_id: acc.asset.id,
      customer_id: acc.customer_id,
      operation_id: this.operationId,
      reference: this.reference,
    });
  }

  private touch(acc: AccountState, lot: OpenLot) {
    this.accounts.set(acc.id, acc);
    if (!this.created.has(lot.id)) this.changed.set(lot.id, lot);
  }

  private lot(acc: AccountState, id: string): OpenLot {
    const lot = acc.lots.find((l) => l.id === id);
    if (!lot) throw new Error(`lot ${id} is not open on account ${acc.id}`);
    return lot;
  }

  /** Moves the remainder of every lot past its expiry into breakage, dated at the lot's expires_at. */
  expire(acc: AccountState): number {
    let total = 0;
    for (const due of dueForExpiry(acc.lots, this.now_ms)) {
      const lot = this.lot(acc, due.lot_id);
      lot.remaining -= due.amount;
      lot.expired_amount += due.amount;
      acc.balance -= due.amount;
      total += due.amount;
      this.expired.push({ acc, lot, amount: due.amount, effective_at_ms: due.effective_at_ms });
      this.post(acc, {
        debit_account_id: acc.id,
        credit_account_id: acc.system.breakage,
        amount: due.amount,
        kind: 'expire',
        lot_id: lot.id,
        effective_at: new Date(due.effective_at_ms),
      });
      this.touch(acc, lot);
    }
    return total;
  }

  /** Takes the planned amounts out of the customer's lots into a system account, one entry per lot. */
  take(
    acc: AccountState,
    takes: readonly Take[],
    to: SystemKind,
    kind: EntryKind,
    options: { reversed?: boolean } = {},
  ) {
    for (const t of takes) {
      const lot = this.lot(acc, t.lot_id);
      if (t.amount <= 0 || t.amount > lot.remaining)
        throw new Error(`take ${t.amount} from lot ${lot.id} holding ${lot.remaining}`);
      lot.remaining -= t.amount;
      if (options.reversed) lot.reversed_amount += t.amount;
      acc.balance -= t.amount;
      this.post(acc, {
        debit_account_id: acc.id,
        credit_account_id: acc.system[to],
        amount: t.amount,
        kind,
        lot_id: lot.id,
        effective_at: this.now,
      });
      this.touch(acc, lot);
    }
  }

  /** Takes an amount the customer's lots cannot cover: the balance goes below zero by it, as debt. */
  addDebt(acc: AccountState, amount: number, to: SystemKind, kind: EntryKind) {
    if (amount <= 0) return;
    acc.debt += amount;
    acc.balance -= amount;
    this.accounts.set(acc.id, acc);
    this.post(acc, {
      debit_account_id: acc.id,
      credit_account_id: acc.system[to],
      amount,
      kind,
      lot_id: null,
      effective_at: this.now,
    });
  }

  /** A transfer between two system accounts on the customer's behalf (a held payout being posted). */
  moveBetweenSystem(
    acc: AccountState,
    from: SystemKind,
    to: SystemKind,
    amount: number,
    lotId: string,
    kind: EntryKind,
  ) {
    this.post(acc, {
      debit_account_id: acc.system[from],
      credit_account_id: acc.system[to],
      amount,
      kind,
      lot_id: lotId,
      effective_at: this.now,
    });
  }

  /**
   * Brings an amount into the customer's account as a new lot: debt is repaid first, and a piece of
   * a grant reversed under `forgive` is clawed back at once (see planRestore). Returns the new lot.
   */
  receive(
    acc: AccountState,
    amount: number,
    template: LotTemplate,
    from: SystemKind,
    kind: EntryKind,
    options: { id?: string; grantReversed?: boolean } = {},
  ): LotState {
    if (acc.balance + amount > MAX_BALANCE_MINOR) {
      throw new PerksError(
        'balance_limit_exceeded',
        `this would take the customer's ${acc.asset.key} balance above ${MAX_BALANCE_MINOR}`,
        'amount',
        { balance: acc.balance, limit: MAX_BALANCE_MINOR },
      );
    }
    const policy: NegativePolicy = acc.asset.negative_policy;
    const plan = planRestore(amount, acc.debt, options.grantReversed ?? false, policy);
    const lot: LotState = {
      ...template,
      id: options.id ?? this.deps.ids.id('lot'),
      account_id: acc.id,
      asset_id: acc.asset.id,
      customer_id: acc.customer_id,
      amount,
      remaining: plan.remaining,
      debt_repaid: plan.repaid,
      expired_amount: 0,
      reversed_amount: plan.clawed_back,
      created_at_ms: this.now_ms,
    };
    acc.debt -= plan.repaid;
    acc.balance += amount - plan.clawed_back;
    acc.lots.push(lot);
    this.created.set(lot.id, lot);
    this.accounts.set(acc.id, acc);
    this.post(acc, {
      debit_account_id: acc.system[from],
      credit_account_id: acc.id,
      amount,
      kind,
      lot_id: lot.id,
      effective_at: this.now,
    });
    if (plan.clawed_back > 0) {
      this.post(acc, {
        debit_account_id: acc.id,
        credit_account_id: acc.system.clawback,
        amount: plan.clawed_back,
        kind: 'reversal',
        lot_id: lot.id,
        effective_at: this.now,
      });
    }
    return lot;
  }

  /** Nothing to write at all. */
  private get empty() {
    return (
      this.entries.length === 0 &&
      this.created.size === 0 &&
      this.changed.size === 0 &&
      this.accounts.size === 0 &&
      this.outbox.length === 0
    );
  }

  /** The writes as ledger_post and ledger_apply take them, JSON, and the version they stamp. */
  private writes() {
    this.emitExpiries();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const newLots = [...this.created.values()].map((l) => ({
      id: l.id,
      account_id: l.account_id,
      asset_id: l.asset_id,
      customer_id: l.customer_id,
      grant_id: l.grant_id,
      restored_from_lot_id: l.restored_from_lot_id,
      amount: l.amount,
      remaining: l.remaining,
      debt_repaid: l.debt_repaid,
      expired_amount: l.expired_amount,
      reversed_amount: l.reversed_amount,
      expires_at: iso(l.expires_at_ms),
      granted_at: iso(l.granted_at_ms),
      source_type: l.source_type,
      source_id: l.source_id,
      actor: l.actor,
      reason: l.reason,
      reference: l.reference,
      expiry_policy: l.expiry_policy ?? null,
      metadata: l.metadata,
      created_at: iso(l.created_at_ms),
    }));
    const changedLots = [...this.changed.values()].map((l) => ({
      id: l.id,
      remaining: l.remaining,
      expired_amount: l.expired_amount,
      reversed_amount: l.reversed_amount,
    }));
    const entries = this.entries.map((e) => ({ ...e, effective_at: e.effective_at.toISOString() }));
    const accounts = [...this.accounts.values()].map((a) => ({ id: a.id, balance: a.balance, debt: a.debt }));
    const outbox = this.outbox.map((o) => ({
      id: o.id,
      kind: o.kind,
      endpoint_id: o.endpoint_id,
      event_id: o.event_id,
      event_type: o.event_type,
      payload: o.payload,
      status: o.status ?? 'pending',
      max_attempts: o.max_attempts,
      last_error: o.last_error ?? null,
    }));
    return {
      json: [newLots, changedLots, entries, accounts, outbox].map((x) => JSON.stringify(x)) as [
        string,
        string,
        string,
        string,
        string,
      ],
      version: this.deps.ids.id('ver'),
    };
  }

  /** After a write: the accounts carry the version it stamped, and nothing is pending. */
  private written(version: string) {
    for (const acc of this.accounts.values()) acc.version = version;
    this.entries.length = 0;
    this.created.clear();
    this.changed.clear();
    this.accounts.clear();
    this.outbox.length = 0;
  }

  /**
   * Writes everything in one call (the ledger_post function): new lots, changed lots, entries and
   * balances, an invoice's settlement row when one is given, and the webhook deliveries. The
   * accounts must be locked by this transaction (lockLedger).
   */
  async flush(tx: Sql, settlement: Record<string, unknown> | null = null): Promise<void> {
    this.emitExpiries();
    if (settlement === null && this.empty) return;
    const { json, version } = this.writes();
    const [newLots, changedLots, entries, accounts, outbox] = json;
    await tx.query('select ledger_post($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      this.workspaceId,
      newLots,
      changedLots,
      entries,
      accounts,
      this.now,
      settlement === null ? null : JSON.stringify(settlement),
      outbox,
      version,
    ]);
    this.written(version);
  }

  /**
   * Writes in one call (the ledger_apply function) what was decided on `state`, if the database
   * still holds that state: it locks `target` as lockLedger does, compares the accounts' versions,
   * the webhook endpoints and what is recorded under the reference or invoice with `state`'s, and
   * writes only if they are the same. Otherwise nothing is written and the answer is the current
   * state, to decide on again. With `write: false` it only checks, so that a refusal decided on
   * `state` is known to hold for the current state.
   *
   * This needs no transaction around it: outside one, the single call is the whole operation.
   */
  async apply(
    sql: Sql,
    target: LockTarget,
    state: Locked<unknown>,
    options: { write: boolean; settlement?: Record<string, unknown> | undefined },
  ): Promise<{ applied: true } | { applied: false; state: Locked<never> }> {
    const { json, version } = this.writes();
    const [newLots, changedLots, entries, accounts, outbox] = json;
    const expected = {
      customer: state.customer_id,
      accounts: state.accounts.map((a) => [a.id, a.version]),
      webhooks: state.webhooks,
      prior: (state.prior as { id?: string } | null)?.id ?? null,
      subscription: state.subscription,
      may_discount: state.may_have_discounts,
    };
    const write = options.write && (options.settlement !== undefined || !this.empty);
    const [row] = await sql.query<{ outcome: { applied: boolean; state?: LockedJson<never> } }>(
      `select ledger_apply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         as outcome`,
      [
        this.workspaceId,
        target.customerRef,
        target.assets.map((a) => a.id),
        target.currency ?? null,
        this.now,
        target.reference ?? null,
        target.invoice ?? null,
        target.subscription ?? null,
        JSON.stringify(expected),
        write,
        newLots,
        changedLots,
        entries,
        accounts,
        options.settlement === undefined ? null : JSON.stringify(options.settlement),
        outbox,
        version,
      ],
    );
    const outcome = row!.outcome;
    if (outcome.applied) {
      if (write) this.written(version);
      return { applied: true };
    }
    return {
      applied: false,
      state: await fromLockedJson(
        sql,
        this.workspaceId,
        target.customerRef,
        target.assets,
        outcome.state!,
        target.param,
      ),
    };
  }
}

/** Lots of a given set of ids, open or not (for giving back pieces of them). */
export async function lotsById(
  tx: Sql,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, LotState>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<LotRow>(
    'select * from ledger_lots where workspace_id = $1 and id = any($2::text[])',
    [workspaceId, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, lotFromRow(r)]));
}

/** Which of these grants have been reversed. */
export async function reversedGrants(
  tx: Sql,
  workspaceId: string,
  grantIds: readonly string[],
): Promise<Set<string>> {
  if (grantIds.length === 0) return new Set();
  const rows = await tx.query<{ grant_id: string }>(
    'select grant_id from ledger_reversals where workspace_id = $1 and grant_id = any($2::text[])',
    [workspaceId, [...new Set(grantIds)]],
  );
  return new Set(rows.map((r) => r.grant_id));
}
