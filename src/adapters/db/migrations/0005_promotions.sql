-- Promotions (the offer), their codes, and redemptions (a code bound to a customer and a subscription).
-- Limits are enforced here, by conditional updates on counters and by constraints, inside the
-- transaction that records the redemption.
create table promotions (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  name text not null,
  percent_off_bps integer check (percent_off_bps between 1 and 10000),
  amount_off bigint check (amount_off > 0),
  currency text,
  -- The most a percentage takes off one invoice, in currency.
  max_discount_amount bigint check (max_discount_amount > 0),
  duration text not null check (duration in ('once', 'repeating', 'forever')),
  duration_periods integer check (duration_periods between 1 and 1200),
  -- Plan ids the promotion is limited to; null for every plan.
  applies_to jsonb,
  first_time_only boolean not null default false,
  minimum_amount bigint check (minimum_amount >= 0),
  -- Half-open window [starts_at, expires_at) of instants; a missing bound is open.
  starts_at timestamptz,
  expires_at timestamptz,
  -- The IANA zone date-only inputs were read in (kept to show them back as dates).
  time_zone text not null,
  max_redemptions bigint check (max_redemptions >= 1),
  max_per_customer integer not null default 1 check (max_per_customer >= 1),
  stackable boolean not null default false,
  -- Counted only when max_redemptions is set, so codes of an unlimited promotion never contend on
  -- this row; the number of redemptions shown is the sum over the promotion's codes.
  redeemed_against_limit bigint not null default 0,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  check ((percent_off_bps is null) <> (amount_off is null)),
  check (amount_off is null or currency is not null),
  check ((duration = 'repeating') = (duration_periods is not null)),
  check (expires_at is null or starts_at is null or expires_at > starts_at),
  check (redeemed_against_limit >= 0 and (max_redemptions is null or redeemed_against_limit <= max_redemptions))
);

-- Bulk generation runs in the background, a chunk per transaction; progress is generated/total.
create table code_batches (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  promotion_id text not null,
  status text not null check (status in ('pending', 'running', 'succeeded', 'failed')),
  total integer not null check (total between 1 and 100000),
  generated integer not null default 0,
  prefix text not null default '',
  length integer not null check (length between 10 and 32),
  max_redemptions bigint check (max_redemptions >= 1),
  expires_at timestamptz,
  error text,
  created_at timestamptz not null,
  started_at timestamptz,
  completed_at timestamptz,
  primary key (workspace_id, id),
  foreign key (workspace_id, promotion_id) references promotions (workspace_id, id),
  check (generated between 0 and total)
);
-- The worker looks for open batches across workspaces.
create index code_batches_open on code_batches (created_at) where status in ('pending', 'running');
create index code_batches_promotion on code_batches (workspace_id, promotion_id, id);

create table promotion_codes (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  promotion_id text not null,
  -- The normalised code (NFKC, no spaces or dashes, upper case): one form for lookup and limits.
  code text not null,
  batch_id text,
  -- A code bound to one customer can be redeemed by that customer only.
  customer_id text,
  max_redemptions bigint check (max_redemptions >= 1),
  expires_at timestamptz,
  -- Active (not voided) redemptions of this code.
  times_redeemed bigint not null default 0,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, promotion_id) references promotions (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id),
  check (times_redeemed >= 0 and (max_redemptions is null or times_redeemed <= max_redemptions))
);
create unique index promotion_codes_code on promotion_codes (workspace_id, code);
create index promotion_codes_promotion on promotion_codes (workspace_id, promotion_id, id);
create index promotion_codes_batch on promotion_codes (workspace_id, batch_id, id) where batch_id is not null;

-- Active redemptions of a promotion by a customer, against max_per_customer.
create table promotion_customer_uses (
  workspace_id text not null,
  promotion_id text not null,
  customer_id text not null,
  uses integer not null check (uses >= 0),
  primary key (workspace_id, promotion_id, customer_id)
);

-- One row per subscription (or per customer, for redemptions without a subscription) that has held a
-- promotion: the conditional update on it is what keeps "one promotion per subscription unless
-- stackable" true under concurrency. `sub:<external id>` or `cus:<customer id>`.
create table promotion_slots (
  workspace_id text not null,
  slot_key text not null,
  active_count integer not null check (active_count >= 0),
  -- Active redemptions that are not stackable: at most one, and then alone.
  exclusive_count integer not null check (exclusive_count between 0 and 1),
  primary key (workspace_id, slot_key),
  check (exclusive_count = 0 or active_count = 1)
);

-- Append-only: a redemption is never deleted and its binding never changes. Two instants record its
-- state: completed_at when its last discounted invoice is settled (cleared again if that invoice is
-- voided and the period given back), voided_at, set once, when it is voided.
create table redemptions (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  promotion_id text not null,
  promotion_code_id text not null,
  code text not null,
  customer_id text not null,
  -- The caller's subscription id (subscriptions.external_id); null for a customer-level redemption.
  subscription_id text,
  slot_key text not null,
  stackable boolean not null,
  -- Invoices it discounts; null for every invoice (duration forever).
  periods_total integer,
  -- Set when the subscription had already paid its current period: discounts start with the first
  -- invoice for a period starting at or after this instant.
  applies_from timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  redeemed_at timestamptz not null,
  completed_at timestamptz,
  voided_at timestamptz,
  primary key (workspace_id, id),
  -- No foreign keys to promotions and promotion_codes, on purpose: a foreign key check takes a share
  -- lock on the referenced row, so every concurrent redemption of a popular code (or of any code of
  -- one promotion) would share-lock the same row, and PostgreSQL would build a multixact of all of
  -- them for every update of that row's counter. Promotions and codes are never deleted, and a
  -- redemption is only written by promo_redeem with ids read in the same transaction.
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);
create index redemptions_customer on redemptions (workspace_id, customer_id, id);
create index redemptions_slot on redemptions (workspace_id, slot_key, id);
create index redemptions_code on redemptions (workspace_id, promotion_code_id, id);
create index redemptions_promotion on redemptions (workspace_id, promotion_id, id);

-- One row per (redemption, invoice): the unique key is what makes an invoice consume a period once.
-- voided_at is set when the invoice is voided, which gives the period back.
create table promotion_discounts (
  workspace_id text not null,
  id text not null,
  redemption_id text not null,
  invoice_id text not null,
  amount_cents bigint not null check (amount_cents >= 0),
  currency text not null,
  period_number integer not null,
  description text not null,
  created_at timestamptz not null,
  voided_at timestamptz,
  primary key (workspace_id, id),
  foreign key (workspace_id, redemption_id) references redemptions (workspace_id, id)
);
create unique index promotion_discounts_once on promotion_discounts (workspace_id, redemption_id, invoice_id);
create index promotion_discounts_invoice on promotion_discounts (workspace_id, invoice_id);

-- Failed validate/redeem attempts per customer and per client IP (sha256), in fixed windows, shared by
-- every server process through the database.
create table promotion_failures (
  workspace_id text not null,
  scope text not null check (scope in ('customer', 'ip')),
  subject text not null,
  failures integer not null,
  window_started_at timestamptz not null,
  primary key (workspace_id, scope, subject)
);
