create table customers (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  external_id text not null,
  email text,
  name text,
  metadata jsonb not null default '{}'::jsonb,
  parent_customer_id text,
  -- occurred_at of the newest fact applied to this row: an older (late) fact never overwrites it.
  state_as_of timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, id),
  foreign key (workspace_id, parent_customer_id) references customers (workspace_id, id)
);
create unique index customers_external_id on customers (workspace_id, external_id);

create table payment_methods (
  workspace_id text not null,
  id text not null,
  customer_id text not null,
  external_id text,
  fingerprint text not null,
  brand text,
  last4 text,
  attached_at timestamptz not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);
-- Re-attaching the same card to the same customer is the same fact, not a second card.
create unique index payment_methods_card on payment_methods (workspace_id, customer_id, fingerprint);
create index payment_methods_fingerprint on payment_methods (workspace_id, fingerprint);

create table subscriptions (
  workspace_id text not null,
  id text not null,
  external_id text not null,
  customer_id text not null,
  plan_id text,
  plan_units bigint,
  interval text check (interval in ('month', 'year')),
  status text not null,
  current_period_start timestamptz,
  current_period_end timestamptz,
  amount bigint,
  currency text,
  canceled_at timestamptz,
  state_as_of timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);
create unique index subscriptions_external_id on subscriptions (workspace_id, external_id);
create index subscriptions_customer on subscriptions (workspace_id, customer_id);

create table payments (
  workspace_id text not null,
  id text not null,
  external_id text not null,
  customer_id text not null,
  subscription_external_id text,
  amount bigint,
  currency text,
  interval text,
  period_start timestamptz,
  period_end timestamptz,
  -- succeeded -> refunded | disputed; a late 'succeeded' never rolls a refund back.
  status text not null check (status in ('succeeded', 'refunded', 'disputed')),
  amount_refunded bigint not null default 0,
  paid_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);
create unique index payments_external_id on payments (workspace_id, external_id);
create index payments_customer on payments (workspace_id, customer_id);

create table events (
  workspace_id text not null references workspaces (workspace_id),
  source text not null,
  event_id text not null,
  id text not null,
  type text not null,
  occurred_at timestamptz not null,
  payload jsonb not null,
  -- applied: changed state; stale: older than the state it would overwrite, kept for history.
  outcome text not null check (outcome in ('applied', 'stale')),
  received_at timestamptz not null default now(),
  primary key (workspace_id, source, event_id)
);
create unique index events_id on events (workspace_id, id);
