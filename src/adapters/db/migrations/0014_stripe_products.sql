-- Stripe products as last seen (from product events and `perks stripe sync`): subscriptions name their
-- product by id only, so the plan units stated in a product's metadata are read from here.
create table stripe_products (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  name text,
  metadata jsonb not null default '{}'::jsonb,
  state_as_of timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id)
);
