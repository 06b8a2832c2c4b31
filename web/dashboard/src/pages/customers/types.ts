// The API objects the Customers page shows, as the API answers them (see /v1/openapi.json).

export interface Asset {
  id: string;
  key: string;
  kind: 'money' | 'units' | 'days';
  currency: string | null;
  unit: string | null;
  purpose: 'credit' | 'commission';
  negative_policy: 'allow_negative' | 'forgive';
  payout_minimum: number | null;
}

export interface Customer {
  id: string;
  external_id: string;
  email: string | null;
  name: string | null;
  parent_customer_id: string | null;
  created_at: string;
  payment_methods: { id: string; brand: string | null; last4: string | null; first: boolean }[];
  subscriptions: {
    id: string;
    external_id: string;
    plan_id: string | null;
    status: string;
    interval: string | null;
    current_period_end: string | null;
    amount: number | null;
    currency: string | null;
  }[];
}

export interface Balance {
  asset: string;
  kind: 'money' | 'units' | 'days';
  purpose: 'credit' | 'commission';
  currency: string | null;
  unit: string | null;
  available: number;
  held: number;
  debt: number;
  expiring: { expires_at: string; amount: number }[];
}

export interface Grant {
  id: string;
  asset: string;
  amount: number;
  remaining: number;
  expires_at: string | null;
  granted_at: string;
  source: { type: string; id: string | null; actor: string | null };
  reason: string | null;
  reference: string | null;
  reversed: boolean;
}

export interface Entry {
  id: string;
  asset: string;
  type: string;
  amount: number;
  from: string;
  to: string;
  balance_change: number;
  grant: string | null;
  source: { type: string; id: string | null; actor: string | null; reason: string | null } | null;
  operation: string;
  reference: string | null;
  effective_at: string;
}

export type PayoutStatus = 'pending' | 'paid' | 'rejected' | 'canceled';

export interface Payout {
  id: string;
  customer: string;
  asset: string;
  currency: string | null;
  amount: number;
  destination: string;
  status: PayoutStatus;
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
  reason: string | null;
}

/** How an amount of an asset is shown, for formatAmount. */
export function assetFormat(key: string, assets: Map<string, Asset>) {
  const a = assets.get(key);
  return a ? { kind: a.kind, currency: a.currency, unit: a.unit, code: a.key } : { code: key };
}
