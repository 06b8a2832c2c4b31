-- The key that signs the short-lived customer tokens the referral widget carries (POST
-- /v1/customer_tokens). Tokens themselves are never stored: any server process on the same database
-- verifies one from this secret alone. One secret per workspace, created on the first mint.
create table customer_token_secrets (
  workspace_id text not null references workspaces (workspace_id),
  secret text not null,
  created_at timestamptz not null,
  primary key (workspace_id)
);
