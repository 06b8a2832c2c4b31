import { claimDue, type OutboxRow } from '../../app/outbox.js';
import type { Deps } from '../../app/ports.js';
import type { EndpointRow } from '../../app/webhook_endpoints.js';
import {
  deliveryTargets,
  recordDeliveryAttempt,
  signingSecrets,
} from '../../app/webhook_endpoints_delivery.js';
import type { PrivateAddressPolicy } from '../../config.js';
import { DEFAULT_TIMEOUT_MS, postWebhook } from './http.js';
import { signedHeaders } from './signing.js';

export interface WebhookWorkerOptions {
  policy: PrivateAddressPolicy;
  timeout_ms?: number | undefined;
  /** Deliveries claimed and sent at once. */
  batch?: number | undefined;
  /** A number in [0, 1) for the jitter of retry delays. */
  random?: (() => number) | undefined;
  log?: ((message: string, err?: unknown) => void) | undefined;
}

/** The lease outlasts the request timeout, so a slow endpoint is not sent the same delivery twice at once. */
const LEASE_MARGIN_MS = 10_000;

/** Claims the due deliveries (up to the batch size), sends them in parallel, and answers how many. */
export async function deliverDueWebhooks(deps: Deps, options: WebhookWorkerOptions): Promise<number> {
  const timeout_ms = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const rows = await claimDue(deps, deps.db, 'webhook', options.batch ?? 16, timeout_ms + LEASE_MARGIN_MS);
  const targets = await deliveryTargets(deps, rows);
  await Promise.all(
    rows.map((row) => {
      const endpoint = targets.get(row.id);
      if (!endpoint) return undefined;
      return deliverOne(deps, row, endpoint, options, timeout_ms).catch((err: unknown) =>
        // The lease runs out and the delivery is sent again; nothing is lost.
        options.log?.(`webhook delivery ${row.id} could not be recorded; it will be sent again`, err),
      );
    }),
  );
  return rows.length;
}

async function deliverOne(
  deps: Deps,
  row: OutboxRow,
  endpoint: EndpointRow,
  options: WebhookWorkerOptions,
  timeout_ms: number,
) {
  const now = deps.clock.now();
  const body = String(row.payload.body);
  const headers = signedHeaders(
    signingSecrets(endpoint, now),
    row.event_id ?? row.id,
    Math.floor(now.getTime() / 1000),
    body,
  );
  const attempt = await postWebhook(endpoint.url, { ...headers }, body, {
    policy: options.policy,
    timeout_ms,
    now: () => deps.clock.now(),
  });
  const random = options.random ?? Math.random;
  await recordDeliveryAttempt(deps, row, attempt, random());
}
