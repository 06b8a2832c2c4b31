-- A redemption in two round trips: the facts (one call), then the writes in one statement that is a
-- transaction of its own when no webhook endpoint listens. For that, the write raises on every limit
-- it finds reached, instead of reporting it and leaving the rollback to an enclosing transaction, so
-- a refused write never keeps half of its effects. The facts also carry the workspace's webhook
-- endpoints, so whether one listens is known without another statement.
-- Voiding becomes one call too.
--
-- Every statement in these functions looks rows up by key. PL/pgSQL keeps a generic plan per
-- statement for the life of the connection, and a plan made while a table was empty or small (just
-- after it was created or analysed) scans the whole table: measured, the facts call went from 0.2 ms
-- to 2.9 ms of server time once a few thousand redemptions had been written, until the connection was
-- replaced. `set enable_seqscan = off` on each function makes its plans use the indexes whatever the
-- table's size was when they were made.

drop function promo_redemption_facts(text, text, text, text, text);

-- Everything a redemption decision needs, in one round trip (see 0005_promotions_functions.sql), and
-- the workspace's webhook endpoints (id, event_types, status; enabled or not), from which the
-- application tells whether one subscribes to promotion_code.redeemed with the rule emitWebhookEvent
-- applies (src/app/outbox_webhooks.ts): a redemption nobody listens to needs no transaction around
-- its one write.
create function promo_redemption_facts(
  p_workspace text, p_customer text, p_code text, p_subscription text, p_ip_subject text
) returns table (
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
) language plpgsql stable set enable_seqscan = off as $$
#variable_conflict use_column
declare
  v_customer text;
begin
  select c.id into v_customer from customers c
  where c.workspace_id = p_workspace and (c.id = p_customer or c.external_id = p_customer)
  order by (c.id = p_customer) desc limit 1;
  return query
  select p.id, p.percent_off_bps, p.amount_off, p.currency, p.max_discount_amount,
    p.duration, p.duration_periods, p.applies_to, p.first_time_only, p.minimum_amount,
    p.starts_at, p.expires_at, p.max_redemptions, p.max_per_customer, p.stackable, p.redeemed_against_limit,
    c.id, c.code, c.customer_id, c.max_redemptions, c.times_redeemed, c.expires_at,
    v_customer,
    s.customer_id, s.plan_id, s.amount, s.currency, s.status,
    (select max(case when pay.period_end is not null then pay.period_end
                     when pay.paid_at >= s.current_period_start then s.current_period_end end)
       from payments pay
      where pay.workspace_id = p_workspace and pay.customer_id = v_customer
        and pay.subscription_external_id = p_subscription and pay.status = 'succeeded'),
    (select u.uses from promotion_customer_uses u
      where u.workspace_id = p_workspace and u.promotion_id = c.promotion_id and u.customer_id = v_customer),
    exists (select 1 from payments pay where pay.workspace_id = p_workspace and pay.customer_id = v_customer
              and pay.status = 'succeeded'),
    sl.active_count, sl.exclusive_count,
    fc.failures, fc.window_started_at, fi.failures, fi.window_started_at,
    (select coalesce(jsonb_agg(jsonb_build_object('id', w.id, 'event_types', w.event_types,
                                                  'status', w.status)), '[]'::jsonb)
       from webhook_endpoints w where w.workspace_id = p_workspace)
  from (select 1) as one
  left join promotion_codes c on c.workspace_id = p_workspace and c.code = p_code
  left join promotions p on p.workspace_id = p_workspace and p.id = c.promotion_id
  left join subscriptions s on s.workspace_id = p_workspace and s.external_id = p_subscription
  left join promotion_slots sl on sl.workspace_id = p_workspace
    and sl.slot_key = coalesce('sub:' || p_subscription, 'cus:' || v_customer)
  left join promotion_failures fc on fc.workspace_id = p_workspace and fc.scope = 'customer'
    and fc.subject = v_customer
  left join promotion_failures fi on fi.workspace_id = p_workspace and fi.scope = 'ip' and fi.subject = p_ip_subject;
end
$$;

drop function promo_redeem(
  text, text, text, integer, text, integer, text, text, text, text, boolean, integer, timestamptz, jsonb,
  timestamptz, boolean
);

-- Takes one use for the customer and the subscription, in a fixed lock order (the customer's uses,
-- then the subscription slot), and records the redemption. Each step is a conditional write; the
-- first that finds its limit reached raises, which undoes the steps before it: SQLSTATE PRX03 for the
-- customer's limit (detail: max_per_customer), PRX04 for the subscription's slot (read by
-- src/app/promo_redemptions.ts). The code's and the promotion's counters are taken when the
-- transaction commits (promo_take_redemption_use); run on its own, the statement is the transaction,
-- so they are taken at its end and the hot code's row is locked for that commit alone.
create function promo_redeem(
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

-- Several redemptions in one statement, one transaction: promo_redeem for each, in the order given
-- (the caller sorts them by promotion and code, the order their counters are then taken in at
-- commit). All or nothing: the first refusal raises and undoes the others, which the caller then
-- writes one by one (src/app/promo_redemption_writes.ts). Each element holds promo_redeem's arguments
-- by name, without the p_ prefix (exclusive: 0 or 1).
create function promo_redeem_many(p_redemptions jsonb) returns void
language plpgsql set enable_seqscan = off as $$
declare
  r jsonb;
begin
  for r in select value from jsonb_array_elements(p_redemptions) loop
    perform promo_redeem(r->>'workspace_id', r->>'promotion_id', r->>'customer_id',
      (r->>'max_per_customer')::integer, r->>'slot_key', (r->>'exclusive')::integer,
      r->>'promotion_code_id', r->>'id', r->>'code', r->>'subscription_id', (r->>'stackable')::boolean,
      (r->>'periods_total')::integer, (r->>'applies_from')::timestamptz, r->'metadata',
      (r->>'redeemed_at')::timestamptz, (r->>'clear_failures')::boolean);
  end loop;
end
$$;

-- Voids a redemption and gives its use back (the customer's uses, the subscription's slot unless a
-- settled last invoice already gave it back, the promotion's and the code's counters), locking in the
-- order a redemption does after the redemption's own row. Voiding a voided redemption changes
-- nothing. Returns no row for an unknown redemption, else the redemption as it now is, whether this
-- call voided it, and the invoices it discounted.
create function promo_void_redemption(p_workspace text, p_id text, p_now timestamptz)
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

-- The commit-time trigger that takes the code's and the promotion's counters looks them up by key too.
alter function promo_take_redemption_use() set enable_seqscan = off;
