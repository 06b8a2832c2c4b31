-- The request id of the request whose answer a key holds, sent back on a replay as the
-- Original-Request header: a replayed answer is the stored one, so an error envelope in it names the
-- first request's id (under which that request was logged), not the replay's, and the header says so.
-- Keys stored before this migration have none, and their replays carry no Original-Request.
alter table idempotency_keys add column request_id text;
