-- The two statements every redemption runs, as PL/pgSQL functions. PL/pgSQL keeps the plan of each
-- statement for the life of the connection, so a redemption pays no query planning; planning these
-- multi-table statements costs more than running them. The functions only read and write: what a
-- redemption may do is decided by the application (src/core/promo) between the two calls.

-- Everything a redemption decision needs, in one round trip: the code and its promotion (null when no
-- such code), the customer (by Perks id, else external id), the subscription, the customer's uses of
-- the promotion, the subscription's promotion slot, and the guessing counters.
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
  cust_failures integer, cust_window timestamptz, ip_failures integer, ip_window timestamptz
) language plpgsql stable as $$
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
    fc.failures, fc.window_started_at, fi.failures, fi.window_started_at
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

-- Takes one use for the customer and the subscription, in a fixed lock order (the customer's uses,
-- then the subscription slot), and records the redemption. Each step is a conditional write; the
-- first that finds its limit reached stops the function, which reports which step it was (0 in its
-- column) and leaves the rollback to the caller's transaction. The code's and the promotion's counters
-- are taken when the transaction commits (promo_take_redemption_use, below).
create function promo_redeem(
  p_workspace text, p_promotion text, p_customer text, p_max_per_customer integer, p_slot_key text,
  p_exclusive integer, p_code_id text, p_redemption_id text, p_code text, p_subscription text,
  p_stackable boolean, p_periods_total integer, p_applies_from timestamptz, p_metadata jsonb,
  p_now timestamptz, p_clear_failures boolean
) returns table (uses_ok integer, slot_ok integer)
language plpgsql as $$
begin
  insert into promotion_customer_uses as u (workspace_id, promotion_id, customer_id, uses)
  values (p_workspace, p_promotion, p_customer, 1)
  on conflict (workspace_id, promotion_id, customer_id) do update set uses = u.uses + 1
    where u.uses < p_max_per_customer;
  if not found then
    return query select 0, null::integer;
    return;
  end if;

  insert into promotion_slots as s (workspace_id, slot_key, active_count, exclusive_count)
  values (p_workspace, p_slot_key, 1, p_exclusive)
  on conflict (workspace_id, slot_key) do update
    set active_count = s.active_count + 1, exclusive_count = s.exclusive_count + excluded.exclusive_count
    where s.exclusive_count = 0 and (excluded.exclusive_count = 0 or s.active_count = 0);
  if not found then
    return query select 1, 0;
    return;
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
  return query select 1, 1;
end
$$;

-- The code's counter (and the promotion's, when it has max_redemptions) is taken by a trigger
-- deferred to COMMIT. Every redemption of a popular code contends on that row; taken at commit, its
-- lock is held for the commit alone, not across the round trips of the transaction. When a limit is
-- reached the trigger raises, so the COMMIT fails and nothing of the redemption is kept: SQLSTATE
-- PRX01 for the promotion's limit, PRX02 for the code's (read by src/app/promo_redemptions.ts).
-- Lock order: the promotion's row, then the code's, as voiding takes them.
create function promo_take_redemption_use() returns trigger language plpgsql as $$
declare
  v_max bigint;
begin
  select max_redemptions into v_max from promotions
  where workspace_id = new.workspace_id and id = new.promotion_id;
  if v_max is not null then
    update promotions set redeemed_against_limit = redeemed_against_limit + 1
    where workspace_id = new.workspace_id and id = new.promotion_id
      and redeemed_against_limit < max_redemptions;
    if not found then
      raise exception 'promotion % has reached its max_redemptions', new.promotion_id
        using errcode = 'PRX01', detail = v_max::text;
    end if;
  end if;
  update promotion_codes set times_redeemed = times_redeemed + 1
  where workspace_id = new.workspace_id and id = new.promotion_code_id
    and (max_redemptions is null or times_redeemed < max_redemptions);
  if not found then
    select max_redemptions into v_max from promotion_codes
    where workspace_id = new.workspace_id and id = new.promotion_code_id;
    raise exception 'promotion code % has reached its max_redemptions', new.promotion_code_id
      using errcode = 'PRX02', detail = v_max::text;
  end if;
  return null;
end
$$;

create constraint trigger redemptions_take_use after insert on redemptions
  deferrable initially deferred for each row execute function promo_take_redemption_use();
