-- Every Stripe event Perks accepted, stored before it is applied and kept permanently: the unique
-- (workspace_id, stripe_event_id) index is what makes a redelivered event a no-op.
create table stripe_events (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  stripe_event_id text not null,
  type text not null,
  api_version text,
  livemode boolean not null,
  -- When Stripe created the event: the instant its facts were true.
  occurred_at timestamptz not null,
  received_at timestamptz not null,
  -- received: stored, not yet applied (never visible after commit); processed: applied;
  -- failed: could not be mapped or applied, see reason; ignored: nothing to apply, see reason;
  -- deferred: waits for another event (waiting_key) and is applied when that one arrives.
  status text not null check (status in ('received', 'processed', 'failed', 'ignored', 'deferred')),
  reason text,
  waiting_key text,
  attempts integer not null default 0,
  processed_at timestamptz,
  payload jsonb not null,
  -- What applying it produced (provider-neutral event ids, settlement, ...), for support.
  result jsonb,
  primary key (workspace_id, id)
);
create unique index stripe_events_stripe_id on stripe_events (workspace_id, stripe_event_id);
create index stripe_events_status on stripe_events (workspace_id, status, id);
create index stripe_events_waiting on stripe_events (workspace_id, waiting_key) where status = 'deferred';
