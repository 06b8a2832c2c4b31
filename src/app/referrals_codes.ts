import { createHmac, timingSafeEqual } from 'node:crypto';
import { PerksError } from '../core/errors.js';
import { referrerEligibility } from '../core/programs/attribution.js';
import {
  codeFromEntropy,
  isWellFormedCode,
  normaliseCode,
  vanityCodeProblem,
} from '../core/programs/codes.js';
import { type CustomerRow, requireCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';
import { type ProgramRow, requireProgram, requireVersionNow, versionAt } from './programs.js';

/**
 * Referral codes and links. A customer gets one code per program once it is eligible; `GET /r/{code}`
 * records a click and hands the visitor a click id, which attributes the signup later.
 */

export interface CodeRow {
  workspace_id: string;
  code: string;
  program_id: string;
  customer_id: string;
  vanity: boolean;
  is_primary: boolean;
  created_at: Date;
}

/**
 * The path of a code's referral link on this server, or null when the program does not take links
 * (`attribution.methods` without `link`): `GET /r/{code}` answers 404 for such a code, so handing out
 * its link would hand out a dead one. The HTTP layer prefixes its public origin.
 */
export function linkPath(code: string | null, methods: readonly string[]): string | null {
  return code !== null && methods.includes('link') ? `/r/${code}` : null;
}

export function codeView(
  c: CodeRow,
  program: Pick<ProgramRow, 'key'>,
  customer: Pick<CustomerRow, 'id' | 'external_id'>,
  /** The attribution methods of the program's version in force. */
  methods: readonly string[],
) {
  return {
    object: 'referral_code' as const,
    code: c.code,
    program: program.key,
    customer: customer.id,
    customer_external_id: customer.external_id,
    vanity: c.vanity,
    link_path: linkPath(c.code, methods),
    created_at: c.created_at.toISOString(),
  };
}
export type CodeView = ReturnType<typeof codeView>;

/** Facts that decide whether a customer may refer. */
export async function eligibilityFacts(sql: Sql, workspaceId: string, customerId: string) {
  const [row] = await sql.query<{ has_card: boolean; has_paid_subscription: boolean }>(
    `select exists (select 1 from payment_methods where workspace_id = $1 and customer_id = $2) as has_card,
            exists (select 1 from subscriptions where workspace_id = $1 and customer_id = $2
                    and status = 'active' and coalesce(amount, 0) > 0) as has_paid_subscription`,
    [workspaceId, customerId],
  );
  return row!;
}

/** Makes sure the customer has a standing row in the program (its counters and its clock). */
export async function ensureReferrer(
  sql: Sql,
  workspaceId: string,
  programId: string,
  customerId: string,
  at: Date,
) {
  await sql.query(
    `insert into referrers (workspace_id, program_id, customer_id, active_since, created_at, updated_at)
     values ($1, $2, $3, $4, $4, $4) on conflict do nothing`,
    [workspaceId, programId, customerId, at],
  );
}

const MAX_CODE_ATTEMPTS = 5;

export interface IssueCodeInput {
  program: string;
  /** A vanity code; omitted for a generated one. */
  code?: string | undefined;
}

/**
 * Returns the customer's code in the program, creating it if needed. Asking again answers with the
 * same code; asking with a vanity code makes that the customer's code (the old one keeps working).
 * An ineligible customer gets `referrer_not_eligible` naming the unmet condition.
 */
export async function issueCode(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: IssueCodeInput,
): Promise<{ code: CodeView; created: boolean }> {
  const customer = await requireCustomer(tx, workspaceId, customerRef, 'id');
  const program = await requireProgram(tx, workspaceId, input.program);
  const version = await requireVersionNow(deps, tx, program);
  const eligibility = referrerEligibility(
    version.document,
    await eligibilityFacts(tx, workspaceId, customer.id),
  );
  if (!eligibility.eligible) {
    throw new PerksError('referrer_not_eligible', eligibility.message, 'id', { unmet: eligibility.unmet });
  }
  const methods = version.document.attribution.methods;
  const now = deps.clock.now();
  // The row lock on the standing serialises two concurrent requests for the same customer's code.
  await ensureReferrer(tx, workspaceId, program.id, customer.id, now);
  await tx.query(
    'select 1 from referrers where workspace_id = $1 and program_id = $2 and customer_id = $3 for update',
    [workspaceId, program.id, customer.id],
  );
  const [current] = await tx.query<CodeRow>(
    'select * from referral_codes where workspace_id = $1 and program_id = $2 and customer_id = $3 and is_primary',
    [workspaceId, program.id, customer.id],
  );
  if (input.code === undefined) {
    if (current) return { code: codeView(current, program, customer, methods), created: false };
    for (let attempt = 0; attempt < MAX_CODE_ATTEMPTS; attempt++) {
      const code = codeFromEntropy(deps.ids.secret('c', 64).slice(2));
      const row = await insertCode(tx, workspaceId, code, program.id, customer.id, false, now);
      if (row) return { code: codeView(row, program, customer, methods), created: true };
    }
    throw new Error(`no free referral code after ${MAX_CODE_ATTEMPTS} attempts`);
  }
  const problem = vanityCodeProblem(input.code);
  if (problem) throw new PerksError('parameter_invalid', `'code' ${problem}`, 'code');
  const wanted = normaliseCode(input.code);
  if (current?.code === wanted)
    return { code: codeView(current, program, customer, methods), created: false };
  await tx.query(
    `update referral_codes set is_primary = false
     where workspace_id = $1 and program_id = $2 and customer_id = $3 and is_primary`,
    [workspaceId, program.id, customer.id],
  );
  const row = await insertCode(tx, workspaceId, wanted, program.id, customer.id, true, now);
  if (!row) {
    throw new PerksError('referral_code_taken', `the code '${wanted}' is taken; choose another`, 'code');
  }
  return { code: codeView(row, program, customer, methods), created: true };
}

/** Inserts a code, or returns undefined when it is taken anywhere (codes are globally unique). */
async function insertCode(
  tx: Sql,
  workspaceId: string,
  code: string,
  programId: string,
  customerId: string,
  vanity: boolean,
  at: Date,
): Promise<CodeRow | undefined> {
  const rows = await tx.query<CodeRow>(
    `insert into referral_codes (workspace_id, code, program_id, customer_id, vanity, is_primary, created_at)
     values ($1, $2, $3, $4, $5, true, $6) on conflict do nothing returning *`,
    [workspaceId, code, programId, customerId, vanity, at],
  );
  return rows[0];
}

/** A code as typed by someone, resolved within one workspace. */
export async function findCode(sql: Sql, workspaceId: string, typed: string): Promise<CodeRow | undefined> {
  const code = normaliseCode(typed);
  if (!isWellFormedCode(code)) return undefined;
  const rows = await sql.query<CodeRow>(
    'select * from referral_codes where workspace_id = $1 and code = $2',
    [workspaceId, code],
  );
  return rows[0];
}

/** A code and its program in one query (the attribution path). */
export async function findCodeWithProgram(sql: Sql, workspaceId: string, typed: string) {
  const code = normaliseCode(typed);
  if (!isWellFormedCode(code)) return undefined;
  const [row] = await sql.query<ProgramRow & { code: string; code_customer_id: string }>(
    `select p.*, c.code, c.customer_id as code_customer_id from referral_codes c
       join programs p on p.workspace_id = c.workspace_id and p.id = c.program_id
     where c.workspace_id = $1 and c.code = $2`,
    [workspaceId, code],
  );
  if (!row) return undefined;
  const { code: found, code_customer_id, ...program } = row;
  return { code: found, customer_id: code_customer_id, program: program as ProgramRow };
}

export function codeInvalid(typed: string, param: string): PerksError {
  const shown = typed.length > 40 ? `${typed.slice(0, 40)}...` : typed;
  return new PerksError(
    'referral_code_invalid',
    isWellFormedCode(normaliseCode(typed))
      ? `no referral code '${shown}' in this workspace`
      : `'${shown}' is not a referral code (4 to 32 letters and digits)`,
    param,
  );
}

// ---------------------------------------------------------------------------------------------------
// Links and clicks

/**
 * The workspace's link secret keys the hashes of IP addresses and user agents (so equal visitors
 * can be counted without storing who they are) and signs click ids (so a click id cannot be forged
 * to stretch the attribution window).
 */
export async function linkSecret(deps: Deps, sql: Sql, workspaceId: string): Promise<string> {
  await sql.query(
    `insert into referral_link_secrets (workspace_id, secret, created_at) values ($1, $2, $3)
     on conflict do nothing`,
    [workspaceId, deps.ids.secret('rls', 256), deps.clock.now()],
  );
  const [row] = await sql.query<{ secret: string }>(
    'select secret from referral_link_secrets where workspace_id = $1',
    [workspaceId],
  );
  return row!.secret;
}

export function keyedHash(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url').slice(0, 32);
}

const SIGNATURE_LENGTH = 22;

function signature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(`click:${body}`).digest('base64url').slice(0, SIGNATURE_LENGTH);
}

/** A click id: the click's row id, the code, the click time (ms, base 36) and a signature. */
export function makeClickId(secret: string, rowId: string, code: string, clickedAt: Date): string {
  const body = `${rowId}.${code}.${clickedAt.getTime().toString(36)}`;
  return `${body}.${signature(secret, body)}`;
}

export interface ParsedClick {
  row_id: string;
  code: string;
  clicked_at: Date;
}

/** The parts of a click id, without checking its signature (that needs the workspace's secret). */
export function parseClickId(
  clickId: string,
): (ParsedClick & { body: string; signature: string }) | undefined {
  const parts = clickId.split('.');
  if (parts.length !== 4) return undefined;
  const [rowId, code, time, sig] = parts as [string, string, string, string];
  if (!/^clk_[0-9a-z]{26}$/.test(rowId) || !isWellFormedCode(code) || !/^[0-9a-z]{1,12}$/.test(time))
    return undefined;
  const ms = Number.parseInt(time, 36);
  if (!Number.isSafeInteger(ms)) return undefined;
  return { row_id: rowId, code, clicked_at: new Date(ms), body: `${rowId}.${code}.${time}`, signature: sig };
}

export async function verifyClickId(
  deps: Deps,
  sql: Sql,
  workspaceId: string,
  clickId: string,
): Promise<ParsedClick | undefined> {
  const parsed = parseClickId(clickId);
  if (!parsed) return undefined;
  const expected = Buffer.from(signature(await linkSecret(deps, sql, workspaceId), parsed.body));
  const given = Buffer.from(parsed.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { row_id: parsed.row_id, code: parsed.code, clicked_at: parsed.clicked_at };
}

export interface LinkTarget {
  workspace_id: string;
  code: string;
  program_id: string;
  customer_id: string;
  secret: string;
  landing_url: string;
  window_days: number;
}

/**
 * What `GET /r/{code}` needs to answer, looked up across workspaces (the link carries no key). The
 * landing URL is the one of the version in force now.
 */
export async function resolveLink(deps: Deps, typed: string): Promise<LinkTarget | undefined> {
  const code = normaliseCode(typed);
  if (!isWellFormedCode(code)) return undefined;
  const [row] = await deps.db.query<CodeRow>('select * from referral_codes where code = $1', [code]);
  if (!row) return undefined;
  const version = await versionAt(deps.db, row.workspace_id, row.program_id, deps.clock.now());
  if (!version || linkPath(row.code, version.document.attribution.methods) === null) return undefined;
  return {
    workspace_id: row.workspace_id,
    code: row.code,
    program_id: row.program_id,
    customer_id: row.customer_id,
    secret: await linkSecret(deps, deps.db, row.workspace_id),
    landing_url: version.document.landing_url,
    window_days: version.document.attribution.link_window_days,
  };
}
