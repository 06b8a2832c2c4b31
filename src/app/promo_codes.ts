import { PerksError } from '../core/errors.js';
import { normalizeCode } from '../core/promo/normalize.js';
import { checkCodeLimits } from '../core/promo/rules.js';
import type { BoundaryInput } from '../core/promo/time.js';
import { requireCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';
import { boundary, requirePromotion, termsOf } from './promo_promotions.js';

/** Codes: the customer-facing strings that give access to a promotion. */

export interface CodeRow {
  workspace_id: string;
  id: string;
  promotion_id: string;
  code: string;
  batch_id: string | null;
  customer_id: string | null;
  max_redemptions: number | null;
  expires_at: Date | null;
  times_redeemed: number;
  metadata: Record<string, string>;
  created_at: Date;
}

export interface CodeInput {
  promotion: string;
  code: string;
  max_redemptions?: number | undefined;
  expires_at?: BoundaryInput | undefined;
  /** Binds the code to one customer (Perks id or external id). */
  customer?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/** Normalises a code given by an operator; a code that cannot be a code is a typed 400 naming it. */
export function requireCodeText(text: string, param = 'code'): string {
  const normal = normalizeCode(text);
  if (!normal.ok) throw new PerksError('parameter_invalid', `'${param}': ${normal.reason}`, param);
  return normal.code;
}

export async function createCode(deps: Deps, tx: Sql, workspaceId: string, input: CodeInput) {
  const code = requireCodeText(input.code);
  const promotion = await requirePromotion(tx, workspaceId, input.promotion);
  const expiresAt = boundary(input.expires_at, 'end', promotion.time_zone, 'expires_at');
  const issue = checkCodeLimits(termsOf(promotion), {
    max_redemptions: input.max_redemptions ?? null,
    expires_at: expiresAt,
  });
  if (issue) throw new PerksError(issue.code, `'${issue.param}': ${issue.message}`, issue.param);
  const customer = input.customer ? await requireCustomer(tx, workspaceId, input.customer) : undefined;
  const rows = await tx.query<CodeRow>(
    `insert into promotion_codes (workspace_id, id, promotion_id, code, customer_id, max_redemptions, expires_at,
       metadata, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (workspace_id, code) do nothing returning *`,
    [
      workspaceId,
      deps.ids.id('pcode'),
      promotion.id,
      code,
      customer?.id ?? null,
      input.max_redemptions ?? null,
      expiresAt,
      input.metadata ?? {},
      deps.clock.now(),
    ],
  );
  if (rows.length === 0) {
    throw new PerksError(
      'code_already_exists',
      `the code '${code}' already exists in this workspace (codes are compared without case, spaces or dashes)`,
      'code',
    );
  }
  return codeView(rows[0]!);
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function codeView(row: CodeRow) {
  return {
    id: row.id,
    object: 'promotion_code' as const,
    code: row.code,
    promotion_id: row.promotion_id,
    batch_id: row.batch_id,
    customer_id: row.customer_id,
    max_redemptions: row.max_redemptions,
    expires_at: iso(row.expires_at),
    times_redeemed: row.times_redeemed,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
  };
}

export type CodeView = ReturnType<typeof codeView>;

export async function requireCode(sql: Sql, workspaceId: string, id: string) {
  const rows = await sql.query<CodeRow>('select * from promotion_codes where workspace_id = $1 and id = $2', [
    workspaceId,
    id,
  ]);
  if (!rows[0]) throw new PerksError('resource_not_found', `no promotion code '${id}'`, 'id');
  return rows[0];
}

export interface CodeFilter {
  limit: number;
  starting_after?: string | undefined;
  promotion?: string | undefined;
  batch?: string | undefined;
  customer?: string | undefined;
  /** Finds a code by its text, normalised the same way as on redemption. */
  code?: string | undefined;
}

export async function listCodes(sql: Sql, workspaceId: string, filter: CodeFilter) {
  let customerId: string | null = null;
  if (filter.customer !== undefined) {
    customerId = (await requireCustomer(sql, workspaceId, filter.customer)).id;
  }
  let code: string | null = null;
  if (filter.code !== undefined) {
    const normal = normalizeCode(filter.code);
    // A text that cannot be a code matches nothing, like an unknown one.
    if (!normal.ok) return { object: 'list' as const, data: [], has_more: false };
    code = normal.code;
  }
  const rows = await sql.query<CodeRow>(
    `select * from promotion_codes where workspace_id = $1 and ($2::text is null or id < $2)
       and ($3::text is null or promotion_id = $3) and ($4::text is null or batch_id = $4)
       and ($5::text is null or customer_id = $5) and ($6::text is null or code = $6)
     order by id desc limit $7`,
    [
      workspaceId,
      filter.starting_after ?? null,
      filter.promotion ?? null,
      filter.batch ?? null,
      customerId,
      code,
      filter.limit + 1,
    ],
  );
  return {
    object: 'list' as const,
    data: rows.slice(0, filter.limit).map(codeView),
    has_more: rows.length > filter.limit,
  };
}
