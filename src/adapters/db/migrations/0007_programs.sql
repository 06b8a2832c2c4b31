-- Referral programs: versioned program documents, codes and link clicks, referrals with their
-- transitions, and reward decisions keyed by their business key so a replay never grants twice.

create table programs (
  workspace_id text not null references workspaces (workspace_id),
  id text not null,
  key text not null,
  name text not null,
  latest_version integer not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id)
);
create unique index programs_key on programs (workspace_id, key);

-- Versions are immutable: editing a program appends one. A referral is bound to the version in
-- force (the latest whose effective_at has passed) when it was attributed.
create table program_versions (
  workspace_id text not null,
  program_id text not null,
  version integer not null check (version >= 1),
  document jsonb not null,
  effective_at timestamptz not null,
  actor text,
  created_at timestamptz not null,
  primary key (workspace_id, program_id, version),
  foreign key (workspace_id, program_id) references programs (workspace_id, id)
);
create index program_versions_effective on program_versions (workspace_id, program_id, effective_at);

-- The secret that keys the hashes of clickers' IP addresses and user agents, and signs click ids.
create table referral_link_secrets (
  workspace_id text not null references workspaces (workspace_id),
  secret text not null,
  created_at timestamptz not null,
  primary key (workspace_id)
);

-- Codes are normalised (upper case, no separators). GET /r/{code} carries no API key, so a code is
-- unique across workspaces, not only within one.
create table referral_codes (
  workspace_id text not null,
  code text not null,
  program_id text not null,
  customer_id text not null,
  vanity boolean not null,
  -- The code shown for (program, customer); an older code keeps working after a vanity code replaces it.
  is_primary boolean not null,
  created_at timestamptz not null,
  primary key (workspace_id, code),
  foreign key (workspace_id, program_id) references programs (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);
create unique index referral_codes_global on referral_codes (code);
create unique index referral_codes_primary on referral_codes (workspace_id, program_id, customer_id) where is_primary;

-- One row per customer who holds a code (or received a referral) in a program: standing, choice of
-- reward option, and the counters the referral summary reads without scanning referrals.
create table referrers (
  workspace_id text not null,
  program_id text not null,
  customer_id text not null,
  -- The latest of: the first code, the last non-rejected referral, the last reinstatement.
  active_since timestamptz not null,
  suspended_at timestamptz,
  reinstated_at timestamptz,
  option text,
  clicks bigint not null default 0,
  signups bigint not null default 0,
  referred bigint not null default 0,
  qualified bigint not null default 0,
  rejected bigint not null default 0,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, program_id, customer_id),
  foreign key (workspace_id, program_id) references programs (workspace_id, id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);

-- No raw personal data: the IP address and user agent are kept only as keyed hashes.
create table referral_clicks (
  workspace_id text not null,
  id text not null,
  code text not null,
  program_id text not null,
  referrer_customer_id text not null,
  ip_hash text,
  user_agent_hash text,
  clicked_at timestamptz not null,
  primary key (workspace_id, id)
);
create index referral_clicks_referrer on referral_clicks (workspace_id, program_id, referrer_customer_id, clicked_at);

create table referral_contracts (
  workspace_id text not null,
  customer_id text not null,
  signed_at timestamptz not null,
  recorded_at timestamptz not null,
  actor text,
  primary key (workspace_id, customer_id),
  foreign key (workspace_id, customer_id) references customers (workspace_id, id)
);

create table referrals (
  workspace_id text not null,
  id text not null,
  program_id text not null,
  program_version integer not null,
  referrer_customer_id text not null,
  referee_customer_id text not null,
  -- How it was attributed: by code, by link click, or by hand (support).
  method text not null check (method in ('code', 'link', 'manual')),
  -- Where the attribution came from: a billing event, the API, or a support repair.
  source text not null check (source in ('event', 'api', 'manual')),
  code text,
  click_id text,
  event_id text,
  status text not null check (status in ('pending', 'qualified', 'rewarded', 'rejected')),
  -- The rule that rejected it (status rejected only).
  reason text,
  reason_message text,
  reason_details jsonb,
  -- Set when the program says a customer is referred once: the unique index below holds the claim.
  referee_claim boolean not null,
  -- The cap period whose slot this referral holds (programs with a per-referrer cap).
  cap_period_start timestamptz,
  attributed_at timestamptz not null,
  qualified_at timestamptz,
  rewarded_at timestamptz,
  rejected_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, program_id, program_version) references program_versions (workspace_id, program_id, version),
  foreign key (workspace_id, referrer_customer_id) references customers (workspace_id, id),
  foreign key (workspace_id, referee_customer_id) references customers (workspace_id, id),
  check ((status = 'rejected') = (reason is not null))
);
create unique index referrals_referee_once on referrals (workspace_id, program_id, referee_customer_id)
  where referee_claim and status <> 'rejected';
create index referrals_referee on referrals (workspace_id, referee_customer_id) where status <> 'rejected';
create index referrals_referrer on referrals (workspace_id, referrer_customer_id, id);

-- Every status change of a referral, in order.
create table referral_transitions (
  workspace_id text not null,
  referral_id text not null,
  seq integer not null,
  from_status text,
  to_status text not null,
  reason text,
  message text,
  actor text,
  event_id text,
  at timestamptz not null,
  primary key (workspace_id, referral_id, seq),
  foreign key (workspace_id, referral_id) references referrals (workspace_id, id)
);

-- Support's repairs and changes (manual referrals, reassignments, reinstatements, option changes).
create table referral_audit_log (
  workspace_id text not null,
  id text not null,
  action text not null,
  program_id text,
  referral_id text,
  customer_id text,
  actor text,
  reason text,
  details jsonb not null default '{}'::jsonb,
  at timestamptz not null,
  primary key (workspace_id, id)
);
create index referral_audit_log_referral on referral_audit_log (workspace_id, referral_id);

-- A card fingerprint backs at most one referral per program.
create table referral_card_claims (
  workspace_id text not null,
  program_id text not null,
  fingerprint text not null,
  referral_id text not null,
  created_at timestamptz not null,
  primary key (workspace_id, program_id, fingerprint)
);

-- Referrals per referrer per cap period; the cap is a conditional increment of this row.
create table referral_cap_counts (
  workspace_id text not null,
  program_id text not null,
  customer_id text not null,
  period_start timestamptz not null,
  count integer not null check (count >= 0),
  primary key (workspace_id, program_id, customer_id, period_start)
);

-- One row per reward decision, granted or skipped, under its business key: a replayed event, a
-- resubscription or a repeated repair finds the key taken and grants nothing twice.
create table referral_rewards (
  workspace_id text not null,
  id text not null,
  program_id text not null,
  referral_id text not null,
  reward_index integer not null,
  trigger text not null,
  -- '' for once_per_referral rewards; the payment's or subscription's external id otherwise.
  source_key text not null,
  recipient text not null check (recipient in ('referrer', 'referee')),
  recipient_customer_id text not null,
  asset text not null,
  status text not null check (status in ('granted', 'skipped', 'reversed')),
  reason text,
  message text,
  amount bigint not null default 0,
  -- What refunds, disputes and repairs took back.
  reversed_amount bigint not null default 0,
  -- The ledger grant currently holding the reward, and how many grants it has had (a partial refund
  -- reverses the grant and grants the kept part again).
  grant_id text,
  grant_revision integer not null default 0,
  expires_at timestamptz,
  payment_external_id text,
  event_id text,
  occurred_at timestamptz not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, referral_id) references referrals (workspace_id, id),
  check (reversed_amount >= 0 and reversed_amount <= amount)
);
create unique index referral_rewards_key on referral_rewards
  (workspace_id, program_id, referral_id, reward_index, trigger, source_key, recipient_customer_id);
create index referral_rewards_payment on referral_rewards (workspace_id, payment_external_id)
  where payment_external_id is not null;
create index referral_rewards_referral on referral_rewards (workspace_id, referral_id);

-- Granted and reversed totals per recipient, program and asset, for the summary.
create table referral_reward_totals (
  workspace_id text not null,
  program_id text not null,
  customer_id text not null,
  asset text not null,
  granted bigint not null default 0,
  reversed bigint not null default 0,
  primary key (workspace_id, program_id, customer_id, asset)
);
