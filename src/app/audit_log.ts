import { requireCustomer } from './customers.js';
import type { Sql } from './ports.js';
import { requireProgram } from './programs.js';
import type { AuditInput } from './referrals_referrers.js';

/**
 * The workspace's audit log of referral repairs and changes (manual referrals, reassignments,
 * suspensions, reinstatements, option changes, contracts), newest first. Entries are only ever
 * appended and their ids sort by time, so pages are cut by id; each filter has an index in id order.
 */

export const AUDIT_ACTIONS = [
  'manual_referral',
  'referral_reassigned',
  'referrer_suspended',
  'referrer_reinstated',
  'option_changed',
  'contract_signed',
] as const satisfies readonly AuditInput['action'][];
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
// The filter must offer every action the log can hold: this fails to compile when one is missing.
const everyAction: Exclude<AuditInput['action'], AuditAction> extends never ? true : never = true;
void everyAction;

export interface AuditLogQuery {
  limit: number;
  starting_after?: string | undefined;
  referral?: string | undefined;
  customer?: string | undefined;
  program?: string | undefined;
  action?: AuditAction | undefined;
}

interface AuditRow {
  id: string;
  action: string;
  program_key: string | null;
  referral_id: string | null;
  customer_id: string | null;
  actor: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  at: Date;
}

export async function listAuditLog(sql: Sql, ws: string, q: AuditLogQuery) {
  const params: unknown[] = [ws];
  const arg = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const filters = ['a.workspace_id = $1'];
  if (q.customer !== undefined) {
    const customer = await requireCustomer(sql, ws, q.customer, 'customer');
    filters.push(`a.customer_id = ${arg(customer.id)}`);
  }
  if (q.program !== undefined) {
    const program = await requireProgram(sql, ws, q.program);
    filters.push(`a.program_id = ${arg(program.id)}`);
  }
  if (q.referral !== undefined) filters.push(`a.referral_id = ${arg(q.referral)}`);
  if (q.action !== undefined) filters.push(`a.action = ${arg(q.action)}`);
  if (q.starting_after !== undefined) filters.push(`a.id < ${arg(q.starting_after)}`);
  const rows = await sql.query<AuditRow>(
    `select a.id, a.action, p.key as program_key, a.referral_id, a.customer_id, a.actor, a.reason, a.details, a.at
     from (select * from referral_audit_log a where ${filters.join(' and ')}
           order by a.id desc limit ${arg(q.limit + 1)}) a
       left join programs p on p.workspace_id = a.workspace_id and p.id = a.program_id
     order by a.id desc`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const named = await externalIds(sql, ws, page);
  return {
    object: 'list' as const,
    data: page.map((a) => ({
      id: a.id,
      object: 'audit_log_entry' as const,
      action: a.action,
      program: a.program_key,
      referral: a.referral_id,
      customer: a.customer_id,
      customer_external_id: a.customer_id ? (named.get(a.customer_id) ?? null) : null,
      actor: a.actor,
      reason: a.reason,
      details: a.details,
      customers: Object.fromEntries(
        mentionedCustomers(a).flatMap((id) => (named.has(id) ? [[id, named.get(id)!]] : [])),
      ),
      at: a.at.toISOString(),
    })),
    has_more: rows.length > q.limit,
  };
}

/** The customers an entry names: its subject and any customer id among its details (from, to, ...). */
function mentionedCustomers(a: AuditRow): string[] {
  const ids = new Set<string>();
  if (a.customer_id) ids.add(a.customer_id);
  for (const v of Object.values(a.details)) if (typeof v === 'string' && v.startsWith('cus_')) ids.add(v);
  return [...ids];
}

/** External ids of every customer a page of entries names, in one query by primary key. */
async function externalIds(sql: Sql, ws: string, rows: readonly AuditRow[]) {
  const ids = [...new Set(rows.flatMap(mentionedCustomers))];
  if (ids.length === 0) return new Map<string, string>();
  const found = await sql.query<{ id: string; external_id: string }>(
    'select id, external_id from customers where workspace_id = $1 and id = any($2::text[])',
    [ws, ids],
  );
  return new Map(found.map((c) => [c.id, c.external_id]));
}
