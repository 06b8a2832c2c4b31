import assert from 'node:assert/strict';
import type { Harness } from '../helpers/harness.js';

/** Small builders shared by the ledger's HTTP tests. */

export const ASSETS = {
  usd_credit: { key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit' },
  eur_credit: { key: 'eur_credit', kind: 'money', currency: 'eur', purpose: 'credit' },
  minutes: {
    key: 'minutes',
    kind: 'units',
    unit: 'minutes',
    purpose: 'credit',
    negative_policy: 'allow_negative',
  },
  free_days: { key: 'free_days', kind: 'days', purpose: 'credit' },
  usd_commission: {
    key: 'usd_commission',
    kind: 'money',
    currency: 'usd',
    purpose: 'commission',
    payout_minimum: 2000,
  },
} as const;

export type AssetName = keyof typeof ASSETS;

export async function createAssets(
  h: Harness,
  key: string,
  names: readonly AssetName[] = Object.keys(ASSETS) as AssetName[],
) {
  for (const name of names) {
    const res = await h.request('POST', '/v1/assets', { key, body: ASSETS[name] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
}

/** A fresh workspace with every test asset and one customer. */
export async function ledgerWorkspace(h: Harness, externalId = 'team_1') {
  const ws = await h.newWorkspace('ledger');
  await createAssets(h, ws.key);
  const customer = await h.request('POST', '/v1/customers', {
    key: ws.key,
    body: { external_id: externalId },
  });
  assert.equal(customer.status, 201);
  return { ...ws, customer: customer.body.id as string, externalId };
}

let serial = 0;
export const ref = (prefix = 'ref') => `${prefix}_${process.pid}_${++serial}`;

export function grantBody(asset: AssetName | string, amount: number, extra: Record<string, unknown> = {}) {
  return {
    asset,
    amount,
    reason: 'test grant',
    reference: ref('grant'),
    source: { type: 'manual', actor: 'ops@example.com' },
    ...extra,
  };
}

export async function grantOk(h: Harness, key: string, customer: string, body: Record<string, unknown>) {
  const res = await h.request('POST', `/v1/customers/${customer}/grants`, { key, body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

export async function balances(h: Harness, key: string, customer: string) {
  const res = await h.request('GET', `/v1/customers/${customer}/balances`, { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Object.fromEntries((res.body.data as { asset: string }[]).map((b) => [b.asset, b])) as Record<
    string,
    any
  >;
}

/** Every ledger row of a workspace, in a stable order, to prove a refused request wrote nothing. */
export async function ledgerRows(h: Harness, workspaceId: string) {
  const out: Record<string, unknown[]> = {};
  for (const table of [
    'ledger_assets',
    'ledger_accounts',
    'ledger_lots',
    'ledger_entries',
    'ledger_settlements',
    'ledger_reversals',
    'ledger_payouts',
  ]) {
    out[table] = await h.db.query(`select * from ${table} where workspace_id = $1 order by id`, [
      workspaceId,
    ]);
  }
  return JSON.stringify(out);
}
