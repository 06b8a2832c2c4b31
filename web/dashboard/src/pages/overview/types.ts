// GET /v1/stats/overview, as the API answers it (StatsOverview in /v1/openapi.json).

export interface AssetTotals {
  asset: string;
  granted: number;
  reversed: number;
  net: number;
}

export interface StatsOverview {
  interval: 'day' | 'week' | 'month';
  from: string;
  to: string;
  program: string | null;
  totals: { referrals: number; conversions: number; rejections: number; rewards: AssetTotals[] };
  series: {
    start: string;
    referrals: number;
    conversions: number;
    rejections: number;
    rewards: AssetTotals[];
  }[];
  assets: { asset: string; kind: string; currency: string | null; unit: string | null }[];
  top_referrers: {
    customer: string;
    external_id: string | null;
    referrals: number;
    converted: number;
    rewards_earned: AssetTotals[];
  }[];
  rejection_reasons: { reason: string; count: number }[];
  recent_rejections: {
    referral: string;
    program: string;
    referrer: string;
    referrer_external_id: string | null;
    referee: string;
    referee_external_id: string | null;
    reason: string;
    reason_message: string | null;
    rejected_at: string;
  }[];
}
