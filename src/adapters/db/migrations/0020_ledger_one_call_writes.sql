-- The ledger's two calls (0004_ledger_functions.sql) take on what used to cost extra round trips:
--
-- * ledger_lock also returns the workspace's webhook endpoints (at most 20), so an operation knows who
--   is told about it without asking again, and for an invoice whether the discount step can have
--   anything to do (the customer holds an open promotion redemption, or the invoice already has
--   discount lines); when it cannot, settlement skips it.
-- * ledger_post also writes the operation's webhook deliveries to the outbox, in the same call as the
--   entries they report.
-- * ledger_apply writes an operation decided on a state read earlier (or remembered from this
--   process's last write) in one call, if that state is still the state: it takes the same locks as
--   ledger_lock, compares, and either writes (as ledger_post) or answers the current state. Every
--   write of a customer account stamps it with a new `version`, so "still the state" is one
--   comparison per account. Outside a transaction this one call is the whole operation: the
--   account lock is held only while the database runs it, never across a round trip to the server.
--
-- PL/pgSQL plans each statement once per connection and keeps that plan. A plan made while the
-- tables were nearly empty (a fresh database, a fresh workspace) or analyzed small stays as they grow
-- until the next ANALYZE, which can be minutes on a new database. Empty tables give every index that
-- starts with workspace_id the same cost, so such a plan may read a key lookup through any of them,
-- that is through every row of the workspace: the old set-based updates hashed every lot or customer
-- account of the workspace, the customer lookup by "id or external id" filtered every customer, a
-- prior settlement was looked for with a sequential scan. Each call then costs more as the workspace
-- grows. So the lookups by a unique key in tables that grow (customers, subscriptions, lots, accounts,
-- settlements, redemptions) run with EXECUTE, planned for the table as it is at each call, which
-- costs a few microseconds of planning; the statements whose every index choice is fine keep their
-- plan.

-- Who wrote the account last: a new id with every change to its balance, debt or lots (ledger_post),
-- null until the first. A state read with a version is the current state while the version is.
alter table ledger_accounts add column version text;

create or replace function ledger_lock(
  p_workspace text,
  p_customer_ref text,
  p_assets text[],
  p_currency text,
  p_new_account_ids text[],
  p_now timestamptz,
  p_with_lots boolean,
  p_reference text,
  p_invoice text,
  p_subscription_ref text
) returns json language plpgsql volatile as $$
declare
  v_customer text;
  v_assets text[] := p_assets;
  v_asset_rows json := '[]'::json;
  v_accounts json;
  v_lots json := '[]'::json;
  v_prior json;
  v_subscription json;
  v_webhooks json;
  v_may_discount boolean := false;
begin
  -- A Perks id first (they all start with cus_), then an external id.
  if p_customer_ref like 'cus\_%' then
    execute 'select id from customers where workspace_id = $1 and id = $2' into v_customer
      using p_workspace, p_customer_ref;
  end if;
  if v_customer is null then
    execute 'select id from customers where workspace_id = $1 and external_id = $2' into v_customer
      using p_workspace, p_customer_ref;
  end if;
  if v_customer is null then
    return json_build_object('customer', null);
  end if;
  if p_subscription_ref is not null then
    execute 'select json_build_object(''id'', id, ''customer_id'', customer_id) from subscriptions
             where workspace_id = $1 and id = $2' into v_subscription using p_workspace, p_subscription_ref;
    if v_subscription is null then
      execute 'select json_build_object(''id'', id, ''customer_id'', customer_id) from subscriptions
               where workspace_id = $1 and external_id = $2' into v_subscription using p_workspace, p_subscription_ref;
    end if;
  end if;
  if p_currency is not null then
    select coalesce(array_agg(a.id order by a.id), '{}'), coalesce(json_agg(a order by a.id), '[]'::json)
      into v_assets, v_asset_rows
    from ledger_assets a
    where a.workspace_id = p_workspace and a.kind = 'money' and a.purpose = 'credit' and a.currency = p_currency;
  end if;
  select coalesce(json_agg(a order by a.id), '[]'::json) into v_accounts from (
    select id, asset_id, customer_id, balance, debt, version from ledger_accounts
    where workspace_id = p_workspace and customer_id = v_customer and asset_id = any(v_assets) and kind = 'customer'
    order by id for update
  ) a;
  -- Accounts are created on first use only, so the common case does not attempt an insert.
  if p_new_account_ids is not null and json_array_length(v_accounts) < coalesce(array_length(v_assets, 1), 0) then
    insert into ledger_accounts (workspace_id, id, asset_id, kind, customer_id, balance, debt, created_at)
    select p_workspace, n.id, n.asset_id, 'customer', v_customer, 0, 0, p_now
    from unnest(p_new_account_ids, v_assets) as n(id, asset_id)
    on conflict (workspace_id, customer_id, asset_id) where kind = 'customer' do nothing;
    select coalesce(json_agg(a order by a.id), '[]'::json) into v_accounts from (
      select id, asset_id, customer_id, balance, debt, version from ledger_accounts
      where workspace_id = p_workspace and customer_id = v_customer and asset_id = any(v_assets) and kind = 'customer'
      order by id for update
    ) a;
  end if;
  if p_reference is not null then
    perform pg_advisory_xact_lock(hashtextextended('ledger_grant/' || p_workspace || '/' || p_reference, 0));
    execute 'select row_to_json(x) from (
               select l.*, exists (select 1 from ledger_reversals r
                                   where r.workspace_id = l.workspace_id and r.grant_id = l.id) as reversed
               from ledger_lots l where l.workspace_id = $1 and l.reference = $2) x'
      into v_prior using p_workspace, p_reference;
  elsif p_invoice is not null then
    perform pg_advisory_xact_lock(hashtextextended('ledger_invoice/' || p_workspace || '/' || p_invoice, 0));
    execute 'select row_to_json(s) from ledger_settlements s where s.workspace_id = $1 and s.invoice_id = $2'
      into v_prior using p_workspace, p_invoice;
    -- A superset of what the discount step looks at (it takes the redemptions of the invoice's
    -- subscription or, without one, the customer's own), so false means it would find nothing.
    if v_prior is null then
      execute 'select exists (select 1 from redemptions where workspace_id = $1 and customer_id = $2
                                and voided_at is null and completed_at is null)
                 or exists (select 1 from promotion_discounts where workspace_id = $1 and invoice_id = $3)'
        into v_may_discount using p_workspace, v_customer, p_invoice;
    end if;
  end if;
  if p_with_lots then
    -- Only the columns an operation reads: the order, the amounts and the grant.
    execute 'select coalesce(json_agg(l), ''[]''::json) from (
               select id, account_id, asset_id, customer_id, grant_id, amount, remaining, debt_repaid,
                 expired_amount, reversed_amount, expires_at, granted_at
               from ledger_lots
               where workspace_id = $1 and customer_id = $2 and asset_id = any($3) and remaining > 0) l'
      into v_lots using p_workspace, v_customer, v_assets;
  end if;
  select coalesce(json_agg(json_build_object('id', e.id, 'event_types', e.event_types, 'status', e.status)
    order by e.id), '[]'::json) into v_webhooks
  from webhook_endpoints e where e.workspace_id = p_workspace;
  return json_build_object('customer', v_customer, 'accounts', v_accounts, 'lots', v_lots, 'prior', v_prior,
    'assets', v_asset_rows, 'subscription', v_subscription, 'webhooks', v_webhooks,
    'may_discount', v_may_discount);
end
$$;

drop function ledger_post(text, json, json, json, json, timestamptz, json);

create function ledger_post(
  p_workspace text,
  p_new_lots json,
  p_changed_lots json,
  p_entries json,
  p_accounts json,
  p_now timestamptz,
  p_settlement json,
  p_outbox json,
  p_version text
) returns void language plpgsql volatile as $$
declare
  r record;
begin
  if json_array_length(p_new_lots) > 0 then
    insert into ledger_lots (workspace_id, id, account_id, asset_id, customer_id, grant_id, restored_from_lot_id,
      amount, remaining, debt_repaid, expired_amount, reversed_amount, expires_at, granted_at, source_type, source_id,
      actor, reason, reference, expiry_policy, metadata, created_at)
    select p_workspace, x.id, x.account_id, x.asset_id, x.customer_id, x.grant_id, x.restored_from_lot_id, x.amount,
      x.remaining, x.debt_repaid, x.expired_amount, x.reversed_amount, x.expires_at, x.granted_at, x.source_type,
      x.source_id, x.actor, x.reason, x.reference, x.expiry_policy, x.metadata, x.created_at
    from json_to_recordset(p_new_lots) as x(id text, account_id text, asset_id text, customer_id text, grant_id text,
      restored_from_lot_id text, amount bigint, remaining bigint, debt_repaid bigint, expired_amount bigint,
      reversed_amount bigint, expires_at timestamptz, granted_at timestamptz, source_type text, source_id text,
      actor text, reason text, reference text, expiry_policy jsonb, metadata jsonb, created_at timestamptz);
  end if;
  for r in select * from json_to_recordset(p_changed_lots) as x(id text, remaining bigint, expired_amount bigint,
      reversed_amount bigint) loop
    execute 'update ledger_lots set remaining = $3, expired_amount = $4, reversed_amount = $5
             where workspace_id = $1 and id = $2'
      using p_workspace, r.id, r.remaining, r.expired_amount, r.reversed_amount;
  end loop;
  if json_array_length(p_entries) > 0 then
    insert into ledger_entries (workspace_id, id, asset_id, debit_account_id, credit_account_id, amount, kind,
      customer_id, lot_id, operation_id, reference, effective_at, created_at)
    select p_workspace, x.id, x.asset_id, x.debit_account_id, x.credit_account_id, x.amount, x.kind, x.customer_id,
      x.lot_id, x.operation_id, x.reference, x.effective_at, p_now
    from json_to_recordset(p_entries) as x(id text, asset_id text, debit_account_id text, credit_account_id text,
      amount bigint, kind text, customer_id text, lot_id text, operation_id text, reference text,
      effective_at timestamptz);
  end if;
  for r in select * from json_to_recordset(p_accounts) as x(id text, balance bigint, debt bigint) loop
    -- By primary key alone (only customer accounts have a balance: a check constraint refuses any other).
    execute 'update ledger_accounts set balance = $3, debt = $4, version = $5 where workspace_id = $1 and id = $2'
      using p_workspace, r.id, r.balance, r.debt, p_version;
  end loop;
  if p_settlement is not null then
    insert into ledger_settlements (workspace_id, id, invoice_id, customer_id, subscription_id, currency, subtotal,
      discount_total, credit_total, amount_due, lines, credits, status, created_at)
    select p_workspace, x.id, x.invoice_id, x.customer_id, x.subscription_id, x.currency, x.subtotal,
      x.discount_total, x.credit_total, x.amount_due, x.lines, x.credits, 'applied', p_now
    from json_to_record(p_settlement) as x(id text, invoice_id text, customer_id text, subscription_id text,
      currency text, subtotal bigint, discount_total bigint, credit_total bigint, amount_due bigint, lines jsonb,
      credits jsonb);
  end if;
  -- The same row enqueue() writes in src/app/outbox.ts, for webhook deliveries.
  if json_array_length(p_outbox) > 0 then
    insert into outbox (workspace_id, id, kind, endpoint_id, event_id, event_type, payload, status, max_attempts,
      next_attempt_at, last_error, created_at)
    select p_workspace, x.id, x.kind, x.endpoint_id, x.event_id, x.event_type, x.payload, x.status, x.max_attempts,
      p_now, x.last_error, p_now
    from json_to_recordset(p_outbox) as x(id text, kind text, endpoint_id text, event_id text, event_type text,
      payload jsonb, status text, max_attempts integer, last_error text);
  end if;
end
$$;

-- Whether a state ledger_lock answered is the one a decision was made on: the same customer, the
-- same accounts at the same versions, the same webhook endpoints (who is told is decided too), and
-- for a grant reference or an invoice the same record under it (none, usually), subscription and
-- discount probe.
create function ledger_state_is(p_state json, p_expected json) returns boolean language plpgsql immutable as $$
begin
  -- PL/pgSQL, not SQL, so that the comparison is planned once per connection rather than per call.
  return (p_state->>'customer') is not distinct from (p_expected->>'customer')
    and (select coalesce(jsonb_agg(jsonb_build_array(a->>'id', a->'version') order by a->>'id'), '[]'::jsonb)
         from json_array_elements(p_state->'accounts') a) = (p_expected->'accounts')::jsonb
    and (p_state->'webhooks')::jsonb = (p_expected->'webhooks')::jsonb
    and (p_state->'prior'->>'id') is not distinct from (p_expected->>'prior')
    and coalesce((p_state->'subscription')::jsonb, 'null') = coalesce((p_expected->'subscription')::jsonb, 'null')
    and (p_state->>'may_discount')::boolean is not distinct from (p_expected->>'may_discount')::boolean;
end
$$;

-- Locks as ledger_lock does and, if the state is still p_expected ({customer, accounts: [[id,
-- version], ...], webhooks, prior, subscription, may_discount}), writes as ledger_post does (nothing
-- when p_write is false: a refusal checked against the current state). Answers {"applied": true},
-- or {"applied": false, "state": ...} with the current state as ledger_lock gives it, lots included,
-- to decide again on.
create function ledger_apply(
  p_workspace text,
  p_customer_ref text,
  p_assets text[],
  p_currency text,
  p_now timestamptz,
  p_reference text,
  p_invoice text,
  p_subscription_ref text,
  p_expected json,
  p_write boolean,
  p_new_lots json,
  p_changed_lots json,
  p_entries json,
  p_accounts json,
  p_settlement json,
  p_outbox json,
  p_version text
) returns json language plpgsql volatile as $$
declare
  v_state json;
begin
  v_state := ledger_lock(p_workspace, p_customer_ref, p_assets, p_currency, null, p_now, false, p_reference,
    p_invoice, p_subscription_ref);
  if not ledger_state_is(v_state, p_expected) then
    return json_build_object('applied', false,
      'state', ledger_lock(p_workspace, p_customer_ref, p_assets, p_currency, null, p_now, true, p_reference,
        p_invoice, p_subscription_ref));
  end if;
  if p_write then
    perform ledger_post(p_workspace, p_new_lots, p_changed_lots, p_entries, p_accounts, p_now, p_settlement,
      p_outbox, p_version);
  end if;
  return json_build_object('applied', true);
end
$$;
