import type { Reward } from './types.js';

/** "30 Nov" (or "Nov 30", by locale); the year only when it is not this year. */
export function shortDate(iso: string, locale: string | undefined): string {
  const date = new Date(iso);
  const thisYear = date.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'short',
    ...(thisYear ? {} : { year: 'numeric' }),
  }).format(date);
}

/**
 * A reward line: "$50 in credits", "90 bonus minutes, expire 30 Nov". When only part of the balance
 * expires at the next date, that part is named: "90 bonus minutes, 40 bonus minutes expire 30 Nov".
 */
export function rewardLine(reward: Reward, locale: string | undefined): string {
  const next = reward.expiring[0];
  if (!next) return reward.text;
  const when = shortDate(next.expires_at, locale);
  return next.amount >= reward.amount
    ? `${reward.text}, expire ${when}`
    : `${reward.text}, ${next.text} expire ${when}`;
}
