-- The paid period (0026_promo_facts_subscription_ref.sql) counted a disputed payment: status only
-- moves forward (succeeded, then refunded, then disputed), so a payment refunded in full and then
-- disputed counted as paying its period again. A period is now paid by a payment that succeeded and
-- was not disputed, refunded in part at most; the function is otherwise unchanged.

create or replace function promo_redemption_facts_many(
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
  slot_active integer, slot_exclusive integer,
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
