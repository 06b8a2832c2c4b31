-- Settlements name their subscription by the caller's id (its external_id), as redemptions do. Those
-- made before that, for a subscription Perks knew, hold its Perks id: they are translated here once,
-- so that nothing reading a settlement has to.
update ledger_settlements l set subscription_id = s.external_id
from subscriptions s
where s.workspace_id = l.workspace_id and s.id = l.subscription_id;
