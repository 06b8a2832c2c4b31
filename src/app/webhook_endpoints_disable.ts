import { endpointView, type EndpointRow, requireEndpoint } from './webhook_endpoints.js';
import type { Deps, Sql } from './ports.js';

/**
 * Disables an endpoint by hand, e.g. while the product's receiver is down for maintenance. Its
 * pending deliveries are canceled and events that happen meanwhile are recorded for it as canceled
 * deliveries, as for an endpoint disabled after failing; `enable` with `recover` queues them again.
 * Disabling a disabled endpoint answers it unchanged. Its undo is `enableEndpoint`.
 */
export async function disableEndpoint(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  id: string,
  reason: string | undefined,
) {
  const current = await requireEndpoint(tx, workspaceId, id, true);
  const now = deps.clock.now();
  if (current.status === 'disabled') return endpointView(current, now);
  const row = await markDisabled(
    tx,
    workspaceId,
    id,
    reason ? `disabled by hand: ${reason}` : 'disabled by hand',
    now,
  );
  return endpointView(row!, now);
}

/**
 * Disables an enabled endpoint and cancels its pending deliveries; the endpoint as it now is, or
 * undefined when it was not enabled. Shared by a disable by hand and by repeated failures
 * (webhook_endpoints_delivery.ts).
 */
export async function markDisabled(
  tx: Sql,
  workspaceId: string,
  id: string,
  reason: string,
  now: Date,
): Promise<EndpointRow | undefined> {
  const [row] = await tx.query<EndpointRow>(
    `update webhook_endpoints set status = 'disabled', disabled_reason = $3, disabled_at = $4, updated_at = $4
     where workspace_id = $1 and id = $2 and status = 'enabled' returning *`,
    [workspaceId, id, reason, now],
  );
  if (!row) return undefined;
  await tx.query(
    `update outbox set status = 'canceled', last_error = 'the endpoint was disabled', completed_at = $3
     where workspace_id = $1 and endpoint_id = $2 and kind = 'webhook' and status = 'pending'`,
    [workspaceId, id, now],
  );
  return row;
}
