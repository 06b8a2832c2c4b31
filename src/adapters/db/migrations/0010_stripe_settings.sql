-- Per-workspace Stripe settings: the webhook signing secrets (several while one is rotated), the
-- restricted API key for the calls Perks makes to Stripe, and the metadata key that states a plan's units.
create table stripe_settings (
  workspace_id text not null references workspaces (workspace_id),
  -- A JSON array of signing secrets (whsec_...); an event signed by any one of them is accepted.
  webhook_secrets jsonb not null default '[]'::jsonb,
  api_key text,
  plan_units_key text not null default 'perks_plan_units',
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id)
);
