-- Redemptions are append-only, as ledger entries are (0003_ledger.sql): a redemption is never deleted
-- and what it binds (code, customer, subscription, discount schedule, when) never changes. Two
-- instants record what happened to it since, and only they may change: voided_at, set once
-- (promo_void_redemption), and completed_at, set when the invoice that used its last period is settled
-- and cleared again when that invoice is voided (src/app/promo_discounts.ts).
create function redemptions_append_only() returns trigger language plpgsql as $$
begin
  if tg_op <> 'UPDATE' then
    raise exception 'redemptions are append-only: % is refused; void the redemption instead', tg_op
      using errcode = 'restrict_violation';
  end if;
  if (new.workspace_id, new.id, new.promotion_id, new.promotion_code_id, new.code, new.customer_id,
      new.subscription_id, new.slot_key, new.stackable, new.periods_total, new.applies_from,
      new.metadata, new.redeemed_at)
     is distinct from
     (old.workspace_id, old.id, old.promotion_id, old.promotion_code_id, old.code, old.customer_id,
      old.subscription_id, old.slot_key, old.stackable, old.periods_total, old.applies_from,
      old.metadata, old.redeemed_at) then
    raise exception 'redemption %: only voided_at and completed_at may change', old.id
      using errcode = 'restrict_violation';
  end if;
  if old.voided_at is not null and new.voided_at is distinct from old.voided_at then
    raise exception 'redemption % was voided at %; a void is final', old.id, old.voided_at
      using errcode = 'restrict_violation';
  end if;
  return new;
end
$$;

create trigger redemptions_keep_binding before update on redemptions
  for each row execute function redemptions_append_only();
create trigger redemptions_no_delete before delete on redemptions
  for each row execute function redemptions_append_only();
create trigger redemptions_no_truncate before truncate on redemptions
  for each statement execute function redemptions_append_only();
