-- The outbox: work for the outside world (calls to Stripe, webhooks to the user's product), written in
-- the same transaction as the decision that needs it and sent afterwards by workers that claim due
-- rows with FOR UPDATE SKIP LOCKED, so any number of server processes can share it.
create table outbox (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  kind text not null check (kind in ('stripe_call', 'webhook')),
  -- A business key that makes writing the same work twice a no-op (e.g. one invoice item per line).
  dedupe_key text,
  -- Webhook rows: the endpoint, the message id (sent as webhook-id) and its type.
  endpoint_id text,
  event_id text,
  event_type text,
  payload jsonb not null,
  -- pending: due at next_attempt_at (a claimed row's next_attempt_at is its lease); succeeded;
  -- failed: given up (permanent error or out of attempts); canceled: its endpoint went away or was disabled.
  status text not null check (status in ('pending', 'succeeded', 'failed', 'canceled')),
  attempts integer not null default 0,
  max_attempts integer not null,
  next_attempt_at timestamptz not null,
  last_attempt_at timestamptz,
  last_error text,
  result jsonb,
  replay_of text,
  created_at timestamptz not null,
  completed_at timestamptz,
  primary key (workspace_id, id)
);
create unique index outbox_dedupe on outbox (workspace_id, dedupe_key) where dedupe_key is not null;
create index outbox_due on outbox (kind, next_attempt_at) where status = 'pending';
create index outbox_endpoint on outbox (workspace_id, endpoint_id, id) where endpoint_id is not null;
create index outbox_kind on outbox (workspace_id, kind, id);
