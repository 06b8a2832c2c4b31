import { useMemo } from 'react';
import { type Page, qs } from '../api';
import { Notice, PageHeader, formatAmount, formatTime, useResource } from '../components/ui';
import { linkProps, navigate } from '../router';
import { ActivityChart, RewardChart } from './overview/Charts';
import type { AssetTotals, StatsOverview } from './overview/types';
import type { PageProps } from './props';
import { CustomerLink, ReferralLink, words } from './referrals/shared';

const RANGES = [
  { key: '7d', label: 'Last 7 days', interval: 'day', days: 7 },
  { key: '30d', label: 'Last 30 days', interval: 'day', days: 30 },
  { key: '26w', label: 'Last 26 weeks', interval: 'week', days: 182 },
  { key: '12m', label: 'Last 12 months', interval: 'month', days: 365 },
] as const;

/**
 * Overview: referrals, conversions, rejections and reward cost per asset over a range, the top
 * referrers of the range and the latest rejections with their reasons. The range and the program
 * are in the query string.
 */
export function Overview({ query }: PageProps) {
  const range = RANGES.find((r) => r.key === query.get('range')) ?? RANGES[1];
  const program = query.get('program') ?? '';
  // The range ends now; `from` is fixed when the range is chosen, so re-renders ask for the same thing.
  const from = useMemo(() => new Date(Date.now() - range.days * 86_400_000).toISOString(), [range.days]);
  const stats = useResource<StatsOverview>(
    `/v1/stats/overview?interval=${range.interval}&from=${encodeURIComponent(from)}${program ? `&program=${encodeURIComponent(program)}` : ''}`,
  );
  const programs = useResource<Page<{ key: string; name: string }>>('/v1/programs?limit=100');
  const s = stats.data;
  const set = (patch: { range?: string; program?: string }) => {
    const q = new URLSearchParams({ range: patch.range ?? range.key, program: patch.program ?? program });
    if (!q.get('program')) q.delete('program');
    navigate(`/?${q}`, true);
  };
  const fmt = (t: AssetTotals, amount: number) => {
    const info = s?.assets.find((a) => a.asset === t.asset);
    return info ? formatAmount(amount, { ...info, code: t.asset }) : `${amount} ${t.asset}`;
  };

  return (
    <>
      <PageHeader title="Overview">
        <label className="inline-control">
          <span>Range</span>
          <select value={range.key} onChange={(e) => set({ range: e.target.value })}>
            {RANGES.map((r) => (
              <option key={r.key} value={r.key}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-control">
          <span>Program</span>
          <select value={program} onChange={(e) => set({ program: e.target.value })}>
            <option value="">All programs</option>
            {(programs.data?.data ?? []).map((p) => (
              <option key={p.key} value={p.key}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </PageHeader>
      <Notice error={stats.error} />
      {s ? (
        <>
          <div className="stats overview-stats" aria-label="Totals for the range">
            <div className="stat">
              <div className="label">Referrals</div>
              <div className="value" data-stat="referrals">
                {s.totals.referrals.toLocaleString('en-US')}
              </div>
              <div className="label fine">attributed, not rejected</div>
            </div>
            <div className="stat">
              <div className="label">Conversions</div>
              <div className="value" data-stat="conversions">
                {s.totals.conversions.toLocaleString('en-US')}
              </div>
              <div className="label fine">
                {s.totals.referrals > 0
                  ? `${Math.round((100 * s.totals.conversions) / s.totals.referrals)}% of referrals`
                  : 'qualified in the range'}
              </div>
            </div>
            <div className="stat">
              <div className="label">Rejections</div>
              <div className="value" data-stat="rejections">
                {s.totals.rejections.toLocaleString('en-US')}
              </div>
              <div className="label fine">refused by a rule</div>
            </div>
            {s.totals.rewards.length === 0 ? (
              <div className="stat">
                <div className="label">Reward cost</div>
                <div className="value">—</div>
                <div className="label fine">nothing earned in the range</div>
              </div>
            ) : (
              s.totals.rewards.map((t) => (
                <div className="stat" key={t.asset}>
                  <div className="label">Reward cost · {t.asset}</div>
                  <div className="value" data-stat={`reward-${t.asset}`}>
                    {fmt(t, t.net)}
                  </div>
                  <div className="label fine">
                    {fmt(t, t.granted)} granted{t.reversed ? `, ${fmt(t, t.reversed)} reversed` : ''}
                  </div>
                </div>
              ))
            )}
          </div>

          <section className="panel" aria-labelledby="activity-title">
            <h2 id="activity-title">
              Referrals per {s.interval}{' '}
              <span className="muted fine">
                {formatTime(s.from)} to {formatTime(s.to)}
              </span>
            </h2>
            <ActivityChart stats={s} />
          </section>

          {s.totals.rewards.length > 0 ? (
            <div className="grid">
              {s.totals.rewards.map((t) => (
                <section className="panel" key={t.asset} aria-label={`Reward cost in ${t.asset}`}>
                  <h2>
                    Reward cost per {s.interval} · <code>{t.asset}</code>
                  </h2>
                  <RewardChart stats={s} asset={t.asset} />
                </section>
              ))}
            </div>
          ) : null}

          <div className="grid overview-lists">
            <section className="panel" aria-labelledby="top-title">
              <h2 id="top-title">Top referrers</h2>
              {s.top_referrers.length === 0 ? (
                <p className="muted">No referral in this range.</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Referrer</th>
                      <th scope="col" className="num">
                        Referrals
                      </th>
                      <th scope="col" className="num">
                        Converted
                      </th>
                      <th scope="col" className="num">
                        Earned (all time)
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.top_referrers.map((t) => (
                      <tr key={t.customer}>
                        <td>
                          <CustomerLink id={t.customer} external={t.external_id} />{' '}
                          <a
                            className="fine"
                            {...linkProps(
                              `/referrals?q=${encodeURIComponent(t.external_id ?? t.customer)}&role=referrer`,
                            )}
                          >
                            referrals
                          </a>
                        </td>
                        <td className="num">{t.referrals}</td>
                        <td className="num">{t.converted}</td>
                        <td className="num">
                          {t.rewards_earned.length === 0
                            ? '—'
                            : t.rewards_earned.map((e) => <div key={e.asset}>{fmt(e, e.net)}</div>)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section className="panel" aria-labelledby="rejections-title">
              <h2 id="rejections-title">
                Recent rejections{' '}
                <a
                  className="fine"
                  {...linkProps(`/referrals${qs({ status: 'rejected', program: program || undefined })}`)}
                >
                  all
                </a>
              </h2>
              {s.rejection_reasons.length > 0 ? (
                <ul className="reason-counts" aria-label="Rejections by reason">
                  {s.rejection_reasons.map((r) => (
                    <li key={r.reason}>
                      <a
                        {...linkProps(
                          `/referrals${qs({ status: 'rejected', reason: r.reason, program: program || undefined })}`,
                        )}
                      >
                        <span className="badge badge-bad">{r.count}</span> {words(r.reason)}
                      </a>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">No rejection in this range.</p>
              )}
              {s.recent_rejections.length > 0 ? (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Referee</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Referral</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.recent_rejections.map((r) => (
                      <tr key={r.referral}>
                        <td className="nowrap">{formatTime(r.rejected_at)}</td>
                        <td>
                          <CustomerLink id={r.referee} external={r.referee_external_id} />
                          <div className="fine muted">
                            by <CustomerLink id={r.referrer} external={r.referrer_external_id} />
                          </div>
                        </td>
                        <td>
                          <strong>{words(r.reason)}</strong>
                          {r.reason_message ? <div className="fine muted">{r.reason_message}</div> : null}
                        </td>
                        <td>
                          <ReferralLink id={r.referral} short />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </section>
          </div>
        </>
      ) : null}
    </>
  );
}
