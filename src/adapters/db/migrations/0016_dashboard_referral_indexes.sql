-- Indexes for the operator dashboard's reads: the referral search (GET /v1/referrals), the audit log
-- (GET /v1/audit_log) and the overview figures (GET /v1/stats/overview). Each list is read newest
-- first by id (ids sort by creation) and each figure over a bounded time range, so every query walks
-- one of these indexes instead of the whole table.

-- Referral search by status, by rejection reason, and by referee whatever its status (the older
-- referrals_referee index leaves rejected referrals out).
create index referrals_status_id on referrals (workspace_id, status, id);
create index referrals_reason_id on referrals (workspace_id, reason, id) where reason is not null;
create index referrals_referee_id on referrals (workspace_id, referee_customer_id, id);

-- Overview figures per time bucket: attributed, qualified and rejected referrals. The included
-- columns let the counts and the top referrers come from the index alone.
create index referrals_attributed_at on referrals (workspace_id, attributed_at)
  include (status, program_id, referrer_customer_id);
create index referrals_qualified_at on referrals (workspace_id, qualified_at) include (program_id)
  where qualified_at is not null;
create index referrals_rejected_at on referrals (workspace_id, rejected_at) include (program_id, reason)
  where status = 'rejected';

-- Reward cost per asset and time bucket (granted and reversed; skipped decisions cost nothing).
create index referral_rewards_occurred_at on referral_rewards (workspace_id, occurred_at)
  include (program_id, asset, amount, reversed_amount)
  where status <> 'skipped';

-- The audit log, newest first, for one customer or one kind of action.
create index referral_audit_log_customer on referral_audit_log (workspace_id, customer_id, id)
  where customer_id is not null;
create index referral_audit_log_action on referral_audit_log (workspace_id, action, id);
