-- referrals_referee_id (workspace_id, referee_customer_id, id), added for the dashboard's searches in
-- 0016, serves every lookup the older partial referrals_referee (workspace_id, referee_customer_id)
-- where status <> 'rejected' served: rejected referrals are few, and are filtered out. Every referral
-- written kept both up to date.
drop index if exists referrals_referee;
