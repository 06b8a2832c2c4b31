-- Tenancy: every table leads with workspace_id and its primary key starts with it.
create table workspaces (
  workspace_id text primary key,
  name text not null,
  created_at timestamptz not null default now()
);

create table api_keys (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  name text,
  -- The visible start of the key, shown in listings so people can tell keys apart.
  prefix text not null,
  -- sha256 of the whole key; the key itself is never stored.
  key_hash text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (workspace_id, id)
);
create unique index api_keys_hash on api_keys (key_hash);

create table idempotency_keys (
  workspace_id text not null references workspaces (workspace_id),
  key text not null,
  method text not null,
  path text not null,
  request_hash text not null,
  -- 'started' while the first request runs; 'done' once its response is stored.
  state text not null check (state in ('started', 'done')),
  response_status integer,
  response_body jsonb,
  locked_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  primary key (workspace_id, key)
);
