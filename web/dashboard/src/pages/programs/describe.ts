// A program's terms in words, from its document: what an operator checks before and after an edit.

interface Reward {
  description?: string;
  trigger: string;
  recipient: string;
  asset: string;
  amount: { kind: string; value?: number; bps?: number; table?: Record<string, unknown> };
  expiry?: { type: string; duration?: string };
  repeat?: string;
  option?: string;
  gates?: string[];
  for_months?: number;
}

const words = (s: string) => s.replace(/_/g, ' ');

type Format = (amount: number, asset: string) => string;

function amountText(a: Reward['amount'], asset: string, fmt: Format) {
  switch (a.kind) {
    case 'fixed':
      return `${fmt(a.value ?? 0, asset)} (${asset})`;
    case 'percent_of_payment':
      return `${(a.bps ?? 0) / 100}% of each payment in ${asset}`;
    case 'percent_of_plan_units':
      return `${(a.bps ?? 0) / 100}% of the plan's units in ${asset}`;
    case 'per_interval':
      return `${Object.entries(a.table ?? {})
        .map(([k, v]) => `${String(v)} per ${k}ly payment`)
        .join(', ')} in ${asset}`;
    default:
      return `${a.kind} in ${asset}`;
  }
}

export function rewardLine(r: Reward, fmt: Format): string {
  const parts = [
    `On ${words(r.trigger)}, the ${r.recipient} gets ${amountText(r.amount, r.asset, fmt)}`,
    r.expiry && r.expiry.type !== 'never'
      ? r.expiry.type === 'after'
        ? `expiring after ${r.expiry.duration}`
        : 'expiring at the end of the billing period'
      : 'never expiring',
    r.repeat ? words(r.repeat) : null,
    r.option ? `option ${r.option}` : null,
    r.gates?.length ? `only ${r.gates.map(words).join(', ')}` : null,
    r.for_months ? `for ${r.for_months} months` : null,
  ];
  return parts.filter(Boolean).join(' · ');
}

/** The rules of a document as short labelled lines. */
export function termLines(doc: Record<string, unknown>): [string, string][] {
  const referrer = (doc.referrer ?? {}) as {
    eligibility?: string;
    suspend_after_inactivity_days?: number | null;
  };
  const attribution = (doc.attribution ?? {}) as {
    methods?: string[];
    code_accepted?: string;
    link_window_days?: number;
  };
  const referee = (doc.referee ?? {}) as Record<string, unknown>;
  const fraud = (doc.fraud ?? {}) as Record<string, unknown> & {
    max_referrals_per_referrer?: { count: number; period: string } | null;
  };
  const flags = (o: Record<string, unknown>) =>
    Object.entries(o)
      .filter(([, v]) => v === true)
      .map(([k]) => words(k))
      .join(', ') || 'none';
  const cap = fraud.max_referrals_per_referrer;
  return [
    [
      'Referrers',
      `${words(referrer.eligibility ?? 'any')} may get a code` +
        (referrer.suspend_after_inactivity_days
          ? `; suspended after ${referrer.suspend_after_inactivity_days} days without a new referral`
          : ''),
    ],
    [
      'Attribution',
      `by ${(attribution.methods ?? []).join(' and ')}; code accepted ${words(attribution.code_accepted ?? 'at_any_time')}` +
        ((attribution.methods ?? []).includes('link')
          ? `; link window ${attribution.link_window_days ?? 60} days`
          : ''),
    ],
    ['Referees', flags(referee)],
    [
      'Fraud rules',
      `${flags(fraud)}${cap ? `; at most ${cap.count} referrals per ${cap.period}` : '; no cap'}`,
    ],
  ];
}

export function rewardsOf(doc: Record<string, unknown>): Reward[] {
  return Array.isArray(doc.rewards) ? (doc.rewards as Reward[]) : [];
}
