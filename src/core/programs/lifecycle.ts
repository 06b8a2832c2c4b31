/**
 * The referral's state machine and the referrer's standing in a program.
 *
 * A referral moves pending -> qualified -> rewarded, or pending -> rejected with the rule that
 * rejected it. Every transition is kept; nothing moves backwards (a reversal of a reward is a ledger
 * correction, not a change of the referral's history).
 */
import { addDays } from './calendar.js';

export const REFERRAL_STATUSES = ['pending', 'qualified', 'rewarded', 'rejected'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

const NEXT: Record<ReferralStatus, readonly ReferralStatus[]> = {
  pending: ['qualified', 'rejected'],
  qualified: ['rewarded'],
  rewarded: [],
  rejected: [],
};

export function canTransition(from: ReferralStatus, to: ReferralStatus): boolean {
  return NEXT[from].includes(to);
}

/**
 * The steps from `from` to `target`, in order (pending -> rewarded passes through qualified), or []
 * when the referral is already there or beyond; a target that cannot be reached is a bug.
 */
export function pathTo(from: ReferralStatus, target: 'qualified' | 'rewarded'): ReferralStatus[] {
  if (from === target || (from === 'rewarded' && target === 'qualified')) return [];
  if (from === 'rejected') return [];
  if (from === 'pending') return target === 'qualified' ? ['qualified'] : ['qualified', 'rewarded'];
  if (from === 'qualified' && target === 'rewarded') return ['rewarded'];
  throw new RangeError(`a referral cannot move from ${from} to ${target}`);
}

export interface ReferrerStanding {
  /** The latest of: the referrer's last non-rejected referral, its first code, its reinstatement. */
  active_since: Date;
  /** Set once the suspension has been recorded. */
  suspended_at: Date | null;
}

export type ReferrerStatus =
  { status: 'active'; suspends_at: Date | null } | { status: 'suspended'; suspended_at: Date };

/**
 * Suspension after inactivity is computed when it matters (at a payment, an attribution, a read),
 * not by a timer: a referrer whose last new referral is `days` days old is suspended as of that day.
 */
export function referrerStatus(
  standing: ReferrerStanding,
  inactivityDays: number | null,
  at: Date,
): ReferrerStatus {
  if (standing.suspended_at !== null) return { status: 'suspended', suspended_at: standing.suspended_at };
  if (inactivityDays === null) return { status: 'active', suspends_at: null };
  const suspendsAt = addDays(standing.active_since, inactivityDays);
  if (at.getTime() >= suspendsAt.getTime()) return { status: 'suspended', suspended_at: suspendsAt };
  return { status: 'active', suspends_at: suspendsAt };
}
