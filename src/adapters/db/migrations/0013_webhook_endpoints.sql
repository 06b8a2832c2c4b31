-- Endpoints of the user's product that receive signed webhooks, and a log of every delivery attempt.
create table webhook_endpoints (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  url text not null,
  description text,
  -- A JSON array of event types, or ["*"] for every type.
  event_types jsonb not null,
  metadata jsonb not null default '{}'::jsonb,
  secret text not null,
  -- After a rotation the previous secret signs too, until previous_secret_expires_at.
  previous_secret text,
  previous_secret_expires_at timestamptz,
  status text not null check (status in ('enabled', 'disabled')),
  disabled_reason text,
  disabled_at timestamptz,
  last_success_at timestamptz,
  failing_since timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id)
);

create table webhook_attempts (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  delivery_id text not null,
  endpoint_id text not null,
  attempt integer not null,
  started_at timestamptz not null,
  duration_ms integer not null,
  -- The HTTP status, or null when no response came (timeout, refused connection, refused address).
  status_code integer,
  error text,
  -- The first characters of the response body, for debugging the receiver.
  response_body text,
  primary key (workspace_id, id)
);
create index webhook_attempts_delivery on webhook_attempts (workspace_id, delivery_id, id);
