-- ledger_lock: one round trip to start a ledger operation: resolve the customer, lock (optionally creating) its
-- accounts in id order, take the lock on a grant reference or an invoice id and find what was already
-- recorded under it, and return the open lots. It decides nothing; it loads and locks in one call so
-- that an account row stays locked for as short a time as possible, which bounds how fast one busy
-- customer can go.
--
-- The assets are given by id (p_assets) or, for an invoice, found by currency: the money credit
-- assets in p_currency. Each statement of a volatile PL/pgSQL function takes a fresh snapshot under
-- READ COMMITTED, so what is read after a lock includes everything committed by the transactions this
-- one waited for.
create function ledger_lock(
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
begin
  select c.id into v_customer from customers c
  where c.workspace_id = p_workspace and (c.id = p_customer_ref or c.external_id = p_customer_ref)
  order by (c.id = p_customer_ref) desc limit 1;
  if v_customer is null then
    return json_build_object('customer', null);
  end if;
  if p_subscription_ref is not null then
    select row_to_json(s) into v_subscription from (
      select id, customer_id from subscriptions
      where workspace_id = p_workspace and (id = p_subscription_ref or external_id = p_subscription_ref)
      order by (id = p_subscription_ref) desc limit 1
    ) s;
  end if;
  if p_currency is not null then
    select coalesce(array_agg(a.id order by a.id), '{}'), coalesce(json_agg(a order by a.id), '[]'::json)
      into v_assets, v_asset_rows
    from ledger_assets a
    where a.workspace_id = p_workspace and a.kind = 'money' and a.purpose = 'credit' and a.currency = p_currency;
  end if;
  select coalesce(json_agg(a order by a.id), '[]'::json) into v_accounts from (
    select id, asset_id, customer_id, balance, debt from ledger_accounts
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
      select id, asset_id, customer_id, balance, debt from ledger_accounts
      where workspace_id = p_workspace and customer_id = v_customer and asset_id = any(v_assets) and kind = 'customer'
      order by id for update
    ) a;
  end if;
  if p_reference is not null then
    perform pg_advisory_xact_lock(hashtextextended('ledger_grant/' || p_workspace || '/' || p_reference, 0));
    select row_to_json(x) into v_prior from (
      select l.*, exists (select 1 from ledger_reversals r where r.workspace_id = l.workspace_id and r.grant_id = l.id)
        as reversed
      from ledger_lots l where l.workspace_id = p_workspace and l.reference = p_reference
    ) x;
  elsif p_invoice is not null then
    perform pg_advisory_xact_lock(hashtextextended('ledger_invoice/' || p_workspace || '/' || p_invoice, 0));
    select row_to_json(s) into v_prior from ledger_settlements s
    where s.workspace_id = p_workspace and s.invoice_id = p_invoice;
  end if;
  if p_with_lots then
    -- Only the columns an operation reads: the order, the amounts and the grant.
    select coalesce(json_agg(l), '[]'::json) into v_lots from (
      select id, account_id, asset_id, customer_id, grant_id, amount, remaining, debt_repaid, expired_amount,
        reversed_amount, expires_at, granted_at
      from ledger_lots
      where workspace_id = p_workspace and customer_id = v_customer and asset_id = any(v_assets) and remaining > 0
    ) l;
  end if;
  return json_build_object('customer', v_customer, 'accounts', v_accounts, 'lots', v_lots, 'prior', v_prior,
    'assets', v_asset_rows, 'subscription', v_subscription);
end
$$;

-- Writes what one ledger operation decided, in one call: new lots, changed lots (remaining, expired
-- and reversed amounts), the entries, the customers' account balances and, for an invoice, its
-- settlement row. It is a function rather than one statement sent each time so that PostgreSQL plans
-- these statements once per connection.
create function ledger_post(
  p_workspace text,
  p_new_lots json,
  p_changed_lots json,
  p_entries json,
  p_accounts json,
  p_now timestamptz,
  p_settlement json
) returns void language plpgsql volatile as $$
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
  if json_array_length(p_changed_lots) > 0 then
    update ledger_lots l set remaining = x.remaining, expired_amount = x.expired_amount,
      reversed_amount = x.reversed_amount
    from json_to_recordset(p_changed_lots) as x(id text, remaining bigint, expired_amount bigint,
      reversed_amount bigint)
    where l.workspace_id = p_workspace and l.id = x.id;
  end if;
  if json_array_length(p_entries) > 0 then
    insert into ledger_entries (workspace_id, id, asset_id, debit_account_id, credit_account_id, amount, kind,
      customer_id, lot_id, operation_id, reference, effective_at, created_at)
    select p_workspace, x.id, x.asset_id, x.debit_account_id, x.credit_account_id, x.amount, x.kind, x.customer_id,
      x.lot_id, x.operation_id, x.reference, x.effective_at, p_now
    from json_to_recordset(p_entries) as x(id text, asset_id text, debit_account_id text, credit_account_id text,
      amount bigint, kind text, customer_id text, lot_id text, operation_id text, reference text,
      effective_at timestamptz);
  end if;
  if json_array_length(p_accounts) > 0 then
    update ledger_accounts a set balance = x.balance, debt = x.debt
    from json_to_recordset(p_accounts) as x(id text, balance bigint, debt bigint)
    where a.workspace_id = p_workspace and a.id = x.id and a.kind = 'customer';
  end if;
  if p_settlement is not null then
    insert into ledger_settlements (workspace_id, id, invoice_id, customer_id, subscription_id, currency, subtotal,
      discount_total, credit_total, amount_due, lines, credits, status, created_at)
    select p_workspace, x.id, x.invoice_id, x.customer_id, x.subscription_id, x.currency, x.subtotal,
      x.discount_total, x.credit_total, x.amount_due, x.lines, x.credits, 'applied', p_now
    from json_to_record(p_settlement) as x(id text, invoice_id text, customer_id text, subscription_id text,
      currency text, subtotal bigint, discount_total bigint, credit_total bigint, amount_due bigint, lines jsonb,
      credits jsonb);
  end if;
end
$$;
