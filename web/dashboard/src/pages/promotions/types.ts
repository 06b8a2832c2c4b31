// The API objects the Promotions page shows, as the API answers them (see /v1/openapi.json).

export interface Promotion {
  id: string;
  name: string;
  percent_off_bps: number | null;
  amount_off: number | null;
  currency: string | null;
  max_discount_amount: number | null;
  duration: 'once' | 'repeating' | 'forever';
  duration_periods: number | null;
  applies_to: string[] | null;
  first_time_only: boolean;
  minimum_amount: number | null;
  starts_at: string | null;
  expires_at: string | null;
  time_zone: string;
  max_redemptions: number | null;
  max_per_customer: number;
  stackable: boolean;
  times_redeemed: number;
  created_at: string;
}

export interface PromotionCode {
  id: string;
  code: string;
  promotion_id: string;
  batch_id: string | null;
  customer_id: string | null;
  max_redemptions: number | null;
  expires_at: string | null;
  times_redeemed: number;
  created_at: string;
}

export interface CodeBatch {
  id: string;
  promotion_id: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  total: number;
  generated: number;
  prefix: string;
  length: number;
  error: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface Redemption {
  id: string;
  promotion_id: string;
  promotion_code_id: string;
  code: string;
  customer_id: string;
  subscription: string | null;
  status: 'active' | 'completed' | 'voided';
  periods_total: number | null;
  periods_applied: number;
  periods_remaining: number | null;
  redeemed_at: string;
  voided_at: string | null;
}
