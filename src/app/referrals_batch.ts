import { decideRewards, type RewardDecision } from '../core/programs/rewards.js';
import type { BillingInterval } from '../core/programs/rewards.js';
import { rewardRepeat } from '../core/programs/schema.js';
import { requireAsset } from './ledger_assets.js';
import { grantView } from './ledger_grants.js';
import type { LotRow } from './ledger_posting.js';
import { type BatchGrant, BatchGrantError, postGrants } from './ledger_posting_batch.js';
import { enqueue, type OutboxInput } from './outbox.js';
import { DELIVERY_ID_PREFIX, type WebhookSubscriber, webhookDeliveries } from './outbox_webhooks.js';
import { fromMs, ms } from './batch_sql.js';
import type { Deps, Sql } from './ports.js';
import { assetFacts, loadVersion, type VersionRow } from './programs.js';
import { type ReferrerFacts, standingOf } from './referrals_referrers.js';
import type { ReferralRow } from './referrals_rows.js';

/**
 * The referral side of many `payment.succeeded` events at once: the facts are loaded for every
 * referee of a batch in a few set-based queries, the core decides each payment in turn exactly as
 * `fireTrigger` does for one (referrals.ts, referrals_rewards.ts), and what it decided is written
 * with one statement per table.
 *
 * Only payments whose every step is a plain decision take this path: referrals already qualified or
 * rewarded, a referrer whose standing is already recorded, rewards that need no billing period. Any
 * other payment (a pending referral to qualify and check cards for, a suspension to record) is
 * reported as not plannable, and the caller applies it on its own, event by event.
 */

type FactsRow = ReferralRow & {
  rr_active_since: Date | null;
  rr_suspended_at: Date | null;
  rr_option: string | null;
  rc_signed_at: Date | null;
};

interface SubscriptionFacts {
  external_id: string;
  plan_units: number | null;
  interval: BillingInterval | null;
}

/** A payment.succeeded event as the referral side reads it. */
export interface PaymentFact {
  event_id: string;
  at: Date;
  /** The referee: the Perks id of the event's customer (new customers have no referrals). */
  customer_id: string;
  payment: {
    external_id: string;
    amount: number;
    currency: string;
    interval: BillingInterval | null;
    period_start: Date | null;
    subscription_external_id: string | null;
  };
}

interface PlannedReward {
  referral: FactsRow;
  decision: RewardDecision;
  row: Record<string, unknown> & { id: string };
  grant?: BatchGrant;
}

/** What the core decided for one payment, ready to be written. */
export interface PaymentPlan {
  rewards: PlannedReward[];
  /** Referrals the payment moves from qualified to rewarded (its first grant). */
  advanced: { referral_id: string; event_id: string }[];
}

/** The referral rows of a referee, as the payment path reads them with its referrers' standing. */
async function loadReferrals(sql: Sql, ws: string, customerIds: readonly string[]) {
  if (customerIds.length === 0) return [];
  return sql.query<FactsRow>(
    `select r.*, rr.active_since as rr_active_since, rr.suspended_at as rr_suspended_at, rr.option as rr_option,
       rc.signed_at as rc_signed_at
     from referrals r
       left join referrers rr on rr.workspace_id = r.workspace_id and rr.program_id = r.program_id
         and rr.customer_id = r.referrer_customer_id
       left join referral_contracts rc on rc.workspace_id = r.workspace_id and rc.customer_id = r.referrer_customer_id
     where r.workspace_id = $1 and r.status <> 'rejected' and r.referee_customer_id = any($2::text[])
     order by r.id`,
    [ws, customerIds],
  );
}

const rewardKey = (programId: string, referralId: string, d: RewardDecision) =>
  `${programId}/${referralId}/${d.reward_index}/${d.trigger}/${d.source_key}/${d.recipient_customer_id}`;

/**
 * The referral facts of a batch's referees, kept current in memory as the batch's payments are
 * planned (a referral's first grant moves it to rewarded; a once-per-referral key is taken once).
 */
export class PaymentReferrals {
  private constructor(
    private readonly deps: Deps,
    private readonly ws: string,
    private readonly byReferee: Map<string, FactsRow[]>,
    private readonly versions: Map<string, VersionRow>,
    private readonly subscriptions: Map<string, SubscriptionFacts>,
    /** Reward business keys already taken: in the store for once-per-referral rewards, or planned. */
    private readonly taken: Set<string>,
  ) {}

  static async load(
    deps: Deps,
    tx: Sql,
    ws: string,
    customerIds: readonly string[],
    subscriptionIds: readonly string[],
  ): Promise<PaymentReferrals> {
    const rows = await loadReferrals(tx, ws, customerIds);
    const byReferee = new Map<string, FactsRow[]>();
    const versions = new Map<string, VersionRow>();
    for (const row of rows) {
      const list = byReferee.get(row.referee_customer_id) ?? [];
      list.push(row);
      byReferee.set(row.referee_customer_id, list);
      const key = `${row.program_id}/${row.program_version}`;
      if (!versions.has(key))
        versions.set(key, await loadVersion(tx, ws, row.program_id, row.program_version));
    }
    const taken = new Set<string>();
    const oncePerReferral = [...versions.values()].some((v) =>
      v.document.rewards.some(
        (r) => r.trigger === 'payment_succeeded' && rewardRepeat(r) === 'once_per_referral',
      ),
    );
    if (oncePerReferral && rows.length > 0) {
      const held = await tx.query<{
        program_id: string;
        referral_id: string;
        reward_index: number;
        recipient_customer_id: string;
      }>(
        `select program_id, referral_id, reward_index, recipient_customer_id from referral_rewards
         where workspace_id = $1 and referral_id = any($2::text[]) and trigger = 'payment_succeeded'
           and source_key = ''`,
        [ws, rows.map((r) => r.id)],
      );
      for (const h of held) {
        taken.add(
          `${h.program_id}/${h.referral_id}/${h.reward_index}/payment_succeeded//${h.recipient_customer_id}`,
        );
      }
    }
    const subscriptions = new Map<string, SubscriptionFacts>();
    if (subscriptionIds.length > 0 && rows.length > 0) {
      const subs = await tx.query<SubscriptionFacts>(
        `select external_id, plan_units, interval from subscriptions
         where workspace_id = $1 and external_id = any($2::text[])`,
        [ws, subscriptionIds],
      );
      for (const s of subs) subscriptions.set(s.external_id, s);
    }
    return new PaymentReferrals(deps, ws, byReferee, versions, subscriptions, taken);
  }

  /** The referrers of a referee's referrals (whose standing and accounts its events can change). */
  referrersOf(customerId: string): string[] {
    return (this.byReferee.get(customerId) ?? []).map((r) => r.referrer_customer_id);
  }

  /**
   * Decides a payment as fireTrigger would, or returns undefined when it needs more than a decision
   * (see the file comment). Ids are taken here, in the order of the events, so that the rows written
   * for a batch are the rows the same events sent one by one would write.
   */
  async plan(tx: Sql, fact: PaymentFact): Promise<PaymentPlan | undefined> {
    const plan: PaymentPlan = { rewards: [], advanced: [] };
    const referrals = this.byReferee.get(fact.customer_id) ?? [];
    if (referrals.length === 0) return plan;
    const p = fact.payment;
    const sub =
      p.subscription_external_id === null ? undefined : this.subscriptions.get(p.subscription_external_id);
    const payment = {
      external_id: p.external_id,
      amount: p.amount,
      currency: p.currency,
      interval: p.interval ?? sub?.interval ?? null,
      period_start: p.period_start,
    };
    const subscription = sub ? { plan_units: sub.plan_units, interval: sub.interval } : undefined;
    const keys = new Set<string>();
    const moving: FactsRow[] = [];
    for (const referral of referrals) {
      const program = this.versions.get(`${referral.program_id}/${referral.program_version}`)!.document;
      const rules = program.rewards.filter((r) => r.trigger === 'payment_succeeded');
      if (rules.length === 0) continue;
      if (referral.status !== 'qualified' && referral.status !== 'rewarded') return undefined;
      if (rules.some((r) => r.expiry.type === 'end_of_billing_period')) return undefined;
      const standingRow: ReferrerFacts | undefined =
        referral.rr_active_since === null
          ? undefined
          : {
              active_since: referral.rr_active_since,
              suspended_at: referral.rr_suspended_at,
              option: referral.rr_option,
            };
      const standing = standingOf(standingRow, program, fact.at);
      // A suspension seen for the first time is recorded (with a webhook and an audit entry).
      if (standingRow && standing.status === 'suspended' && standingRow.suspended_at === null)
        return undefined;
      const gated = rules.some((r) => r.gates.length > 0);
      const decisions = decideRewards(program, {
        trigger: 'payment_succeeded',
        at: fact.at,
        source_key: p.external_id,
        referral: {
          attributed_at: referral.attributed_at,
          referrer_id: referral.referrer_customer_id,
          referee_id: referral.referee_customer_id,
        },
        referrer: {
          suspended: standing.status === 'suspended',
          contract_signed_at: gated ? referral.rc_signed_at : null,
          option: standingRow?.option ?? null,
          current_period_end: null,
        },
        referee: { current_period_end: null },
        payment,
        subscription,
        assets: await assetFacts(
          tx,
          this.ws,
          program.rewards.map((r) => r.asset),
        ),
      });
      let granted = false;
      for (const decision of decisions) {
        const key = rewardKey(referral.program_id, referral.id, decision);
        // A key already taken makes the insert do nothing, as in writeDecision.
        if (this.taken.has(key) || keys.has(key)) continue;
        keys.add(key);
        const id = this.deps.ids.id('rwd');
        const grantNow = decision.outcome === 'grant';
        const planned: PlannedReward = {
          referral,
          decision,
          row: {
            id,
            program_id: referral.program_id,
            referral_id: referral.id,
            reward_index: decision.reward_index,
            trigger: decision.trigger,
            source_key: decision.source_key,
            recipient: decision.recipient,
            recipient_customer_id: decision.recipient_customer_id,
            asset: decision.asset,
            status: grantNow ? 'granted' : 'skipped',
            reason: decision.outcome === 'skip' ? decision.reason : null,
            message: decision.outcome === 'skip' ? decision.message : null,
            amount: grantNow ? decision.amount : 0,
            payment_external_id: p.external_id,
            event_id: fact.event_id,
            occurred_at_ms: ms(fact.at),
          },
        };
        if (decision.outcome === 'grant') {
          granted = true;
          const expiry = decision.expiry;
          planned.grant = {
            id: this.deps.ids.id('lot'),
            customer_id: decision.recipient_customer_id,
            asset: await requireAsset(tx, this.ws, decision.asset),
            amount: decision.amount,
            expires:
              expiry.type === 'after' ? { type: 'after', duration: expiry.duration } : { type: 'never' },
            reason: `referral ${referral.id}: ${decision.trigger} (${decision.recipient})`,
            reference: `${id}.0`,
            source: { type: 'referral', id: referral.id },
            metadata: {
              reward: id,
              reward_index: String(decision.reward_index),
              trigger: decision.trigger,
            },
          };
        }
        plan.rewards.push(planned);
      }
      if (granted && referral.status === 'qualified') {
        moving.push(referral);
        plan.advanced.push({ referral_id: referral.id, event_id: fact.event_id });
      }
    }
    // The plan stands: what it took is now taken for the events after it.
    for (const key of keys) this.taken.add(key);
    for (const referral of moving) referral.status = 'rewarded';
    return plan;
  }
}

/** What one set of planned payments wrote; `conflict` when the store held something the plan did not expect. */
export type WriteOutcome = { ok: true } | { ok: false };

/**
 * Writes the plans of a batch's payments: the reward rows under their business keys, the grants in
 * the ledger, the recipients' totals, the reward.granted webhooks and the referrals' move to
 * rewarded. Returns `ok: false` when a row the plan counted on could not be written as planned (a
 * key taken meanwhile by another transaction); the caller then undoes this write and applies the
 * events one by one.
 */
export async function writePaymentPlans(
  deps: Deps,
  tx: Sql,
  ws: string,
  plans: readonly PaymentPlan[],
  webhooks: () => Promise<readonly WebhookSubscriber[]>,
): Promise<WriteOutcome> {
  const rewards = plans.flatMap((p) => p.rewards);
  if (rewards.length === 0) return { ok: true };
  const now = deps.clock.now();
  const grants = rewards.filter((r) => r.grant !== undefined);
  // Which plan (event) each grant belongs to, to name the event when the ledger refuses a grant.
  const owners = plans.flatMap((p, i) => p.rewards.filter((r) => r.grant !== undefined).map(() => i));
  let lots: LotRow[];
  try {
    lots = await postGrants(
      deps,
      tx,
      ws,
      grants.map((r) => r.grant!),
    );
  } catch (err) {
    if (err instanceof BatchGrantError) throw new BatchGrantError(owners[err.index]!, err.error);
    throw err;
  }
  const lotOf = new Map(grants.map((r, i) => [r.row.id, lots[i]!]));
  const rows = rewards.map((r) => {
    const lot = lotOf.get(r.row.id);
    return {
      ...r.row,
      grant_id: lot?.id ?? null,
      expires_at: lot?.expires_at?.toISOString() ?? null,
    };
  });
  const inserted = await tx.query<{ id: string }>(
    `insert into referral_rewards (workspace_id, id, program_id, referral_id, reward_index, trigger, source_key,
       recipient, recipient_customer_id, asset, status, reason, message, amount, payment_external_id, event_id,
       occurred_at, created_at, updated_at, grant_id, grant_revision, expires_at)
     select $1, x.id, x.program_id, x.referral_id, x.reward_index, x.trigger, x.source_key, x.recipient,
       x.recipient_customer_id, x.asset, x.status, x.reason, x.message, x.amount, x.payment_external_id, x.event_id,
       ${fromMs('x.occurred_at_ms')}, $3, $3, x.grant_id, 0, x.expires_at
     from json_to_recordset($2::json) as x(id text, program_id text, referral_id text, reward_index integer,
       trigger text, source_key text, recipient text, recipient_customer_id text, asset text, status text,
       reason text, message text, amount bigint, payment_external_id text, event_id text, occurred_at_ms bigint,
       grant_id text, expires_at timestamptz)
     on conflict (workspace_id, program_id, referral_id, reward_index, trigger, source_key, recipient_customer_id)
       do nothing
     returning id`,
    [ws, JSON.stringify(rows), now],
  );
  if (inserted.length !== rows.length) return { ok: false };

  // Each grant counts in its recipient's totals (granted), as postGrant counts a reward's first grant.
  const totals = new Map<
    string,
    { program_id: string; customer_id: string; asset: string; granted: number }
  >();
  for (const r of grants) {
    const key = `${r.referral.program_id}/${r.decision.recipient_customer_id}/${r.decision.asset}`;
    const t = totals.get(key) ?? {
      program_id: r.referral.program_id,
      customer_id: r.decision.recipient_customer_id,
      asset: r.decision.asset,
      granted: 0,
    };
    t.granted += r.grant!.amount;
    totals.set(key, t);
  }
  if (totals.size > 0) {
    await tx.query(
      `insert into referral_reward_totals (workspace_id, program_id, customer_id, asset, granted, reversed)
       select $1, x.program_id, x.customer_id, x.asset, x.granted, 0
       from json_to_recordset($2::json) as x(program_id text, customer_id text, asset text, granted bigint)
       on conflict (workspace_id, program_id, customer_id, asset)
         do update set granted = referral_reward_totals.granted + excluded.granted`,
      [ws, JSON.stringify([...totals.values()])],
    );
  }

  // reward.granted, one event per grant, as postGrant emits it.
  if (grants.length > 0) {
    const endpoints = await webhooks();
    const outbox: OutboxInput[] = [];
    grants.forEach((r, i) => {
      const lot = lots[i]!;
      outbox.push(
        ...webhookDeliveries(deps, endpoints, 'reward.granted', {
          ...grantView(lot, r.grant!.asset, false),
          reward: r.row.id,
          referral: r.referral.id,
          recipient: r.decision.recipient,
          trigger: r.decision.trigger,
        }).rows,
      );
    });
    // Outbox rows take 14 parameters each; PostgreSQL allows 65,535 per statement.
    for (let start = 0; start < outbox.length; start += OUTBOX_ROWS_PER_STATEMENT) {
      await enqueue(deps, tx, ws, outbox.slice(start, start + OUTBOX_ROWS_PER_STATEMENT), DELIVERY_ID_PREFIX);
    }
  }

  // A referral's first grant moves it qualified -> rewarded, with its transition (as `advance` does).
  const advanced = plans.flatMap((p) => p.advanced);
  if (advanced.length > 0) {
    const moved = await tx.query<{ referral_id: string }>(
      `with x as (
         select * from json_to_recordset($2::json) as x(referral_id text, event_id text)
       ), moved as (
         update referrals r set status = 'rewarded', qualified_at = coalesce(r.qualified_at, $3),
           rewarded_at = $3, updated_at = $3
         from x where r.workspace_id = $1 and r.id = x.referral_id and r.status = 'qualified'
         returning r.id
       )
       insert into referral_transitions (workspace_id, referral_id, seq, from_status, to_status, actor, event_id, at)
       select $1, x.referral_id,
         coalesce((select max(t.seq) from referral_transitions t
                   where t.workspace_id = $1 and t.referral_id = x.referral_id), 0) + 1,
         'qualified', 'rewarded', null, x.event_id, $3
       from x where x.referral_id in (select id from moved)
       returning referral_id`,
      [ws, JSON.stringify(advanced), now],
    );
    if (moved.length !== advanced.length) return { ok: false };
  }
  return { ok: true };
}

const OUTBOX_ROWS_PER_STATEMENT = 4_000;
