/**
 * What the ledger benchmarks share: seeding the real server over HTTP, and the baseline, a plain SQL
 * script that writes the same ledger rows into its own database with the pg client.
 */
import pg from 'pg';
import { systemIds } from '../src/adapters/system.js';
import { load, type RunningServer } from './lib.js';

export const SERVER_POOL = 20;

/** Creates the assets and `count` customers (external ids team_00000, ...) through the API. */
export async function seedServer(server: RunningServer, assets: readonly object[], count: number) {
  for (const body of assets) {
    await load({
      url: server.url,
      key: server.key,
      connections: 1,
      requests: 1,
      method: 'POST',
      path: '/v1/assets',
      body: JSON.stringify(body),
    });
  }
  await load({
    url: server.url,
    key: server.key,
    connections: Math.min(32, count),
    requests: count,
    method: 'POST',
    path: '/v1/customers',
    setupRequest: (i) => ({ body: JSON.stringify({ external_id: customerName(i) }) }),
  });
}

export const customerName = (i: number) => `team_${String(i).padStart(5, '0')}`;

export interface BaselineAsset {
  key: string;
  kind: 'money' | 'units' | 'days';
  currency?: string;
  unit?: string;
  purpose: 'credit' | 'commission';
}

interface Lot {
  id: string;
  remaining: number;
  expires_at: Date | null;
  granted_at: Date;
}

/**
 * The baseline's ledger: the same tables, written by straightforward SQL. It knows its ids up front
 * (a script has no API keys to check and no names to resolve), so each operation is only the writes.
 */
export class BaselineLedger {
  readonly ids = systemIds();
  readonly ws: string;
  readonly assets = new Map<string, { id: string; system: Record<string, string> }>();
  readonly customers: string[] = [];
  readonly pool: pg.Pool;

  private constructor(pool: pg.Pool, ws: string) {
    this.pool = pool;
    this.ws = ws;
  }

  static async open(url: string, connections: number, assets: readonly BaselineAsset[], customers: number) {
    const pool = new pg.Pool({ connectionString: url, max: connections });
    pool.on('error', () => {});
    const ids = systemIds();
    const ws = ids.id('ws');
    const b = new BaselineLedger(pool, ws);
    await pool.query(
      "insert into workspaces (workspace_id, name, created_at) values ($1, 'baseline', now())",
      [ws],
    );
    for (const a of assets) {
      const id = b.ids.id('ast');
      await pool.query(
        `insert into ledger_assets (workspace_id, id, key, kind, currency, unit, purpose, negative_policy, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, 'forgive', now())`,
        [ws, id, a.key, a.kind, a.currency ?? null, a.unit ?? null, a.purpose],
      );
      const system: Record<string, string> = {};
      for (const kind of [
        'program_expense',
        'breakage',
        'invoice_applied',
        'usage',
        'payout_holds',
        'payouts',
        'clawback',
      ]) {
        system[kind] = b.ids.id('acc');
        await pool.query(
          `insert into ledger_accounts (workspace_id, id, asset_id, kind, created_at) values ($1, $2, $3, $4, now())`,
          [ws, system[kind], id, kind],
        );
      }
      b.assets.set(a.key, { id, system });
    }
    const names = Array.from({ length: customers }, (_, i) => customerName(i));
    const customerIds = names.map(() => b.ids.id('cus'));
    await pool.query(
      `insert into customers (workspace_id, id, external_id, created_at, updated_at)
       select $1, u.id, u.external_id, now(), now() from unnest($2::text[], $3::text[]) as u(id, external_id)`,
      [ws, customerIds, names],
    );
    b.customers.push(...customerIds);
    return b;
  }

  /** A grant: lock (or create) the account, insert the lot and its entry, update the balance. */
  async grant(
    client: pg.PoolClient,
    customer: number,
    asset: string,
    amount: number,
    reference: string,
    expiresAt: Date | null,
  ) {
    const a = this.assets.get(asset)!;
    const customerId = this.customers[customer]!;
    const lot = this.ids.id('lot');
    await client.query('begin');
    try {
      const { rows } = await client.query<{ id: string }>(
        `insert into ledger_accounts (workspace_id, id, asset_id, kind, customer_id, balance, debt, created_at)
         values ($1, $2, $3, 'customer', $4, 0, 0, now())
         on conflict (workspace_id, customer_id, asset_id) where kind = 'customer'
           do update set balance = ledger_accounts.balance
         returning id`,
        [this.ws, this.ids.id('acc'), a.id, customerId],
      );
      const account = rows[0]!.id;
      await client.query(
        `insert into ledger_lots (workspace_id, id, account_id, asset_id, customer_id, grant_id, amount, remaining,
           expires_at, granted_at, source_type, source_id, reason, reference, created_at)
         values ($1, $2, $3, $4, $5, $2, $6, $6, $7, now(), 'program', 'bench', 'bench', $8, now())`,
        [this.ws, lot, account, a.id, customerId, amount, expiresAt, reference],
      );
      await client.query(
        `insert into ledger_entries (workspace_id, id, asset_id, debit_account_id, credit_account_id, amount, kind,
           customer_id, lot_id, operation_id, reference, effective_at, created_at)
         values ($1, $2, $3, $4, $5, $6, 'grant', $7, $8, $8, $9, now(), now())`,
        [
          this.ws,
          this.ids.id('ent'),
          a.id,
          a.system.program_expense,
          account,
          amount,
          customerId,
          lot,
          reference,
        ],
      );
      await client.query(
        'update ledger_accounts set balance = balance + $3 where workspace_id = $1 and id = $2',
        [this.ws, account, amount],
      );
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  }

  /**
   * Takes `amount` from the customer's lots in burn-down order. `lock` names the baseline's way of
   * serialising: 'account' locks the account row first (what a careful script does), 'lots' is the
   * naive SELECT ... FOR UPDATE of the lots themselves.
   */
  private async take(
    client: pg.PoolClient,
    customerId: string,
    asset: string,
    amount: number,
    to: string,
    kind: string,
    operation: string,
    lock: 'account' | 'lots',
  ) {
    const a = this.assets.get(asset)!;
    let account: string;
    let lots: Lot[];
    if (lock === 'account') {
      const acc = await client.query<{ id: string }>(
        `select id from ledger_accounts where workspace_id = $1 and customer_id = $2 and asset_id = $3
           and kind = 'customer' for update`,
        [this.ws, customerId, a.id],
      );
      account = acc.rows[0]!.id;
      lots = (
        await client.query<Lot>(
          `select id, remaining, expires_at, granted_at from ledger_lots
           where workspace_id = $1 and customer_id = $2 and asset_id = $3 and remaining > 0
           order by expires_at nulls last, granted_at, id`,
          [this.ws, customerId, a.id],
        )
      ).rows;
    } else {
      const rows = (
        await client.query<Lot & { account_id: string }>(
          `select id, account_id, remaining, expires_at, granted_at from ledger_lots
           where workspace_id = $1 and customer_id = $2 and asset_id = $3 and remaining > 0
           order by expires_at nulls last, granted_at, id for update`,
          [this.ws, customerId, a.id],
        )
      ).rows;
      account = rows[0]!.account_id;
      lots = rows.filter((r) => r.remaining > 0);
    }
    let left = amount;
    for (const lot of lots) {
      if (left === 0) break;
      const t = Math.min(left, Number(lot.remaining));
      left -= t;
      await client.query(
        'update ledger_lots set remaining = remaining - $3 where workspace_id = $1 and id = $2',
        [this.ws, lot.id, t],
      );
      await client.query(
        `insert into ledger_entries (workspace_id, id, asset_id, debit_account_id, credit_account_id, amount, kind,
           customer_id, lot_id, operation_id, effective_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), now())`,
        [this.ws, this.ids.id('ent'), a.id, account, a.system[to], t, kind, customerId, lot.id, operation],
      );
    }
    if (left > 0) throw new Error(`baseline: the customer's lots are short by ${left}`);
    await client.query(
      'update ledger_accounts set balance = balance - $3 where workspace_id = $1 and id = $2',
      [this.ws, account, amount],
    );
  }

  /** A settle: claim the invoice, take credit in burn-down order, record what was applied. */
  async settle(client: pg.PoolClient, customer: number, invoiceId: string, subtotal: number) {
    const customerId = this.customers[customer]!;
    const id = this.ids.id('set');
    await client.query('begin');
    try {
      const claimed = await client.query(
        `insert into ledger_settlements (workspace_id, id, invoice_id, customer_id, currency, subtotal, discount_total,
           credit_total, amount_due, lines, credits, status, created_at)
         values ($1, $2, $3, $4, 'usd', $5, 0, 0, $5, '[]', '[]', 'applied', now())
         on conflict (workspace_id, invoice_id) do nothing returning id`,
        [this.ws, id, invoiceId, customerId, subtotal],
      );
      if (claimed.rowCount !== 1) throw new Error(`baseline: invoice ${invoiceId} was already settled`);
      await this.take(
        client,
        customerId,
        'usd_credit',
        subtotal,
        'invoice_applied',
        'invoice_apply',
        id,
        'account',
      );
      await client.query(
        `update ledger_settlements set credit_total = $3, amount_due = 0 where workspace_id = $1 and id = $2`,
        [this.ws, id, subtotal],
      );
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  }

  /** The naive consumption: SELECT ... FOR UPDATE on the customer's open lots, then the writes. */
  async consumeNaive(client: pg.PoolClient, customer: number, asset: string, amount: number) {
    await client.query('begin');
    try {
      await this.take(
        client,
        this.customers[customer]!,
        asset,
        amount,
        'usage',
        'consume',
        this.ids.id('con'),
        'lots',
      );
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  }

  close() {
    return this.pool.end();
  }
}

/** Counts the ledger rows of one workspace, to check both sides wrote the same. */
export interface LedgerCounts {
  ledger_lots: number;
  ledger_entries: number;
  ledger_settlements: number;
  customer_balance_total: number;
  accounts_out_of_step: number;
}

export async function ledgerCounts(url: string, workspaceId: string): Promise<LedgerCounts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out = { ledger_lots: 0, ledger_entries: 0, ledger_settlements: 0 };
    for (const table of ['ledger_lots', 'ledger_entries', 'ledger_settlements'] as const) {
      const { rows } = await client.query<{ n: string }>(
        `select count(*) as n from ${table} where workspace_id = $1`,
        [workspaceId],
      );
      out[table] = Number(rows[0]!.n);
    }
    const { rows } = await client.query<{ total: string | null; bad: string }>(
      `select sum(balance) as total, count(*) filter (where balance <> coalesce((select sum(l.remaining) from ledger_lots l
         where l.workspace_id = a.workspace_id and l.account_id = a.id), 0)) as bad
       from ledger_accounts a where workspace_id = $1 and kind = 'customer'`,
      [workspaceId],
    );
    return {
      ...out,
      customer_balance_total: Number(rows[0]!.total ?? 0),
      accounts_out_of_step: Number(rows[0]!.bad),
    };
  } finally {
    await client.end();
  }
}
