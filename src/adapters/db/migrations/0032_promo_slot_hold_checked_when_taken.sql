-- 0030 bounded a slot's hold on a promotion with a check constraint (active_count <= 1), added NOT
-- VALID so that slots already holding a promotion more than once (redeemed before 0030) kept their
-- redemptions. But PostgreSQL checks every row an UPDATE writes: such a hold at 3 could not go down to
-- 2, so voiding or completing one of those redemptions failed. The bound is now checked where a hold
-- is taken instead: promo_redeem already takes it only when free (active_count = 0), and
-- promo_redeem_many below refuses its group when a hold it took was not free; giving a hold back is
-- never refused.

alter table promotion_slot_promotions drop constraint promotion_slot_promotions_once;

-- As in 0030_promo_slot_holds_promotion_once.sql, with the hold checked by the function.
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
  held as (
    insert into promotion_slot_promotions as h (workspace_id, slot_key, promotion_id, active_count)
    select r.workspace_id, r.slot_key, r.promotion_id, 1 from r
    on conflict (workspace_id, slot_key, promotion_id) do update set active_count = h.active_count + 1
    returning h.active_count
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
  -- max_per_customer; and each promotion held once by its slot (a hold that was free is now 1). The
  -- slot needs no check here: its table's check constraint (at most one exclusive promotion, and then
  -- alone) refuses the upsert.
  select (select count(*)
          from r
          join uses on uses.workspace_id = r.workspace_id and uses.promotion_id = r.promotion_id
            and uses.customer_id = r.customer_id
          where uses.uses - 1 >= r.max_per_customer)
       + (select count(*) from held where held.active_count > 1)
  into v_refused;
  if v_refused > 0 then
    raise exception '% of % redemptions reached a limit', v_refused, jsonb_array_length(p_redemptions)
      using errcode = 'PRX05';
  end if;
end
$$;
