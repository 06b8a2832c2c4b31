-- Redemptions and promotion codes no longer reference workspaces directly. Both still reach their
-- workspace through a composite foreign key that leads with workspace_id (a redemption through its
-- customer, a code through its promotion), and those rows reference workspaces themselves, so no row
-- can name a workspace that does not exist.
--
-- Why: a foreign key check takes a key-share lock on the referenced row. Every redemption in flight
-- in a workspace share-locked the same workspace row, so PostgreSQL built a multixact of all of them
-- on each new redemption and wrote the lock into that row's page (the same contention that made the
-- redemptions table reference neither promotions nor codes). For codes, bulk generation paid one more
-- referential check per row for nothing.
alter table redemptions drop constraint redemptions_workspace_id_fkey;
alter table promotion_codes drop constraint promotion_codes_workspace_id_fkey;
