-- A group of redemptions written by three inserts over the whole group instead of promo_redeem called
-- once per redemption (0019_promo_redeem_in_one_statement.sql): one plan run per table for the group,
-- where each redemption cost three. On a busy server a workspace's writes go one group at a time
-- (src/app/promo_redemption_writes.ts), so the time a group takes bounds how fast a workspace can
-- redeem; measured, a group of 64 took 8 to 12 ms called one by one.
--
-- Same arguments and the same all-or-nothing contract: each element holds promo_redeem's arguments by
-- name, without the p_ prefix (exclusive: 0 or 1), and any redemption refused by a limit makes the
-- whole statement raise, undoing the others, which the caller then writes one by one for their typed
-- answers. The customer's uses and the subscription's slot are taken unconditionally; the uses are
-- then checked against each redemption's limit from the counts the upsert returns, and the slot by its
-- table's check constraints (a refusal is undone with the rest). Two redemptions of one group on the same customer's uses or the same slot make the statement
-- fail too (an upsert may not touch a row twice in one statement), and are then written one by one.
-- The code's and the promotion's counters are still taken at commit (promo_take_redemption_use).
create or replace function promo_redeem_many(p_redemptions jsonb) returns void
language plpgsql set enable_seqscan = off set plan_cache_mode = force_generic_plan as $$
declare
  v_refused integer;
begin
  with r as materialized (
    select * from jsonb_to_recordset(p_redemptions) as x(
      workspace_id text, promotion_id text, customer_id text, max_per_customer integer, slot_key text,
      exclusive integer, promotion_code_id text, id text, code text, subscription_id text,
      stackable boolean, periods_total integer, applies_from timestamptz, metadata jsonb,
      redeemed_at timestamptz, clear_failures boolean)
  ),
  uses as (
    insert into promotion_customer_uses as u (workspace_id, promotion_id, customer_id, uses)
    select r.workspace_id, r.promotion_id, r.customer_id, 1 from r
    on conflict (workspace_id, promotion_id, customer_id) do update set uses = u.uses + 1
    returning u.workspace_id, u.promotion_id, u.customer_id, u.uses
  ),
  slots as (
    insert into promotion_slots as s (workspace_id, slot_key, active_count, exclusive_count)
    select r.workspace_id, r.slot_key, 1, r.exclusive from r
    on conflict (workspace_id, slot_key) do update
      set active_count = s.active_count + 1, exclusive_count = s.exclusive_count + excluded.exclusive_count
  ),
  recorded as (
    insert into redemptions (workspace_id, id, promotion_id, promotion_code_id, code, customer_id,
      subscription_id, slot_key, stackable, periods_total, applies_from, metadata, redeemed_at)
    select r.workspace_id, r.id, r.promotion_id, r.promotion_code_id, r.code, r.customer_id,
      r.subscription_id, r.slot_key, r.stackable, r.periods_total, r.applies_from, r.metadata, r.redeemed_at
    from r
  ),
  -- A success ends a run of failures: the customer's guessing count is about consecutive failures.
  cleared as (
    delete from promotion_failures f using r
    where r.clear_failures and f.workspace_id = r.workspace_id and f.scope = 'customer'
      and f.subject = r.customer_id
  )
  -- The customer's limit, as promo_redeem checks it: uses before this statement below
  -- max_per_customer. The slot needs no check here: its table's check constraints (at most one
  -- exclusive promotion, and then alone) refuse the upsert itself.
  select count(*) into v_refused
  from r
  join uses on uses.workspace_id = r.workspace_id and uses.promotion_id = r.promotion_id
    and uses.customer_id = r.customer_id
  where uses.uses - 1 >= r.max_per_customer;
  if v_refused > 0 then
    raise exception '% of % redemptions reached a limit', v_refused, jsonb_array_length(p_redemptions)
      using errcode = 'PRX05';
  end if;
end
$$;
