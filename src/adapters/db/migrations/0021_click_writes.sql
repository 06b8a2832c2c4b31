-- Clicks are counted on the referrer row (referrers.clicks) and read by no query; the per-referrer
-- index only slowed every batch of clicks written.
drop index if exists referral_clicks_referrer;
