import { Grouping } from './grouping.js';
import type { WebhookSubscriber } from './outbox_webhooks.js';
import type { Db, Sql } from './ports.js';
import type { PromotionTermsRow } from './promo_promotions.js';

/**
 * Reading what a redemption (or a validation) decides on: one row of promo_redemption_facts_many
 * (migrations 0022_promo_facts_many.sql, 0026_promo_facts_subscription_ref.sql,
 * 0028_promo_facts_disputed_payment.sql, 0030_promo_slot_holds_promotion_once.sql) per request.
 *
 * Without a caller's transaction, reads are grouped as writes are (promo_redemption_writes.ts): while
 * a workspace's read is in flight, the requests that arrive meanwhile wait and are read together in
 * the next statement. Each statement sees what was committed when it started (READ COMMITTED), as a
 * read of its own would have, and every limit is enforced again by the write, so grouping changes no
 * answer: it saves a round trip and a plan run per request on a busy server.
 */

/** One row of promo_redemption_facts_many. */
export interface FactsRow extends PromotionTermsRow {
  id: string | null;
  code_id: string | null;
  code_text: string | null;
  code_customer_id: string | null;
  code_max_redemptions: number | null;
  code_times_redeemed: number | null;
  code_expires_at: Date | null;
  cust_id: string | null;
  /** The subscription asked about by the caller's id (a Perks id translated to it); null without one. */
  sub_ref: string | null;
  sub_customer_id: string | null;
  sub_plan_id: string | null;
  sub_amount: number | null;
  sub_currency: string | null;
  sub_status: string | null;
  paid_through: Date | null;
  customer_uses: number | null;
  has_paid: boolean;
  slot_active: number | null;
  slot_exclusive: number | null;
  /** Active redemptions of the code's promotion on the same slot (at most one may be). */
  slot_promotion_active: number | null;
  cust_failures: number | null;
  cust_window: Date | null;
  ip_failures: number | null;
  ip_window: Date | null;
  /** The workspace's webhook endpoints, enabled or not, to tell whether one listens. */
  webhook_endpoints: WebhookSubscriber[];
}

/** What one request asks about. */
export interface FactsRequest {
  customer: string;
  /** The normalised code; null for a malformed one, read as no code. */
  code: string | null;
  subscription: string | null;
  ipSubject: string | null;
}

/**
 * Reads in flight at once per workspace; requests arriving meanwhile wait for the next group. One, for
 * the reason writes take one at a time (MAX_IN_FLIGHT in promo_redemption_writes.ts).
 */
export const MAX_READS_IN_FLIGHT = 1;
/** Requests read in one statement at most. */
export const MAX_READ_GROUP = 64;

async function readMany(sql: Sql, workspaceId: string, requests: readonly FactsRequest[]) {
  const rows = await sql.query<FactsRow & { ord: number }>(
    'select * from promo_redemption_facts_many($1, $2::text[], $3::text[], $4::text[], $5::text[])',
    [
      workspaceId,
      requests.map((r) => r.customer),
      requests.map((r) => r.code),
      requests.map((r) => r.subscription),
      requests.map((r) => r.ipSubject),
    ],
  );
  if (rows.length !== requests.length) {
    throw new Error(
      `promo_redemption_facts_many answered ${rows.length} rows for ${requests.length} requests`,
    );
  }
  return rows;
}

interface Read {
  db: Db;
  workspaceId: string;
  request: FactsRequest;
}

const groups = new Grouping<Read, FactsRow>(
  { maxInFlight: MAX_READS_IN_FLIGHT, maxGroup: MAX_READ_GROUP },
  {
    one: async ({ db, workspaceId, request }) => (await readMany(db, workspaceId, [request]))[0]!,
    async many(reads) {
      const { db, workspaceId } = reads[0]!;
      const rows = await readMany(
        db,
        workspaceId,
        reads.map((r) => r.request),
      );
      const byOrd: FactsRow[] = [];
      for (const row of rows) byOrd[row.ord] = row;
      return byOrd;
    },
  },
);

/**
 * The facts of one request: read in the caller's transaction when given one, else grouped with the
 * workspace's other requests.
 */
export async function readFacts(
  db: Db,
  tx: Sql | undefined,
  workspaceId: string,
  request: FactsRequest,
): Promise<FactsRow> {
  if (tx) return (await readMany(tx, workspaceId, [request]))[0]!;
  return groups.submit(db, workspaceId, { db, workspaceId, request });
}
