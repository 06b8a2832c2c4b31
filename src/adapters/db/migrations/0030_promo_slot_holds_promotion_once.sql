-- A stackable promotion stacked with itself: the subscription's slot (promotion_slots) counts its
-- active redemptions and lets stackable ones share it, but did not tell them apart, so a promotion
-- with max_per_customer above 1 could be redeemed several times for one subscription and discount
-- each of its invoices several times over (25% off five times is 76% off). Stackable means that a
-- promotion combines with other promotions; max_per_customer counts a customer's subscriptions (or
-- successive ones), never piles on one.
--
-- A slot now holds a promotion at most once while that redemption is active: one row per slot and
-- promotion, counting its active redemptions (not voided, not completed), taken by the same kind of
-- conditional upsert as the slot, in the same statement, right after it (lock order: the customer's
-- uses, the slot, this row, then the promotion's and the code's counters at commit). It is given back
-- where the slot is: by a void (promo_void_redemption), and by the settlement that completes the
-- redemption or by the invoice void that reopens it (src/app/promo_discounts.ts). A refusal raises
-- SQLSTATE PRX07 with the slot key as its detail (read by src/app/promo_redemptions.ts).

create table promotion_slot_promotions (
  workspace_id text not null,
  slot_key text not null,
  promotion_id text not null,
  active_count integer not null check (active_count >= 0),
  primary key (workspace_id, slot_key, promotion_id)
);

-- The promotions slots hold now, duplicates included: a slot that already holds a promotion twice
-- keeps both redemptions (they are the customer's, until voided or completed), but takes it no more.
insert into promotion_slot_promotions (workspace_id, slot_key, promotion_id, active_count)
select workspace_id, slot_key, promotion_id, count(*)
from redemptions
where voided_at is null and completed_at is null
group by workspace_id, slot_key, promotion_id;

-- NOT VALID: enforced on every row written from now on (which is what refuses a grouped write,
-- promo_redeem_many), not checked against rows the defect already counted above one; those only go
-- down. A later migration may VALIDATE it once none is left.
alter table promotion_slot_promotions add constraint promotion_slot_promotions_once
  check (active_count <= 1) not valid;

drop function promo_redemption_facts_many(text, text[], text[], text[], text[]);

-- As in 0028_promo_facts_disputed_payment.sql, plus slot_promotion_active: the active redemptions of
-- the code's promotion that the request's slot holds.
create function promo_redemption_facts_many(
  p_workspace text, p_customers text[], p_codes text[], p_subscriptions text[], p_ip_subjects text[]
) returns table (
  ord integer,
  id text, percent_off_bps integer, amount_off bigint, currency text, max_discount_amount bigint,
  duration text, duration_periods integer, applies_to jsonb, first_time_only boolean, minimum_amount bigint,
  starts_at timestamptz, expires_at timestamptz, max_redemptions bigint, max_per_customer integer,
  stackable boolean, redeemed_against_limit bigint,
  code_id text, code_text text, code_customer_id text, code_max_redemptions bigint, code_times_redeemed bigint,
  code_expires_at timestamptz,
  cust_id text, sub_ref text,
  sub_customer_id text, sub_plan_id text, sub_amount bigint, sub_currency text, sub_status text,
  paid_through timestamptz, customer_uses integer, has_paid boolean,
  slot_active integer, slot_exclusive integer, slot_promotion_active integer,
  cust_failures integer, cust_window timestamptz, ip_failures integer, ip_window timestamptz,
  webhook_endpoints jsonb
) language plpgsql stable set enable_seqscan = off set plan_cache_mode = force_generic_plan as $$
#variable_conflict use_column
begin
  return query
  select (r.ord - 1)::integer,
    p.id, p.percent_off_bps, p.amount_off, p.currency, p.max_discount_amount,
    p.duration, p.duration_periods, p.applies_to, p.first_time_only, p.minimum_amount,
    p.starts_at, p.expires_at, p.max_redemptions, p.max_per_customer, p.stackable, p.redeemed_against_limit,
    c.id, c.code, c.customer_id, c.max_redemptions, c.times_redeemed, c.expires_at,
    r.customer_id, r.subscription,
    s.customer_id, s.plan_id, s.amount, s.currency, s.status,
    (select max(case when pay.period_end is not null then pay.period_end
                     when pay.paid_at >= s.current_period_start then s.current_period_end end)
       from payments pay
      where pay.workspace_id = p_workspace and pay.customer_id = r.customer_id
        and pay.subscription_external_id = r.subscription
        and (pay.status = 'succeeded' or (pay.status = 'refunded' and pay.amount_refunded < pay.amount))),
    (select u.uses from promotion_customer_uses u
      where u.workspace_id = p_workspace and u.promotion_id = c.promotion_id and u.customer_id = r.customer_id),
    -- A scalar subquery, not exists (...), which the planner may turn into a hash of every payment of
    -- the workspace, built for each statement.
    coalesce((select true from payments pay where pay.workspace_id = p_workspace
                and pay.customer_id = r.customer_id limit 1), false),
    sl.active_count, sl.exclusive_count,
    (select sp.active_count from promotion_slot_promotions sp
      where sp.workspace_id = p_workspace
        and sp.slot_key = coalesce('sub:' || r.subscription, 'cus:' || r.customer_id)
        and sp.promotion_id = c.promotion_id),
    fc.failures, fc.window_started_at, fi.failures, fi.window_started_at,
    w.endpoints
  from (
    -- Materialised, so each request's customer is looked up once, not wherever it is used.
    with requests as materialized (
      select q.ord, q.code, q.ip_subject,
        coalesce(
          (select k.external_id from subscriptions k where k.workspace_id = p_workspace and k.id = q.subscription),
          q.subscription
        ) as subscription,
        coalesce(
          (select k.id from customers k where k.workspace_id = p_workspace and k.id = q.customer),
          (select k.id from customers k where k.workspace_id = p_workspace and k.external_id = q.customer)
        ) as customer_id
      from unnest(p_customers, p_codes, p_subscriptions, p_ip_subjects) with ordinality
        as q(customer, code, subscription, ip_subject, ord)
    )
    select * from requests
  ) r
  cross join (
    select coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'event_types', e.event_types,
                                                 'status', e.status)), '[]'::jsonb) as endpoints
    from webhook_endpoints e where e.workspace_id = p_workspace
  ) w
  left join lateral (select * from promotion_codes c
    where c.workspace_id = p_workspace and c.code = r.code limit 1) c on true
  left join lateral (select * from promotions p
    where p.workspace_id = p_workspace and p.id = c.promotion_id limit 1) p on true
  left join lateral (select * from subscriptions s
    where s.workspace_id = p_workspace and s.external_id = r.subscription limit 1) s on true
  left join lateral (select * from promotion_slots sl where sl.workspace_id = p_workspace
    and sl.slot_key = coalesce('sub:' || r.subscription, 'cus:' || r.customer_id) limit 1) sl on true
  left join lateral (select * from promotion_failures fc where fc.workspace_id = p_workspace
    and fc.scope = 'customer' and fc.subject = r.customer_id limit 1) fc on true
  left join lateral (select * from promotion_failures fi where fi.workspace_id = p_workspace
    and fi.scope = 'ip' and fi.subject = r.ip_subject limit 1) fi on true;
end
$$;

-- As in 0019_promo_redeem_in_one_statement.sql, plus the slot's hold on the promotion, taken right
-- after the slot: when the slot already holds the promotion, the statement raises PRX07 and undoes
-- the steps before it.
create or replace function promo_redeem(
  p_workspace text, p_promotion text, p_customer text, p_max_per_customer integer, p_slot_key text,
  p_exclusive integer, p_code_id text, p_redemption_id text, p_code text, p_subscription text,
  p_stackable boolean, p_periods_total integer, p_applies_from timestamptz, p_metadata jsonb,
  p_now timestamptz, p_clear_failures boolean
) returns void
language plpgsql set enable_seqscan = off as $$
begin
  insert into promotion_customer_uses as u (workspace_id, promotion_id, customer_id, uses)
  values (p_workspace, p_promotion, p_customer, 1)
  on conflict (workspace_id, promotion_id, customer_id) do update set uses = u.uses + 1
    where u.uses < p_max_per_customer;
  if not found then
    raise exception 'customer % has reached the limit of promotion %', p_customer, p_promotion
      using errcode = 'PRX03', detail = p_max_per_customer::text;
  end if;

  insert into promotion_slots as s (workspace_id, slot_key, active_count, exclusive_count)
  values (p_workspace, p_slot_key, 1, p_exclusive)
  on conflict (workspace_id, slot_key) do update
    set active_count = s.active_count + 1, exclusive_count = s.exclusive_count + excluded.exclusive_count
    where s.exclusive_count = 0 and (excluded.exclusive_count = 0 or s.active_count = 0);
  if not found then
    raise exception 'slot % already holds a promotion', p_slot_key using errcode = 'PRX04';
  end if;

  insert into promotion_slot_promotions as h (workspace_id, slot_key, promotion_id, active_count)
  values (p_workspace, p_slot_key, p_promotion, 1)
  on conflict (workspace_id, slot_key, promotion_id) do update set active_count = h.active_count + 1
    where h.active_count = 0;
  if not found then
    raise exception 'slot % already holds promotion %', p_slot_key, p_promotion
      using errcode = 'PRX07', detail = p_slot_key;
  end if;

  insert into redemptions (workspace_id, id, promotion_id, promotion_code_id, code, customer_id,
    subscription_id, slot_key, stackable, periods_total, applies_from, metadata, redeemed_at)
  values (p_workspace, p_redemption_id, p_promotion, p_code_id, p_code, p_customer, p_subscription,
    p_slot_key, p_stackable, p_periods_total, p_applies_from, p_metadata, p_now);

  -- A success ends a run of failures: the customer's guessing count is about consecutive failures.
  if p_clear_failures then
    delete from promotion_failures
    where workspace_id = p_workspace and scope = 'customer' and subject = p_customer;
  end if;
end
$$;

-- As in 0023_promo_redeem_many_set_based.sql, plus the slots' holds on the promotions, taken
-- unconditionally like the slots: the table's check constraint (a promotion at most once per slot)
-- refuses the upsert itself, and the caller then writes the group one by one for the typed answers.
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
  -- max_per_customer. The slot and its holds need no check here: their tables' check constraints
  -- (at most one exclusive promotion, and then alone; each promotion once) refuse the upserts.
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

-- As in 0019_promo_redeem_in_one_statement.sql, plus the slot's hold on the promotion, given back
-- with the slot (right after it, in the order a redemption takes them).
create or replace function promo_void_redemption(p_workspace text, p_id text, p_now timestamptz)
returns table (redemption redemptions, voided_now boolean, periods_applied bigint)
language plpgsql set enable_seqscan = off as $$
declare
  v_row redemptions;
  v_voided boolean;
begin
  update redemptions r set voided_at = p_now
  where r.workspace_id = p_workspace and r.id = p_id and r.voided_at is null
  returning r.* into v_row;
  v_voided := found;
  if v_voided then
    update promotion_customer_uses u set uses = u.uses - 1
    where u.workspace_id = p_workspace and u.promotion_id = v_row.promotion_id
      and u.customer_id = v_row.customer_id;
    if v_row.completed_at is null then
      update promotion_slots s set active_count = s.active_count - 1,
        exclusive_count = s.exclusive_count - (case when v_row.stackable then 0 else 1 end)
      where s.workspace_id = p_workspace and s.slot_key = v_row.slot_key;
      update promotion_slot_promotions h set active_count = h.active_count - 1
      where h.workspace_id = p_workspace and h.slot_key = v_row.slot_key
        and h.promotion_id = v_row.promotion_id;
    end if;
    update promotions p set redeemed_against_limit = p.redeemed_against_limit - 1
    where p.workspace_id = p_workspace and p.id = v_row.promotion_id and p.max_redemptions is not null;
    update promotion_codes c set times_redeemed = c.times_redeemed - 1
    where c.workspace_id = p_workspace and c.id = v_row.promotion_code_id;
  else
    select * into v_row from redemptions r where r.workspace_id = p_workspace and r.id = p_id;
    if not found then
      return;
    end if;
  end if;
  return query
  select v_row, v_voided,
    (select count(*) from promotion_discounts d
      where d.workspace_id = p_workspace and d.redemption_id = p_id and d.voided_at is null);
end
$$;
