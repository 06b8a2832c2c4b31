import { PerksError } from '../core/errors.js';
import { type ReferrerStatus, referrerStatus } from '../core/programs/lifecycle.js';
import { defaultOption, type Program } from '../core/programs/schema.js';
import { requireCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';
import { type ProgramRow, requireProgram, requireVersionNow } from './programs.js';
import { ensureReferrer } from './referrals_codes.js';
import { grantRewardsSinceContract } from './referrals_rewards.js';
import { emitReferrer } from './referrals_webhooks.js';

/**
 * A referrer's standing in a program (active or suspended), its chosen reward option, and its
 * signed contract: the facts the reward rules read about the referrer.
 */

export interface ReferrerRow {
  workspace_id: string;
  program_id: string;
  customer_id: string;
  active_since: Date;
  suspended_at: Date | null;
  reinstated_at: Date | null;
  option: string | null;
  clicks: number;
  signups: number;
  referred: number;
  qualified: number;
  rejected: number;
  created_at: Date;
  updated_at: Date;
}

export async function findReferrer(sql: Sql, workspaceId: string, programId: string, customerId: string) {
  const [row] = await sql.query<ReferrerRow>(
    'select * from referrers where workspace_id = $1 and program_id = $2 and customer_id = $3',
    [workspaceId, programId, customerId],
  );
  return row;
}

/** What the reward rules read of a referrer's row. */
export type ReferrerFacts = Pick<ReferrerRow, 'active_since' | 'suspended_at' | 'option'>;

/** Standing as of `at`, computed from the row without writing (for reads). */
export function standingOf(row: ReferrerFacts | undefined, program: Program, at: Date): ReferrerStatus {
  if (!row) return { status: 'active', suspends_at: null };
  return referrerStatus(
    { active_since: row.active_since, suspended_at: row.suspended_at },
    program.referrer.suspend_after_inactivity_days,
    at,
  );
}

/**
 * Standing as of `at`, recording a suspension the first time it is observed: suspension after
 * inactivity happens on its date whether or not anything looked, and is written when first needed.
 */
export async function referrerStanding(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  programId: string,
  program: Program,
  customerId: string,
  at: Date,
  preloaded?: { row: ReferrerFacts | undefined },
): Promise<{ status: ReferrerStatus; row: ReferrerFacts | undefined }> {
  const row = preloaded ? preloaded.row : await findReferrer(tx, workspaceId, programId, customerId);
  const status = standingOf(row, program, at);
  if (row && status.status === 'suspended' && row.suspended_at === null) {
    const updated = await tx.query(
      `update referrers set suspended_at = $4, updated_at = $5
       where workspace_id = $1 and program_id = $2 and customer_id = $3 and suspended_at is null returning 1`,
      [workspaceId, programId, customerId, status.suspended_at, deps.clock.now()],
    );
    if (updated.length > 0) {
      await emitReferrer(deps, tx, workspaceId, 'referrer.suspended', {
        customer: customerId,
        program_id: programId,
        suspended_at: status.suspended_at.toISOString(),
      });
      await audit(deps, tx, workspaceId, {
        action: 'referrer_suspended',
        program_id: programId,
        customer_id: customerId,
        actor: 'system',
        reason: `no new referral for ${program.referrer.suspend_after_inactivity_days} days`,
        details: { suspended_at: status.suspended_at.toISOString() },
      });
    }
  }
  return { status, row };
}

export interface AuditInput {
  action:
    | 'manual_referral'
    | 'referral_reassigned'
    | 'referrer_suspended'
    | 'referrer_reinstated'
    | 'option_changed'
    | 'contract_signed';
  program_id?: string | null;
  referral_id?: string | null;
  customer_id?: string | null;
  actor?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export async function audit(deps: Deps, tx: Sql, workspaceId: string, entry: AuditInput) {
  await tx.query(
    `insert into referral_audit_log (workspace_id, id, action, program_id, referral_id, customer_id, actor, reason,
       details, at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      workspaceId,
      deps.ids.id('aud'),
      entry.action,
      entry.program_id ?? null,
      entry.referral_id ?? null,
      entry.customer_id ?? null,
      entry.actor ?? null,
      entry.reason ?? null,
      JSON.stringify(entry.details ?? {}),
      deps.clock.now(),
    ],
  );
}

export function standingView(status: ReferrerStatus) {
  return status.status === 'active'
    ? {
        status: 'active' as const,
        suspended_at: null,
        suspends_at: status.suspends_at?.toISOString() ?? null,
      }
    : { status: 'suspended' as const, suspended_at: status.suspended_at.toISOString(), suspends_at: null };
}

async function lockReferrer(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  program: ProgramRow,
  customerId: string,
) {
  await ensureReferrer(tx, workspaceId, program.id, customerId, deps.clock.now());
  const [row] = await tx.query<ReferrerRow>(
    'select * from referrers where workspace_id = $1 and program_id = $2 and customer_id = $3 for update',
    [workspaceId, program.id, customerId],
  );
  return row!;
}

function referrerView(program: ProgramRow, doc: Program, row: ReferrerRow, at: Date) {
  return {
    object: 'referrer' as const,
    program: program.key,
    customer: row.customer_id,
    option: row.option ?? defaultOption(doc),
    option_chosen: row.option !== null,
    ...standingView(standingOf(row, doc, at)),
    reinstated_at: row.reinstated_at?.toISOString() ?? null,
  };
}
export type ReferrerView = ReturnType<typeof referrerView>;

/** Records the referrer's choice among the program's reward options; it applies to later accruals. */
export async function chooseOption(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: { program: string; option: string; actor?: string | undefined },
): Promise<ReferrerView> {
  const customer = await requireCustomer(tx, workspaceId, customerRef, 'id');
  const program = await requireProgram(tx, workspaceId, input.program);
  const version = await requireVersionNow(deps, tx, program);
  const options = version.document.options.map((o) => o.key);
  if (!options.includes(input.option)) {
    throw new PerksError(
      'parameter_invalid',
      options.length === 0
        ? `program '${program.key}' offers no reward options`
        : `'option' must be one of: ${options.join(', ')}`,
      'option',
    );
  }
  const row = await lockReferrer(deps, tx, workspaceId, program, customer.id);
  const now = deps.clock.now();
  if (row.option === input.option) return referrerView(program, version.document, row, now);
  const [updated] = await tx.query<ReferrerRow>(
    `update referrers set option = $4, updated_at = $5
     where workspace_id = $1 and program_id = $2 and customer_id = $3 returning *`,
    [workspaceId, program.id, customer.id, input.option, now],
  );
  await audit(deps, tx, workspaceId, {
    action: 'option_changed',
    program_id: program.id,
    customer_id: customer.id,
    actor: input.actor ?? null,
    details: { from: row.option ?? defaultOption(version.document), to: input.option },
  });
  return referrerView(program, version.document, updated!, now);
}

/** Support lifts a suspension; the inactivity clock starts again from now. */
export async function reinstateReferrer(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: { program: string; reason: string; actor: string },
): Promise<ReferrerView> {
  const customer = await requireCustomer(tx, workspaceId, customerRef, 'id');
  const program = await requireProgram(tx, workspaceId, input.program);
  const version = await requireVersionNow(deps, tx, program);
  const row = await lockReferrer(deps, tx, workspaceId, program, customer.id);
  const now = deps.clock.now();
  const standing = standingOf(row, version.document, now);
  if (standing.status !== 'suspended') {
    throw new PerksError(
      'referral_repair_refused',
      'the referrer is not suspended; there is nothing to reinstate',
      'id',
      {
        status: 'active',
      },
    );
  }
  const [updated] = await tx.query<ReferrerRow>(
    `update referrers set suspended_at = null, reinstated_at = $4, active_since = $4, updated_at = $4
     where workspace_id = $1 and program_id = $2 and customer_id = $3 returning *`,
    [workspaceId, program.id, customer.id, now],
  );
  await emitReferrer(deps, tx, workspaceId, 'referrer.reinstated', {
    customer: customer.id,
    program_id: program.id,
    suspended_at: standing.suspended_at.toISOString(),
  });
  await audit(deps, tx, workspaceId, {
    action: 'referrer_reinstated',
    program_id: program.id,
    customer_id: customer.id,
    actor: input.actor,
    reason: input.reason,
    details: { suspended_at: standing.suspended_at.toISOString() },
  });
  return referrerView(program, version.document, updated!, now);
}

export interface ContractRow {
  workspace_id: string;
  customer_id: string;
  signed_at: Date;
  recorded_at: Date;
  actor: string | null;
}

export function contractView(c: ContractRow) {
  return {
    object: 'contract' as const,
    customer: c.customer_id,
    signed_at: c.signed_at.toISOString(),
    recorded_at: c.recorded_at.toISOString(),
    actor: c.actor,
  };
}

/**
 * Records when the customer signed the partner contract. The first signature stands: moving it
 * would change which past payments accrued, and accruals are never rewritten. A signature dated in
 * the past covers the payments made since then, which were skipped for want of a contract: they are
 * granted now, in the same transaction; payments before it stay skipped.
 */
export async function signContract(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: { signed_at?: Date | undefined; actor?: string | undefined },
): Promise<{ contract: ReturnType<typeof contractView>; created: boolean }> {
  const customer = await requireCustomer(tx, workspaceId, customerRef, 'id');
  const now = deps.clock.now();
  const signedAt = input.signed_at ?? now;
  if (signedAt.getTime() > now.getTime()) {
    throw new PerksError('parameter_invalid', "'signed_at' must not be in the future", 'signed_at');
  }
  const inserted = await tx.query<ContractRow>(
    `insert into referral_contracts (workspace_id, customer_id, signed_at, recorded_at, actor)
     values ($1, $2, $3, $4, $5) on conflict do nothing returning *`,
    [workspaceId, customer.id, signedAt, now, input.actor ?? null],
  );
  if (inserted[0]) {
    const granted = await grantRewardsSinceContract(deps, tx, workspaceId, customer.id, signedAt, {
      actor: input.actor ?? null,
    });
    await audit(deps, tx, workspaceId, {
      action: 'contract_signed',
      customer_id: customer.id,
      actor: input.actor ?? null,
      details: { signed_at: signedAt.toISOString(), rewards_granted: granted },
    });
    return { contract: contractView(inserted[0]), created: true };
  }
  const [existing] = await tx.query<ContractRow>(
    'select * from referral_contracts where workspace_id = $1 and customer_id = $2',
    [workspaceId, customer.id],
  );
  return { contract: contractView(existing!), created: false };
}

export async function contractSignedAt(
  sql: Sql,
  workspaceId: string,
  customerId: string,
): Promise<Date | null> {
  const [row] = await sql.query<{ signed_at: Date }>(
    'select signed_at from referral_contracts where workspace_id = $1 and customer_id = $2',
    [workspaceId, customerId],
  );
  return row?.signed_at ?? null;
}
