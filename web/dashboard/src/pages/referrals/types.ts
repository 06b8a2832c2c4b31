// The referral objects the Referrals and Overview pages show, as the API answers them
// (see /v1/openapi.json: Referral, ReferralListItem, ReferralDetail, AuditLogEntry, ReferralTree).

export type ReferralStatus = 'pending' | 'qualified' | 'rewarded' | 'rejected';

export const STATUSES: ReferralStatus[] = ['pending', 'qualified', 'rewarded', 'rejected'];

/** The rules that reject a referral, in the order the program checks them. */
export const REJECTION_REASONS = [
  'method_not_allowed',
  'already_referred',
  'self_referral',
  'sub_account',
  'code_not_accepted_now',
  'not_first_card',
  'attribution_window_expired',
  'referrer_suspended',
  'referrer_not_eligible',
  'not_new_account',
  'card_already_used',
  'referrer_cap_reached',
] as const;

export const AUDIT_ACTIONS = [
  'manual_referral',
  'referral_reassigned',
  'referrer_suspended',
  'referrer_reinstated',
  'option_changed',
  'contract_signed',
] as const;

export interface Referral {
  id: string;
  program: string;
  program_version: number;
  referrer: string;
  referee: string;
  method: 'code' | 'link' | 'manual';
  source: 'event' | 'api' | 'manual';
  code: string | null;
  status: ReferralStatus;
  reason: string | null;
  reason_message: string | null;
  attributed_at: string;
  qualified_at: string | null;
  rewarded_at: string | null;
  rejected_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface RewardAmounts {
  recipient: 'referrer' | 'referee';
  asset: string;
  granted: number;
  reversed: number;
  net: number;
}

export interface ReferralListItem extends Referral {
  referrer_external_id: string | null;
  referee_external_id: string | null;
  rewards: RewardAmounts[];
}

export interface AuditEntry {
  id: string;
  action: string;
  program?: string | null;
  referral?: string | null;
  customer?: string | null;
  customer_external_id?: string | null;
  actor: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  /** External ids of the customers the entry names (the workspace audit log only). */
  customers?: Record<string, string>;
  at: string;
}

export interface ReferralDetail extends Referral {
  history: {
    seq: number;
    from: string | null;
    to: string;
    reason: string | null;
    message: string | null;
    actor: string | null;
    event_id: string | null;
    at: string;
  }[];
  rewards: {
    id: string;
    reward_index: number;
    trigger: string;
    recipient: 'referrer' | 'referee';
    customer: string;
    asset: string;
    status: 'granted' | 'skipped' | 'reversed';
    reason: string | null;
    message: string | null;
    amount: number;
    reversed_amount: number;
    grant: string | null;
    expires_at: string | null;
    payment: string | null;
    occurred_at: string;
  }[];
  audit_log: AuditEntry[];
}

export interface TreeNode {
  referral: string;
  program: string;
  customer: string;
  status: string;
  children: TreeNode[];
}

export interface ReferralTree {
  customer: string;
  depth: number;
  nodes: TreeNode[];
  truncated: boolean;
}

export interface ReferralSummary {
  customer: string;
  programs: {
    program: string;
    code: string | null;
    link: string | null;
    clicks: number;
    signups: number;
    referred_customers: number;
    converted: number;
    pending: number;
    rejected: number;
    rewards_earned: { asset: string; granted: number; reversed: number; net: number }[];
    status: 'active' | 'suspended';
    suspended_at: string | null;
  }[];
}

export interface AssetInfo {
  key: string;
  kind: string;
  currency: string | null;
  unit: string | null;
}
