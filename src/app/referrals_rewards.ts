import { type Claim, decideLaterCard, rejectionForClaim } from '../core/programs/attribution.js';
import {
  type BillingInterval,
  decideRewards,
  type RewardDecision,
  reversalDue,
} from '../core/programs/rewards.js';
import type { Program, Trigger } from '../core/programs/schema.js';
import { type ExpiryInput, grant } from './ledger_grants.js';
import { reverseGrant } from './ledger_reversals.js';
import type { Deps, Sql } from './ports.js';
import { assetFacts, loadVersion } from './programs.js';
import { contractSignedAt, type ReferrerFacts, referrerStanding } from './referrals_referrers.js';
import { advance, type ReferralRow, rejectReferral, type TransitionMeta } from './referrals_rows.js';
import { emitReferral, emitReward } from './referrals_webhooks.js';

/**
 * Turning triggers into rewards: the core decides, this file writes each decision under its
 * business key (program, referral, reward index, trigger, source, recipient) and, for a grant, posts
 * it to the ledger in the same transaction. A replayed trigger finds the key taken and does nothing.
 */

export interface RewardRow {
  workspace_id: string;
  id: string;
  program_id: string;
  referral_id: string;
  reward_index: number;
  trigger: Trigger;
  source_key: string;
  recipient: 'referrer' | 'referee';
  recipient_customer_id: string;
  asset: string;
  status: 'granted' | 'skipped' | 'reversed';
  reason: string | null;
  message: string | null;
  amount: number;
  reversed_amount: number;
  grant_id: string | null;
  grant_revision: number;
  expires_at: Date | null;
  payment_external_id: string | null;
  event_id: string | null;
  occurred_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface TriggerContext {
  at: Date;
  source_key: string;
  event_id?: string | null | undefined;
  actor?: string | null | undefined;
  payment?:
    | {
        external_id: string;
        amount: number;
        currency: string;
        interval: BillingInterval | null;
        period_start: Date | null;
      }
    | undefined;
  subscription?:
    { external_id: string; plan_units: number | null; interval: BillingInterval | null } | undefined;
  /** The referrer's standing row and contract, when the caller read them with the referral. */
  referrer?: { row: ReferrerFacts | undefined; contract_signed_at: Date | null } | undefined;
  /** Set by the attribution that just ran: the cards it checked and claimed, so they are not read again. */
  cards?:
    { referee: readonly string[]; referrer: readonly string[]; claimed: ReadonlySet<string> } | undefined;
}

interface Period {
  external_id: string;
  current_period_end: Date;
}

/**
 * The customer's current billing period as the ledger resolves end_of_billing_period: a live
 * subscription whose period holds `now`. A named subscription is preferred when it qualifies.
 */
async function currentPeriod(
  sql: Sql,
  workspaceId: string,
  customerId: string,
  now: Date,
  preferred: string | undefined,
): Promise<Period | undefined> {
  const rows = await sql.query<Period>(
    `select external_id, current_period_end from subscriptions
     where workspace_id = $1 and customer_id = $2 and status in ('trialing', 'active', 'past_due')
       and current_period_start <= $3 and current_period_end > $3
     order by (external_id = $4) desc, current_period_end, id limit 1`,
    [workspaceId, customerId, now, preferred ?? null],
  );
  return rows[0];
}

async function customerFingerprints(sql: Sql, workspaceId: string, customerId: string): Promise<string[]> {
  const rows = await sql.query<{ fingerprint: string }>(
    'select fingerprint from payment_methods where workspace_id = $1 and customer_id = $2 order by attached_at, id',
    [workspaceId, customerId],
  );
  return rows.map((r) => r.fingerprint);
}

/**
 * Makes a claim the core asked for; false when the store refuses it (the key is held by another
 * referral or the cap is reached). A claim already held by this referral succeeds again.
 */
export async function makeClaim(tx: Sql, referral: ReferralRow, claim: Claim, now: Date): Promise<boolean> {
  switch (claim.kind) {
    case 'card': {
      // One statement: the insert, or (when another referral holds the card) the holder. The select
      // runs on the statement's snapshot, so it sees the row only when the insert did not add it.
      const [holder] = await tx.query<{ referral_id: string }>(
        `with claimed as (
           insert into referral_card_claims (workspace_id, program_id, fingerprint, referral_id, created_at)
           values ($1, $2, $3, $4, $5) on conflict do nothing returning referral_id
         )
         select referral_id from claimed
         union all
         select referral_id from referral_card_claims where workspace_id = $1 and program_id = $2 and fingerprint = $3`,
        [referral.workspace_id, referral.program_id, claim.fingerprint, referral.id, now],
      );
      return holder?.referral_id === referral.id;
    }
    case 'cap': {
      const rows = await tx.query(
        `insert into referral_cap_counts (workspace_id, program_id, customer_id, period_start, count)
         values ($1, $2, $3, $4, 1)
         on conflict (workspace_id, program_id, customer_id, period_start)
           do update set count = referral_cap_counts.count + 1 where referral_cap_counts.count < $5
         returning count`,
        [
          referral.workspace_id,
          referral.program_id,
          referral.referrer_customer_id,
          claim.period_start,
          claim.count,
        ],
      );
      return rows.length > 0;
    }
    case 'referee_once':
      // Held by the referral row itself through its unique index.
      return true;
  }
}

/**
 * Before a referral qualifies, the referee's cards are checked again: a card attached after the
 * attribution may be the referrer's own, or one that already backed another referral.
 */
async function checkCardsAtQualification(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  program: Program,
  ctx: TriggerContext,
  meta: TransitionMeta,
): Promise<ReferralRow> {
  const ws = referral.workspace_id;
  const refereeCards =
    ctx.cards?.referee ?? (await customerFingerprints(tx, ws, referral.referee_customer_id));
  const unchecked = refereeCards.filter((f) => !ctx.cards?.claimed.has(f));
  if (unchecked.length === 0) return referral;
  const referrerCards =
    ctx.cards?.referrer ?? (await customerFingerprints(tx, ws, referral.referrer_customer_id));
  for (const fingerprint of unchecked) {
    const decision = decideLaterCard(program, referrerCards, fingerprint);
    if (!decision.ok) return rejectReferral(deps, tx, referral, decision.rejection, meta);
    for (const claim of decision.claims) {
      if (!(await makeClaim(tx, referral, claim, deps.clock.now()))) {
        return rejectReferral(deps, tx, referral, rejectionForClaim(claim), meta);
      }
    }
  }
  return referral;
}

/**
 * A trigger happened for a referral: qualify it (once), decide the rewards, and write each decision.
 * Returns the referral as it stands afterwards.
 */
export async function fireTrigger(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  trigger: Trigger,
  ctx: TriggerContext,
): Promise<ReferralRow> {
  if (referral.status === 'rejected') return referral;
  const ws = referral.workspace_id;
  const version = await loadVersion(tx, ws, referral.program_id, referral.program_version);
  const program = version.document;
  if (!program.rewards.some((r) => r.trigger === trigger)) return referral;
  const meta: TransitionMeta = { event_id: ctx.event_id, actor: ctx.actor };
  let current = referral;
  if (current.status === 'pending') {
    current = await checkCardsAtQualification(deps, tx, current, program, ctx, meta);
    if (current.status === 'rejected') return current;
  }
  // The qualification is announced before the rewards it brings; the row moves after them, below.
  const qualifying = current.status === 'pending';
  if (qualifying) {
    const at = deps.clock.now();
    await emitReferral(
      deps,
      tx,
      { ...current, status: 'qualified', qualified_at: at, updated_at: at },
      'referral.qualified',
    );
  }

  const now = deps.clock.now();
  const { status: standing, row: referrerRow } = await referrerStanding(
    deps,
    tx,
    ws,
    current.program_id,
    program,
    current.referrer_customer_id,
    ctx.at,
    ctx.referrer,
  );
  const needsPeriod = program.rewards.some(
    (r) => r.trigger === trigger && r.expiry.type === 'end_of_billing_period',
  );
  // One transaction runs its statements one after another, so these are awaited in turn.
  const gated = program.rewards.some((r) => r.trigger === trigger && r.gates.length > 0);
  const contract = !gated
    ? null
    : ctx.referrer
      ? ctx.referrer.contract_signed_at
      : await contractSignedAt(tx, ws, current.referrer_customer_id);
  const assets = await assetFacts(
    tx,
    ws,
    program.rewards.map((r) => r.asset),
  );
  const referrerPeriod = needsPeriod
    ? await currentPeriod(tx, ws, current.referrer_customer_id, now, undefined)
    : undefined;
  const refereePeriod = needsPeriod
    ? await currentPeriod(tx, ws, current.referee_customer_id, now, ctx.subscription?.external_id)
    : undefined;
  const decisions = decideRewards(program, {
    trigger,
    at: ctx.at,
    source_key: ctx.source_key,
    referral: {
      attributed_at: current.attributed_at,
      referrer_id: current.referrer_customer_id,
      referee_id: current.referee_customer_id,
    },
    referrer: {
      suspended: standing.status === 'suspended',
      contract_signed_at: contract,
      option: referrerRow?.option ?? null,
      current_period_end: referrerPeriod?.current_period_end ?? null,
    },
    referee: { current_period_end: refereePeriod?.current_period_end ?? null },
    payment: ctx.payment,
    subscription: ctx.subscription,
    assets,
  });
  let granted = false;
  for (const decision of decisions) {
    const period = decision.recipient === 'referrer' ? referrerPeriod : refereePeriod;
    if (await writeDecision(deps, tx, current, decision, ctx, period)) granted = true;
  }
  // Qualified by the trigger itself; rewarded when it granted something (one statement for both).
  return advance(deps, tx, current, granted ? 'rewarded' : 'qualified', meta, !qualifying);
}

function expiryInput(
  decision: RewardDecision & { outcome: 'grant' },
  period: Period | undefined,
): ExpiryInput {
  switch (decision.expiry.type) {
    case 'never':
      return { type: 'never' };
    case 'after':
      return { type: 'after', duration: decision.expiry.duration };
    case 'end_of_billing_period':
      return { type: 'end_of_billing_period', subscription: period?.external_id };
  }
}

/** Writes one decision; true when it granted something now. */
async function writeDecision(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  decision: RewardDecision,
  ctx: TriggerContext,
  period: Period | undefined,
): Promise<boolean> {
  const now = deps.clock.now();
  const grantNow = decision.outcome === 'grant';
  const [row] = await tx.query<RewardRow>(
    `insert into referral_rewards (workspace_id, id, program_id, referral_id, reward_index, trigger, source_key,
       recipient, recipient_customer_id, asset, status, reason, message, amount, payment_external_id, event_id,
       occurred_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
     on conflict (workspace_id, program_id, referral_id, reward_index, trigger, source_key, recipient_customer_id)
       do nothing
     returning *`,
    [
      referral.workspace_id,
      deps.ids.id('rwd'),
      referral.program_id,
      referral.id,
      decision.reward_index,
      decision.trigger,
      decision.source_key,
      decision.recipient,
      decision.recipient_customer_id,
      decision.asset,
      grantNow ? 'granted' : 'skipped',
      decision.outcome === 'skip' ? decision.reason : null,
      decision.outcome === 'skip' ? decision.message : null,
      decision.outcome === 'grant' ? decision.amount : 0,
      ctx.payment?.external_id ?? null,
      ctx.event_id ?? null,
      ctx.at,
      now,
    ],
  );
  if (!row || decision.outcome !== 'grant') return false;
  await postGrant(deps, tx, referral, row, decision.amount, expiryInput(decision, period), 0);
  return true;
}

/** Posts (part of) a reward to the ledger as grant number `revision` of that reward. */
async function postGrant(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  row: RewardRow,
  amount: number,
  expires: ExpiryInput,
  revision: number,
) {
  const result = await grant(deps, tx, row.workspace_id, row.recipient_customer_id, {
    asset: row.asset,
    amount,
    expires,
    reason: `referral ${referral.id}: ${row.trigger} (${row.recipient})`,
    reference: `${row.id}.${revision}`,
    source: { type: 'referral', id: referral.id },
    metadata: { reward: row.id, reward_index: String(row.reward_index), trigger: row.trigger },
  });
  const now = deps.clock.now();
  // The first grant of a reward also counts it in the recipient's totals, in the same statement.
  await tx.query(
    `with linked as (
       update referral_rewards set grant_id = $3, grant_revision = $4, expires_at = $5, updated_at = $6
       where workspace_id = $1 and id = $2 returning 1
     )
     insert into referral_reward_totals (workspace_id, program_id, customer_id, asset, granted, reversed)
     select $1, $7, $8, $9, $10, 0 where $4 = 0 and exists (select 1 from linked)
     on conflict (workspace_id, program_id, customer_id, asset)
       do update set granted = referral_reward_totals.granted + excluded.granted`,
    [
      row.workspace_id,
      row.id,
      result.grant.id,
      revision,
      result.grant.expires_at,
      now,
      row.program_id,
      row.recipient_customer_id,
      row.asset,
      amount,
    ],
  );
  await emitReward(deps, tx, row.workspace_id, 'reward.granted', {
    ...result.grant,
    reward: row.id,
    referral: referral.id,
    recipient: row.recipient,
    trigger: row.trigger,
  });
}

async function addToTotals(tx: Sql, row: RewardRow, granted: number, reversed: number) {
  await tx.query(
    `insert into referral_reward_totals (workspace_id, program_id, customer_id, asset, granted, reversed)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (workspace_id, program_id, customer_id, asset)
       do update set granted = referral_reward_totals.granted + $5, reversed = referral_reward_totals.reversed + $6`,
    [row.workspace_id, row.program_id, row.recipient_customer_id, row.asset, granted, reversed],
  );
}

/**
 * Takes back `amount` of a granted reward. The ledger reverses a grant as a whole, so a partial take
 * reverses the current grant and grants the kept part again (unless it has already expired).
 */
export async function reverseReward(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  row: RewardRow,
  amount: number,
  reason: string,
): Promise<void> {
  if (amount <= 0 || row.status !== 'granted' || row.grant_id === null) return;
  const take = Math.min(amount, row.amount - row.reversed_amount);
  const ledgerReversal = await reverseGrant(deps, tx, row.workspace_id, row.recipient_customer_id, {
    grant: row.grant_id,
    reason,
    reference: `${row.id}.${row.grant_revision}.reversal`,
  });
  await emitReward(deps, tx, row.workspace_id, 'reward.reversed', {
    ...ledgerReversal.reversal,
    reward: row.id,
    referral: referral.id,
    recipient: row.recipient,
    amount_taken_back: take,
  });
  const reversed = row.reversed_amount + take;
  const kept = row.amount - reversed;
  const now = deps.clock.now();
  await tx.query(
    `update referral_rewards set reversed_amount = $3, status = $4, updated_at = $5 where workspace_id = $1 and id = $2`,
    [row.workspace_id, row.id, reversed, kept > 0 ? 'granted' : 'reversed', now],
  );
  await addToTotals(tx, row, 0, take);
  if (kept > 0) {
    const stillValid = row.expires_at === null || row.expires_at.getTime() > now.getTime();
    if (stillValid) {
      const expires: ExpiryInput =
        row.expires_at === null ? { type: 'never' } : { type: 'at', at: row.expires_at };
      await postGrant(deps, tx, referral, row, kept, expires, row.grant_revision + 1);
    }
  }
}

/** Gives a reward that a repair took away back to its recipient (e.g. a referral reassigned back). */
export async function restoreReward(
  deps: Deps,
  tx: Sql,
  referral: ReferralRow,
  row: RewardRow,
): Promise<boolean> {
  if (row.status !== 'reversed' || row.amount <= 0) return false;
  const [claimed] = await tx.query<RewardRow>(
    `update referral_rewards set status = 'granted', reversed_amount = 0, updated_at = $3
     where workspace_id = $1 and id = $2 and status = 'reversed' returning *`,
    [row.workspace_id, row.id, deps.clock.now()],
  );
  if (!claimed) return false;
  const now = deps.clock.now();
  if (row.expires_at !== null && row.expires_at.getTime() <= now.getTime()) return false;
  const expires: ExpiryInput =
    row.expires_at === null ? { type: 'never' } : { type: 'at', at: row.expires_at };
  await postGrant(deps, tx, referral, claimed, row.amount, expires, row.grant_revision + 1);
  await addToTotals(tx, row, 0, -row.amount);
  return true;
}

/**
 * A payment was refunded or disputed: each reward it earned gives back the refunded share (all of
 * it for a dispute), through the ledger's reversal.
 */
export async function reversePaymentRewards(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  paymentExternalId: string,
): Promise<void> {
  const [payment] = await tx.query<{
    status: 'succeeded' | 'refunded' | 'disputed';
    amount: number | null;
    amount_refunded: number;
  }>('select status, amount, amount_refunded from payments where workspace_id = $1 and external_id = $2', [
    workspaceId,
    paymentExternalId,
  ]);
  if (!payment || payment.status === 'succeeded') return;
  const rows = await tx.query<RewardRow>(
    `select * from referral_rewards where workspace_id = $1 and payment_external_id = $2 and status = 'granted'
     order by id for update`,
    [workspaceId, paymentExternalId],
  );
  for (const row of rows) {
    const [referral] = await tx.query<ReferralRow>(
      'select * from referrals where workspace_id = $1 and id = $2',
      [workspaceId, row.referral_id],
    );
    const version = await loadVersion(tx, workspaceId, row.program_id, referral!.program_version);
    const rule = version.document.rewards[row.reward_index];
    const due = reversalDue(row.amount, row.reversed_amount, payment, rule?.rounding ?? 'half_even');
    await reverseReward(deps, tx, referral!, row, due, `payment ${paymentExternalId} was ${payment.status}`);
  }
}

/**
 * The referrer's contract was just recorded as signed at `signedAt`, which may be in the past: each
 * reward skipped with contract_not_signed for a payment at or after that moment is decided again, with
 * the contract, and granted when due. Payments before `signedAt` stay skipped. Each row is claimed by a
 * conditional update, so a second recording (or a concurrent one) grants nothing more. Returns how
 * many rewards it granted.
 */
export async function grantRewardsSinceContract(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerId: string,
  signedAt: Date,
  meta: TransitionMeta,
): Promise<number> {
  const rows = await tx.query<RewardRow>(
    `select * from referral_rewards
     where workspace_id = $1 and recipient_customer_id = $2 and recipient = 'referrer' and status = 'skipped'
       and reason = 'contract_not_signed' and occurred_at >= $3
     order by occurred_at, id for update`,
    [workspaceId, customerId, signedAt],
  );
  let count = 0;
  for (const row of rows) {
    const [referral] = await tx.query<ReferralRow>(
      'select * from referrals where workspace_id = $1 and id = $2 for update',
      [workspaceId, row.referral_id],
    );
    // A referral rejected or reassigned since then no longer pays this referrer.
    if (!referral || referral.status === 'rejected' || referral.referrer_customer_id !== customerId) continue;
    const program = (await loadVersion(tx, workspaceId, row.program_id, referral.program_version)).document;
    const rule = program.rewards[row.reward_index];
    if (!rule) continue;
    const [paid] = row.payment_external_id
      ? await tx.query<{
          amount: number | null;
          currency: string | null;
          interval: BillingInterval | null;
          period_start: Date | null;
          plan_units: number | null;
          sub_interval: BillingInterval | null;
        }>(
          `select p.amount, p.currency, p.interval, p.period_start, s.plan_units, s.interval as sub_interval
           from payments p
           left join subscriptions s on s.workspace_id = p.workspace_id and s.external_id = p.subscription_external_id
           where p.workspace_id = $1 and p.external_id = $2`,
          [workspaceId, row.payment_external_id],
        )
      : [];
    const now = deps.clock.now();
    const period =
      rule.expiry.type === 'end_of_billing_period'
        ? await currentPeriod(tx, workspaceId, customerId, now, undefined)
        : undefined;
    const decision = decideRewards(program, {
      trigger: row.trigger,
      at: row.occurred_at,
      source_key: row.source_key,
      referral: {
        attributed_at: referral.attributed_at,
        referrer_id: referral.referrer_customer_id,
        referee_id: referral.referee_customer_id,
      },
      // The suspension check comes before the contract gate, so the referrer was active then; the
      // option is the one this reward belongs to, as it was when the payment was decided.
      referrer: {
        suspended: false,
        contract_signed_at: signedAt,
        option: rule.option ?? null,
        current_period_end: period?.current_period_end ?? null,
      },
      referee: { current_period_end: null },
      payment:
        paid && paid.amount !== null && paid.currency !== null
          ? {
              amount: paid.amount,
              currency: paid.currency,
              interval: paid.interval ?? paid.sub_interval,
              period_start: paid.period_start,
            }
          : undefined,
      subscription: paid ? { plan_units: paid.plan_units, interval: paid.sub_interval } : undefined,
      assets: await assetFacts(tx, workspaceId, [rule.asset]),
    }).find((d) => d.reward_index === row.reward_index && d.recipient_customer_id === customerId);
    if (!decision) continue;
    if (decision.outcome === 'skip') {
      // Still skipped, now for the reason that holds with the contract (e.g. outside_payment_months).
      await tx.query(
        `update referral_rewards set reason = $3, message = $4, updated_at = $5
         where workspace_id = $1 and id = $2 and status = 'skipped' and reason = 'contract_not_signed'`,
        [workspaceId, row.id, decision.reason, decision.message, now],
      );
      continue;
    }
    const [claimed] = await tx.query<RewardRow>(
      `update referral_rewards set status = 'granted', reason = null, message = null, amount = $3, updated_at = $4
       where workspace_id = $1 and id = $2 and status = 'skipped' and reason = 'contract_not_signed' returning *`,
      [workspaceId, row.id, decision.amount, now],
    );
    if (!claimed) continue;
    await postGrant(deps, tx, referral, claimed, decision.amount, expiryInput(decision, period), 0);
    await advance(deps, tx, referral, 'rewarded', meta);
    // A payment refunded or disputed in the meantime gives back its share at once.
    if (row.payment_external_id) await reversePaymentRewards(deps, tx, workspaceId, row.payment_external_id);
    count++;
  }
  return count;
}
