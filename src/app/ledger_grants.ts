import { isDeepStrictEqual } from 'node:util';
import { isPerksError, PerksError } from '../core/errors.js';
import { type ExpiryPolicy, resolveExpiry } from '../core/ledger/expiry.js';
import { type AssetRow, requireAsset } from './ledger_assets.js';
import { decideOnKnownState, NeedsTransaction, type Posted } from './ledger_known.js';
import {
  type Locked,
  lockLedger,
  type LotJson,
  type LotRow,
  lotRowFromJson,
  type LotState,
  Posting,
  type SourceType,
} from './ledger_posting.js';
import type { Deps, Sql } from './ports.js';

/** The expiry policy as the caller writes it. */
export type ExpiryInput =
  | { type: 'never' }
  | { type: 'at'; at: Date }
  | { type: 'after'; duration: string }
  | { type: 'end_of_billing_period'; subscription?: string | undefined };

export type GrantSource =
  { type: 'program' | 'referral' | 'event'; id: string } | { type: 'manual'; actor: string };

export interface GrantInput {
  asset: string;
  amount: number;
  currency?: string | undefined;
  expires?: ExpiryInput | undefined;
  reason: string;
  reference: string;
  source: GrantSource;
  metadata?: Record<string, string> | undefined;
}

export function checkCurrency(asset: AssetRow, currency: string | undefined, param = 'currency') {
  if (currency === undefined || currency === asset.currency) return;
  throw new PerksError(
    'currency_mismatch',
    asset.currency === null
      ? `asset '${asset.key}' is ${asset.kind}, not money: it has no currency`
      : `asset '${asset.key}' is in ${asset.currency}, not ${currency}`,
    param,
  );
}

/** The stored form of the caller's expiry policy, compared when a reference is used again. */
function policyRecord(expires: ExpiryInput) {
  return expires.type === 'at' ? { type: 'at', at: expires.at.toISOString() } : expires;
}

/** The end of the customer's current subscription period, for `end_of_billing_period`. */
async function currentPeriodEnd(
  tx: Sql,
  workspaceId: string,
  customerId: string,
  now: Date,
  subscription: string | undefined,
): Promise<number | null> {
  const rows = await tx.query<{
    id: string;
    external_id: string;
    customer_id: string;
    current_period_end: Date;
  }>(
    `select id, external_id, customer_id, current_period_end from subscriptions
     where workspace_id = $1 and ($3::text is null and customer_id = $2 or id = $3 or external_id = $3)
       and status in ('trialing', 'active', 'past_due')
       and current_period_start <= $4 and current_period_end > $4
     order by current_period_end, id`,
    [workspaceId, customerId, subscription ?? null, now],
  );
  if (subscription !== undefined) {
    const sub = rows[0];
    if (!sub) return null;
    if (sub.customer_id !== customerId) {
      throw new PerksError(
        'subscription_not_owned',
        `subscription '${subscription}' belongs to another customer`,
        'expires.subscription',
      );
    }
    return sub.current_period_end.getTime();
  }
  if (rows.length > 1) {
    throw new PerksError(
      'expiry_invalid',
      'the customer has several current subscriptions; name one in expires.subscription',
      'expires.subscription',
    );
  }
  return rows[0]?.current_period_end.getTime() ?? null;
}

export function grantView(lot: LotRow, asset: AssetRow, reversed: boolean) {
  return {
    id: lot.id,
    object: 'grant' as const,
    customer: lot.customer_id,
    asset: asset.key,
    amount: lot.amount,
    remaining: lot.remaining,
    debt_repaid: lot.debt_repaid,
    expires_at: lot.expires_at?.toISOString() ?? null,
    expiry: lot.expiry_policy as ReturnType<typeof policyRecord>,
    granted_at: lot.granted_at.toISOString(),
    source: { type: lot.source_type, id: lot.source_id, actor: lot.actor },
    reason: lot.reason,
    reference: lot.reference,
    metadata: lot.metadata ?? {},
    reversed,
  };
}
export type GrantView = ReturnType<typeof grantView>;

/** The facts that make two grant requests the same grant. */
function sameGrant(
  lot: LotRow,
  customerId: string,
  asset: AssetRow,
  input: GrantInput,
  expires: ExpiryInput,
) {
  const source = input.source;
  return (
    lot.customer_id === customerId &&
    lot.asset_id === asset.id &&
    lot.amount === input.amount &&
    lot.source_type === source.type &&
    lot.source_id === (source.type === 'manual' ? null : source.id) &&
    lot.actor === (source.type === 'manual' ? source.actor : null) &&
    isDeepStrictEqual(lot.expiry_policy, JSON.parse(JSON.stringify(policyRecord(expires))))
  );
}

type GrantResult = { grant: GrantView; created: boolean };
type PriorGrant = LotJson & { reversed: boolean };

/**
 * The grant decided on the state of the customer's account (`locked`, with what is recorded under
 * the reference): the first grant again, a refusal, or the new lot. `period_end_ms` is the end of
 * the billing period, for that expiry policy.
 */
function decideGrant(
  deps: Deps,
  workspaceId: string,
  asset: AssetRow,
  input: GrantInput,
  now: Date,
  locked: Locked<PriorGrant>,
  period_end_ms: number | null,
): Posted<GrantResult> {
  const acc = locked.accounts[0]!;
  const id = deps.ids.id('lot');
  const posting = new Posting(deps, workspaceId, now, id, input.reference, locked.webhooks);
  const expires: ExpiryInput = input.expires ?? { type: 'never' };
  const prior = locked.prior ? { ...lotRowFromJson(locked.prior), reversed: locked.prior.reversed } : null;
  if (prior) {
    if (!sameGrant(prior, locked.customer_id, asset, input, expires)) {
      const refusal = new PerksError(
        'grant_reference_reused',
        `reference '${input.reference}' already names another grant (${prior.id}); use a new reference for a new grant`,
        'reference',
        { grant: prior.id },
      );
      return { posting, refusal };
    }
    return { posting, answer: () => ({ grant: grantView(prior, asset, prior.reversed), created: false }) };
  }

  let lot: LotState;
  let expires_at_ms: number | null;
  try {
    const policy: ExpiryPolicy =
      expires.type === 'at'
        ? { type: 'at', at_ms: expires.at.getTime() }
        : expires.type === 'end_of_billing_period'
          ? { type: 'end_of_billing_period', period_end_ms }
          : expires;
    expires_at_ms = resolveExpiry(policy, now.getTime());
    const source = input.source;
    lot = posting.receive(
      acc,
      input.amount,
      {
        grant_id: id,
        restored_from_lot_id: null,
        expires_at_ms,
        granted_at_ms: now.getTime(),
        source_type: source.type as SourceType,
        source_id: source.type === 'manual' ? null : source.id,
        actor: source.type === 'manual' ? source.actor : null,
        reason: input.reason,
        reference: input.reference,
        expiry_policy: policyRecord(expires),
        metadata: input.metadata ?? null,
      },
      'program_expense',
      'grant',
      { id },
    );
  } catch (err) {
    // Whether the expiry is refused or the balance limit reached depends on the state too: had the
    // reference been taken meanwhile, the answer would be the first grant.
    if (isPerksError(err)) return { posting, refusal: err };
    throw err;
  }
  const row: LotRow = {
    workspace_id: workspaceId,
    id: lot.id,
    account_id: lot.account_id,
    asset_id: lot.asset_id,
    customer_id: lot.customer_id,
    grant_id: lot.grant_id,
    restored_from_lot_id: null,
    amount: lot.amount,
    remaining: lot.remaining,
    debt_repaid: lot.debt_repaid,
    expired_amount: 0,
    reversed_amount: 0,
    expires_at: expires_at_ms === null ? null : new Date(expires_at_ms),
    granted_at: now,
    source_type: lot.source_type,
    source_id: lot.source_id,
    actor: lot.actor,
    reason: lot.reason,
    reference: lot.reference,
    expiry_policy: JSON.parse(JSON.stringify(lot.expiry_policy)),
    metadata: lot.metadata,
    created_at: now,
  };
  return { posting, answer: () => ({ grant: grantView(row, asset, false), created: true }) };
}

/**
 * Grants an amount of an asset to a customer as a new lot. Idempotent by reference: the same
 * reference with the same grant answers with the first grant; with a different grant it is refused.
 * A customer in debt (a reversed grant under allow_negative) repays it first from the new lot.
 */
export async function grant(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerRef: string,
  input: GrantInput,
): Promise<GrantResult> {
  const asset = await requireAsset(tx, workspaceId, input.asset);
  checkCurrency(asset, input.currency);
  const expires: ExpiryInput = input.expires ?? { type: 'never' };
  // The account lock plus a lock on the reference make a concurrent repeat of the same reference
  // wait for the first and then find it, instead of failing on the unique index.
  const locked = await lockLedger<PriorGrant>(deps, tx, workspaceId, customerRef, [asset], {
    create: true,
    lots: false,
    reference: input.reference,
  });
  const now = deps.clock.now();
  const period_end_ms =
    !locked.prior && expires.type === 'end_of_billing_period'
      ? await currentPeriodEnd(tx, workspaceId, locked.customer_id, now, expires.subscription)
      : null;
  const decision = decideGrant(deps, workspaceId, asset, input, now, locked, period_end_ms);
  if (!('answer' in decision)) throw decision.refusal;
  await decision.posting.flush(tx);
  return decision.answer();
}

/**
 * A grant with no transaction of the caller's (an API request without an Idempotency-Key): usually
 * one call to the database, decided on the account's known state (see ledger_known.ts). The first
 * grant of an asset to a customer (which creates the account), a grant expiring at the end of the
 * billing period (which reads the subscription), or an account that keeps changing under it runs
 * in a transaction instead.
 */
export async function grantStandalone(
  deps: Deps,
  workspaceId: string,
  customerRef: string,
  input: GrantInput,
): Promise<GrantResult> {
  const asset = await requireAsset(deps.db, workspaceId, input.asset);
  checkCurrency(asset, input.currency);
  if (input.expires?.type !== 'end_of_billing_period') {
    const now = deps.clock.now();
    try {
      return await decideOnKnownState<GrantResult>(
        deps,
        deps.db,
        workspaceId,
        { customerRef, assets: [asset], reference: input.reference },
        (state) => {
          if (state.accounts.length === 0) throw new NeedsTransaction('the account does not exist yet');
          return decideGrant(deps, workspaceId, asset, input, now, state, null);
        },
        { attempts: 2, standalone: true },
      );
    } catch (err) {
      if (!(err instanceof NeedsTransaction)) throw err;
    }
  }
  return deps.db.transaction((tx) => grant(deps, tx, workspaceId, customerRef, input));
}
