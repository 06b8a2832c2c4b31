-- The facts of several redemptions (or validations) of one workspace in one statement: the requests
-- come as parallel arrays (customer, code, subscription, client IP subject), and one row comes back
-- per request, in no particular order, numbered from 0 in the order given (ord). A busy server sends
-- the facts of the redemptions that arrive while its previous read is in flight together
-- (src/app/promo_facts.ts): one round trip and one plan run for the group, where each redemption
-- cost one of each.
--
-- The same reads as promo_redemption_facts (0019_promo_redeem_in_one_statement.sql), which this
-- replaces, with two differences:
-- - the customer (an id or an external id, the id first) is looked up by each key in turn rather than
--   by both at once, two index probes at most instead of a bitmap of both indexes;
-- - the workspace's webhook endpoints are read once for the statement.
--
-- Each lookup is a lateral subquery (`limit 1` on a unique key keeps it from being flattened into a
-- join), so it runs once per request as an index probe on the whole key. As a plain join, a plan made
-- while the tables were small (PL/pgSQL keeps it for the connection's life) read a workspace's slots or
-- failures once by the workspace alone and matched the requests against them: a scan of every row of
-- the workspace per statement once the tables had grown.
--
-- The plan is always the generic one (plan_cache_mode): its estimate for the arrays' length differs
-- from any call's, so PostgreSQL would otherwise judge it worse than a plan for the values at hand and
-- plan this statement again on every call, which measured as three quarters of the call's time.
drop function promo_redemption_facts(text, text, text, text, text);

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
  cust_id text,
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
    r.customer_id,
    s.customer_id, s.plan_id, s.amount, s.currency, s.status,
    (select max(case when pay.period_end is not null then pay.period_end
                     when pay.paid_at >= s.current_period_start then s.current_period_end end)
       from payments pay
      where pay.workspace_id = p_workspace and pay.customer_id = r.customer_id
        and pay.subscription_external_id = r.subscription and pay.status = 'succeeded'),
    (select u.uses from promotion_customer_uses u
      where u.workspace_id = p_workspace and u.promotion_id = c.promotion_id and u.customer_id = r.customer_id),
    -- A scalar subquery, not exists (...), which the planner may turn into a hash of every payment of
    -- the workspace, built for each statement.
    coalesce((select true from payments pay where pay.workspace_id = p_workspace
                and pay.customer_id = r.customer_id and pay.status = 'succeeded' limit 1), false),
    sl.active_count, sl.exclusive_count,
    fc.failures, fc.window_started_at, fi.failures, fi.window_started_at,
    w.endpoints
  from (
    -- Materialised, so each request's customer is looked up once, not wherever it is used.
    with requests as materialized (
      select q.ord, q.code, q.subscription, q.ip_subject, coalesce(
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
