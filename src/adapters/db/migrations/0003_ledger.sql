-- The credits ledger: assets, accounts, lots and append-only double-entry entries.
-- Every amount is an integer in the asset's minor unit (cents, minutes, days).

create table ledger_assets (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  key text not null,
  kind text not null check (kind in ('money', 'units', 'days')),
  currency text,
  unit text,
  purpose text not null check (purpose in ('credit', 'commission')),
  negative_policy text not null check (negative_policy in ('allow_negative', 'forgive')),
  payout_minimum bigint check (payout_minimum >= 0),
  created_at timestamptz not null,
  primary key (workspace_id, id),
  check ((kind = 'money') = (currency is not null)),
  check ((kind = 'units') = (unit is not null)),
  check (purpose = 'credit' or kind = 'money'),
  check ((purpose = 'commission') = (payout_minimum is not null))
);
create unique index ledger_assets_key on ledger_assets (workspace_id, key);

-- One account per customer and asset, plus the asset's system accounts. Only customer accounts keep
-- a cached balance (always equal to the sum of their entries, checked by the tests): a cached total
-- on a system account would be one row every grant of the asset has to update.
create table ledger_accounts (
  workspace_id text not null,
  id text not null,
  asset_id text not null,
  kind text not null check (kind in ('customer', 'program_expense', 'breakage', 'invoice_applied', 'usage',
    'payout_holds', 'payouts', 'clawback')),
  customer_id text,
  balance bigint,
  -- What a reversed grant took back beyond the customer's lots (allow_negative); inflows repay it first.
  debt bigint check (debt >= 0),
  created_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, asset_id) references ledger_assets (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id),
  check ((kind = 'customer') = (customer_id is not null)),
  check ((kind = 'customer') = (balance is not null)),
  check ((kind = 'customer') = (debt is not null))
);
-- Lets entries reference (asset, account) so an entry can never move value between two assets.
create unique index ledger_accounts_asset on ledger_accounts (workspace_id, asset_id, id);
create unique index ledger_accounts_customer on ledger_accounts (workspace_id, customer_id, asset_id)
  where kind = 'customer';
create unique index ledger_accounts_system on ledger_accounts (workspace_id, asset_id, kind)
  where kind <> 'customer';

-- A lot is what one grant (or credit given back from it) left in a customer's account.
create table ledger_lots (
  workspace_id text not null,
  id text not null,
  account_id text not null,
  asset_id text not null,
  customer_id text not null,
  -- The grant this lot belongs to: its own id for a grant, the original grant's for a lot given back.
  grant_id text not null,
  restored_from_lot_id text,
  amount bigint not null check (amount > 0),
  remaining bigint not null,
  debt_repaid bigint not null default 0 check (debt_repaid >= 0),
  expired_amount bigint not null default 0 check (expired_amount >= 0),
  reversed_amount bigint not null default 0 check (reversed_amount >= 0),
  expires_at timestamptz,
  granted_at timestamptz not null,
  source_type text not null check (source_type in ('program', 'referral', 'event', 'manual')),
  source_id text,
  actor text,
  reason text,
  -- Grants only: the caller's reference (idempotency) and the expiry policy as the caller gave it.
  reference text,
  expiry_policy jsonb,
  metadata jsonb,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, account_id) references ledger_accounts (workspace_id, id),
  check (remaining >= 0 and remaining <= amount),
  check ((grant_id = id) = (restored_from_lot_id is null))
);
create unique index ledger_lots_reference on ledger_lots (workspace_id, reference) where reference is not null;
-- Open lots of one account (customer, asset) or of one customer across its assets.
create index ledger_lots_open on ledger_lots (workspace_id, customer_id, asset_id) where remaining > 0;
create index ledger_lots_grant on ledger_lots (workspace_id, grant_id);
-- The background sweeper finds due lots across workspaces through this index.
create index ledger_lots_expiring on ledger_lots (expires_at) where remaining > 0 and expires_at is not null;

-- One row per transfer: `amount` moves from the debit account to the credit account, both of the
-- entry's asset. The sum over all accounts of an asset is therefore zero by construction.
create table ledger_entries (
  workspace_id text not null,
  id text not null,
  asset_id text not null,
  debit_account_id text not null,
  credit_account_id text not null,
  amount bigint not null check (amount > 0),
  kind text not null check (kind in ('grant', 'consume', 'invoice_apply', 'invoice_void', 'reversal', 'expire',
    'payout_hold', 'payout_post', 'payout_release')),
  -- Whose entry this is: every transfer concerns exactly one customer.
  customer_id text not null,
  lot_id text,
  -- The grant, consumption, settlement, reversal or payout the entry belongs to.
  operation_id text not null,
  reference text,
  effective_at timestamptz not null,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, asset_id, debit_account_id) references ledger_accounts (workspace_id, asset_id, id),
  foreign key (workspace_id, asset_id, credit_account_id) references ledger_accounts (workspace_id, asset_id, id),
  check (debit_account_id <> credit_account_id)
);
create index ledger_entries_customer on ledger_entries (workspace_id, customer_id, id);

-- Entries are append-only: corrections are new reversing entries.
create function ledger_entries_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'ledger entries are append-only: % is refused; correct with a reversing entry', tg_op
    using errcode = 'restrict_violation';
end
$$;
create trigger ledger_entries_no_update_or_delete before update or delete on ledger_entries
  for each row execute function ledger_entries_append_only();
create trigger ledger_entries_no_truncate before truncate on ledger_entries
  for each statement execute function ledger_entries_append_only();

create table ledger_settlements (
  workspace_id text not null,
  id text not null,
  invoice_id text not null,
  customer_id text not null,
  subscription_id text,
  currency text not null,
  subtotal bigint not null,
  discount_total bigint not null,
  credit_total bigint not null,
  amount_due bigint not null,
  lines jsonb not null,
  credits jsonb not null,
  status text not null check (status in ('applied', 'voided')),
  created_at timestamptz not null,
  voided_at timestamptz,
  primary key (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id),
  check (amount_due = subtotal - discount_total - credit_total and amount_due >= 0)
);
create unique index ledger_settlements_invoice on ledger_settlements (workspace_id, invoice_id);

create table ledger_reversals (
  workspace_id text not null,
  id text not null,
  grant_id text not null,
  customer_id text not null,
  asset_id text not null,
  negative_policy text not null,
  unspent bigint not null,
  spent bigint not null,
  taken_from_other_lots bigint not null,
  debt_added bigint not null,
  forgiven bigint not null,
  -- The lots touched, [{lot_id, amount, part}], so a repeated request answers the same.
  lots jsonb not null,
  reason text,
  reference text,
  created_at timestamptz not null,
  primary key (workspace_id, id)
);
-- A grant is reversed at most once.
create unique index ledger_reversals_grant on ledger_reversals (workspace_id, grant_id);

create table ledger_payouts (
  workspace_id text not null,
  id text not null,
  customer_id text not null,
  asset_id text not null,
  account_id text not null,
  amount bigint not null check (amount > 0),
  destination text not null,
  status text not null check (status in ('pending', 'paid', 'rejected', 'canceled')),
  -- The lots the hold took from, [{lot_id, amount}], given back one by one if the payout is voided.
  pieces jsonb not null,
  requested_at timestamptz not null,
  decided_at timestamptz,
  decided_by text,
  reason text,
  metadata jsonb,
  primary key (workspace_id, id),
  foreign key (workspace_id, account_id) references ledger_accounts (workspace_id, id)
);
create index ledger_payouts_account on ledger_payouts (workspace_id, account_id) where status = 'pending';
create index ledger_payouts_customer on ledger_payouts (workspace_id, customer_id, id);
