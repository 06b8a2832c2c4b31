-- Indexes behind the operator dashboard's searches and filtered lists, so each stays an index range
-- scan at hundreds of thousands of rows instead of a walk through the whole workspace.

-- Customer search by the start of an external id or an e-mail. Byte order ("C") makes a prefix one
-- contiguous range of the index whatever the database's collation, read in the order a search
-- answers (the matched text, then id); e-mails are compared lower-cased.
create index customers_external_id_prefix on customers (workspace_id, (external_id collate "C"), id);
create index customers_email_prefix on customers (workspace_id, (lower(email) collate "C"), id);

-- A customer's grants (lots that are not credit given back), newest first.
create index ledger_lots_customer_grants on ledger_lots (workspace_id, customer_id, id)
  where restored_from_lot_id is null;

-- Payouts across the workspace by status (e.g. the pending ones waiting for a decision), newest first.
create index ledger_payouts_status on ledger_payouts (workspace_id, status, id);

-- Outbox work that failed for good (Stripe calls, webhook deliveries), newest first. Few rows fail,
-- so this partial index stays small and costs nothing on the rows that succeed.
create index outbox_failed on outbox (workspace_id, kind, id) where status = 'failed';
