/** The answers of the widget endpoints (GET /v1/widget/referral, POST /v1/widget/payouts). */

export interface Expiring {
  amount: number;
  text: string;
  expires_at: string;
}

export interface Reward {
  asset: string;
  kind: 'money' | 'units' | 'days';
  purpose: 'credit' | 'commission';
  amount: number;
  text: string;
  expiring: Expiring[];
}

export interface Commission {
  asset: string;
  currency: string | null;
  available: number;
  available_text: string;
  held: number;
  held_text: string;
  minimum: number;
  minimum_text: string;
  can_withdraw: boolean;
  message: string;
}

export interface WidgetReferral {
  object: 'widget_referral';
  customer: string;
  program: { key: string; name: string; description: string | null };
  option: { key: string; name: string } | null;
  eligible: boolean;
  eligibility: { unmet: string; message: string } | null;
  code: string | null;
  link: string | null;
  status: 'active' | 'suspended';
  suspended_at: string | null;
  referrals: { invited: number; converted: number; pending: number };
  rewards: Reward[];
  pending_rewards: { asset: string; amount: number; text: string; referrals: number }[];
  commission: Commission[];
}

export interface WidgetPayout {
  id: string;
  object: 'payout';
  asset: string;
  currency: string | null;
  amount: number;
  status: string;
  requested_at: string;
}
