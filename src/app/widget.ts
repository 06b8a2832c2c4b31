import { PerksError } from '../core/errors.js';
import type { AssetDefinition } from '../core/ledger/assets.js';
import { referrerEligibility } from '../core/programs/attribution.js';
import type { Program } from '../core/programs/schema.js';
import { amountWords, eligibilityHint, rewardWords, withdrawal } from '../core/programs/wording.js';
import { requestPayout } from './ledger_payouts.js';
import { type BalanceView, customerBalances } from './ledger_reads.js';
import type { Deps, Sql } from './ports.js';
import { requireProgram, requireVersionNow } from './programs.js';
import { referralSummary } from './referrals_read.js';
import { eligibilityFacts, issueCode, linkPath } from './referrals_codes.js';

/**
 * What the end-customer referral widget reads and does, for the one customer its token names. It
 * composes the operator-facing use cases (eligibility, code issue, referral summary, balances,
 * payouts) and adds only the wording an end customer reads.
 */

interface AssetRow extends AssetDefinition {
  id: string;
}

/** The ledger assets a program pays in, by key (an asset named by a program may not exist yet). */
async function programAssets(sql: Sql, workspaceId: string, doc: Program): Promise<Map<string, AssetRow>> {
  const keys = [...new Set(doc.rewards.map((r) => r.asset))];
  if (keys.length === 0) return new Map();
  const rows = await sql.query<AssetRow>(
    'select * from ledger_assets where workspace_id = $1 and key = any($2::text[]) order by key',
    [workspaceId, keys],
  );
  return new Map(rows.map((r) => [r.key, r]));
}

function expiringView(asset: AssetRow, balance: BalanceView | undefined) {
  return (balance?.expiring ?? []).map((e) => ({
    amount: e.amount,
    text: amountWords(asset, e.amount),
    expires_at: e.expires_at,
  }));
}

/**
 * The customer's referral panel in one program. An eligible customer without a code gets one now
 * (the same code on every later read); an ineligible one gets the condition it has not met, in
 * plain words, and no code or link, since referrals through it would be rejected.
 */
export async function widgetReferral(
  deps: Deps,
  workspaceId: string,
  customerId: string,
  programRef: string,
) {
  const program = await requireProgram(deps.db, workspaceId, programRef, 'program');
  const doc = (await requireVersionNow(deps, deps.db, program)).document;
  const eligibility = referrerEligibility(doc, await eligibilityFacts(deps.db, workspaceId, customerId));
  // The widget shows no click count, so it does not wait for the clicks still being written.
  const summary = () => referralSummary(deps, workspaceId, customerId, program.id, { withClicks: false });
  const summarised = await summary();
  let figures = summarised.programs[0];
  let code = eligibility.eligible ? (figures?.code ?? null) : null;
  if (eligibility.eligible && code === null) {
    const issued = await deps.db.transaction((tx) =>
      issueCode(deps, tx, workspaceId, customerId, { program: program.id }),
    );
    code = issued.code.code;
    // The code makes the customer a referrer, which the summary reads its figures from.
    figures ??= (await summary()).programs[0];
  }
  const assets = await programAssets(deps.db, workspaceId, doc);
  const balances = new Map(
    (await customerBalances(deps, workspaceId, customerId)).data.map((b) => [b.asset, b]),
  );
  const optionKey = figures?.option ?? doc.options[0]?.key ?? null;
  const option = doc.options.find((o) => o.key === optionKey);

  const rewards = (figures?.rewards_earned ?? []).flatMap((r) => {
    const asset = assets.get(r.asset);
    if (!asset || r.net <= 0) return [];
    return [
      {
        asset: r.asset,
        kind: asset.kind,
        purpose: asset.purpose,
        amount: r.net,
        text: rewardWords(asset, r.net),
        expiring: expiringView(asset, balances.get(r.asset)),
      },
    ];
  });
  const pending = (figures?.pending_rewards ?? []).flatMap((p) => {
    const asset = assets.get(p.asset);
    if (!asset || p.amount <= 0) return [];
    return [{ asset: p.asset, amount: p.amount, text: rewardWords(asset, p.amount), referrals: p.referrals }];
  });

  // A commission asset is shown when the customer's chosen option pays in it, or when money is
  // already there (earned under another option, or held for a payout).
  const commission = [...assets.values()].flatMap((asset) => {
    if (asset.purpose !== 'commission') return [];
    const balance = balances.get(asset.key);
    const available = balance?.available ?? 0;
    const held = balance?.held ?? 0;
    const paysNow = doc.rewards.some(
      (r) => r.asset === asset.key && (r.option === undefined || r.option === optionKey),
    );
    if (!paysNow && available <= 0 && held <= 0) return [];
    const minimum = asset.payout_minimum ?? 0;
    const decision = withdrawal(asset, available, minimum);
    return [
      {
        asset: asset.key,
        currency: asset.currency,
        available,
        available_text: amountWords(asset, available),
        held,
        held_text: amountWords(asset, held),
        minimum,
        minimum_text: amountWords(asset, minimum),
        can_withdraw: decision.allowed,
        message: decision.message,
      },
    ];
  });

  return {
    object: 'widget_referral' as const,
    customer: customerId,
    program: { key: program.key, name: doc.name, description: doc.description ?? null },
    option: option ? { key: option.key, name: option.name } : null,
    eligible: eligibility.eligible,
    eligibility: eligibility.eligible
      ? null
      : { unmet: eligibility.unmet, message: eligibilityHint(eligibility.unmet, doc.attribution.methods) },
    code,
    link_path: linkPath(code, doc.attribution.methods),
    status: figures?.status ?? ('active' as const),
    suspended_at: figures?.suspended_at ?? null,
    referrals: {
      invited: figures?.referred_customers ?? 0,
      converted: figures?.converted ?? 0,
      pending: figures?.pending ?? 0,
    },
    rewards,
    pending_rewards: pending,
    commission,
  };
}
export type WidgetReferral = Awaited<ReturnType<typeof widgetReferral>>;

export interface WidgetPayoutInput {
  program: string;
  asset?: string | undefined;
  amount?: number | undefined;
}

/**
 * Withdraws commission the customer earned in a program: by default all of it, from the program's
 * one commission asset. The payout use case checks the minimum and the balance under the account
 * lock and holds the amount until the operator approves or rejects it.
 */
export async function widgetPayout(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  customerId: string,
  input: WidgetPayoutInput,
) {
  const program = await requireProgram(tx, workspaceId, input.program, 'program');
  const doc = (await requireVersionNow(deps, tx, program)).document;
  const assets = [...(await programAssets(tx, workspaceId, doc)).values()].filter(
    (a) => a.purpose === 'commission',
  );
  if (assets.length === 0) {
    throw new PerksError(
      'parameter_invalid',
      `program '${program.key}' pays no commission, so there is nothing to withdraw`,
      'program',
    );
  }
  let asset = assets[0]!;
  if (input.asset !== undefined) {
    const named = assets.find((a) => a.key === input.asset);
    if (!named) {
      throw new PerksError(
        'parameter_invalid',
        `'${input.asset}' is not a commission asset of program '${program.key}' (it pays commission in ${assets.map((a) => a.key).join(', ')})`,
        'asset',
      );
    }
    asset = named;
  } else if (assets.length > 1) {
    throw new PerksError(
      'parameter_missing',
      `program '${program.key}' pays commission in ${assets.map((a) => a.key).join(', ')}; name the 'asset' to withdraw`,
      'asset',
    );
  }
  let amount = input.amount;
  if (amount === undefined) {
    // Everything, less what is already past its expiry but not yet swept: the payout expires that
    // first (isExpired in core/ledger/lots.ts), so asking for it would be refused.
    const [account] = await tx.query<{ available: number }>(
      `select a.balance - coalesce((select sum(l.remaining) from ledger_lots l
         where l.workspace_id = a.workspace_id and l.customer_id = a.customer_id and l.asset_id = a.asset_id
           and l.remaining > 0
           and l.expires_at <= $4), 0) as available
       from ledger_accounts a
       where a.workspace_id = $1 and a.customer_id = $2 and a.asset_id = $3 and a.kind = 'customer'`,
      [workspaceId, customerId, asset.id, deps.clock.now()],
    );
    amount = Number(account?.available ?? 0);
  }
  if (amount <= 0) {
    throw new PerksError('insufficient_balance', `there is no '${asset.key}' to withdraw yet`, 'amount', {
      available: 0,
      minimum: asset.payout_minimum ?? 0,
    });
  }
  return requestPayout(deps, tx, workspaceId, {
    customer: customerId,
    asset: asset.key,
    amount,
    destination: 'the payout details on file (requested in the referral widget)',
    metadata: { source: 'referral_widget', program: program.key },
  });
}
