-- The guessing limits were checked against the counts read with a request's facts, and a failure was
-- counted after it was answered: a burst of concurrent attempts all read the counts before any of them
-- counted, so all were tried. A failure is now answered 429 when its own count finds the limit
-- already reached (src/app/promo_failures.ts), and a redemption is written only while neither its
-- customer nor its client IP is past the limit, checked by this function in the statement that
-- writes it: a success in such a burst is refused like the guesses around it.
--
-- Raises SQLSTATE PRX06 when any of the customers or client IPs (digests, as promotion_failures holds
-- them) has at least its limit of failures in a window that started after its `since`; the detail is
-- the counter's scope and the start of its window in epoch milliseconds ('customer 1796601600000'),
-- from which the caller tells how long to wait.
create function promo_assert_guessing(
  p_workspace text, p_customers text[], p_ips text[],
  p_customer_limit integer, p_customer_since timestamptz, p_ip_limit integer, p_ip_since timestamptz
) returns void
language plpgsql as $$
declare
  v_scope text;
  v_started timestamptz;
begin
  select f.scope, f.window_started_at into v_scope, v_started from promotion_failures f
  where f.workspace_id = p_workspace and (
    (f.scope = 'customer' and f.subject = any(p_customers) and f.failures >= p_customer_limit
      and f.window_started_at > p_customer_since)
    or (f.scope = 'ip' and f.subject = any(p_ips) and f.failures >= p_ip_limit
      and f.window_started_at > p_ip_since))
  limit 1;
  if found then
    raise exception 'too many failed code attempts for this %', v_scope
      using errcode = 'PRX06',
        detail = v_scope || ' ' || floor(extract(epoch from v_started) * 1000)::bigint::text;
  end if;
end
$$;
