// One referral: its facts, every status change, each reward decision, its audit log, and the
// reassignment form support uses to move it to the right referrer.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import { Field, FormError, Notice, PageHeader, formatTime, useResource } from '../../components/ui';
import { linkProps } from '../../router';
import { useActor } from '../customers/actor';
import { AuditEntries } from './AuditLog';
import { CustomerLink, formatAssetAmount, StatusBadge, useAssets, words } from './shared';
import type { ReferralDetail as Detail } from './types';

export function ReferralDetail({ id }: { id: string }) {
  const detail = useResource<Detail>(`/v1/referrals/${encodeURIComponent(id)}`);
  const r = detail.data;
  const assets = useAssets();
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <>
      <PageHeader title={`Referral ${id}`}>
        <a className="button secondary" {...linkProps('/referrals')}>
          ← All referrals
        </a>
      </PageHeader>
      <Notice error={detail.error} />
      {notice ? (
        <div className="notice notice-info" role="status">
          {notice}
        </div>
      ) : null}
      {r ? (
        <>
          <section className="panel" aria-label="Referral facts">
            <h2>
              <StatusBadge status={r.status} /> {r.program}{' '}
              <span className="muted">version {r.program_version}</span>
            </h2>
            <dl className="facts">
              <dt>Referrer</dt>
              <dd>
                <CustomerLink id={r.referrer} />{' '}
                <a
                  className="fine"
                  {...linkProps(`/referrals?tab=tree&customer=${encodeURIComponent(r.referrer)}`)}
                >
                  tree
                </a>
              </dd>
              <dt>Referee</dt>
              <dd>
                <CustomerLink id={r.referee} />
              </dd>
              <dt>Attributed</dt>
              <dd>
                {formatTime(r.attributed_at)} by {r.method}
                {r.code ? (
                  <>
                    {' '}
                    <code>{r.code}</code>
                  </>
                ) : null}{' '}
                <span className="muted">(source {r.source})</span>
              </dd>
              {r.qualified_at ? (
                <>
                  <dt>Qualified</dt>
                  <dd>{formatTime(r.qualified_at)}</dd>
                </>
              ) : null}
              {r.rewarded_at ? (
                <>
                  <dt>Rewarded</dt>
                  <dd>{formatTime(r.rewarded_at)}</dd>
                </>
              ) : null}
              {r.rejected_at ? (
                <>
                  <dt>Rejected</dt>
                  <dd>
                    {formatTime(r.rejected_at)}: <strong>{words(r.reason ?? '')}</strong>
                    {r.reason_message ? <span className="muted"> — {r.reason_message}</span> : null}
                  </dd>
                </>
              ) : null}
            </dl>
          </section>

          <div className="grid detail-grid">
            <section className="panel" aria-labelledby="history-title">
              <h2 id="history-title">History</h2>
              <ol className="timeline">
                {r.history.map((t) => (
                  <li key={t.seq}>
                    <span className="nowrap muted">{formatTime(t.at)}</span>{' '}
                    {t.from ? (
                      <>
                        <StatusBadge status={t.from} /> →{' '}
                      </>
                    ) : null}
                    <StatusBadge status={t.to} />
                    {t.reason ? <strong> {words(t.reason)}</strong> : null}
                    {t.message ? <div className="fine muted">{t.message}</div> : null}
                    <div className="fine muted">
                      {t.actor ? `by ${t.actor}` : null}
                      {t.event_id ? ` event ${t.event_id}` : null}
                    </div>
                  </li>
                ))}
              </ol>
            </section>
            <section className="panel" aria-labelledby="reassign-title">
              <h2 id="reassign-title">Reassign to another referrer</h2>
              {r.status === 'rejected' ? (
                <p className="muted">
                  A rejected referral cannot be reassigned: record the right one under{' '}
                  <a {...linkProps('/referrals?tab=attribute')}>Manual attribution</a>.
                </p>
              ) : (
                <ReassignForm
                  id={r.id}
                  onDone={(to) => {
                    setNotice(
                      `Reassigned to ${to}: the old referrer's rewards were reversed, the new one's granted.`,
                    );
                    detail.reload();
                  }}
                />
              )}
            </section>
          </div>

          <section className="panel" aria-labelledby="rewards-title">
            <h2 id="rewards-title">Rewards</h2>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Recipient</th>
                    <th scope="col">Trigger</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Amount
                    </th>
                    <th scope="col" className="num">
                      Reversed
                    </th>
                    <th scope="col">Expires</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {r.rewards.length === 0 ? (
                    <tr>
                      <td colSpan={7} className="empty">
                        No reward decided yet.
                      </td>
                    </tr>
                  ) : null}
                  {r.rewards.map((w) => (
                    <tr key={w.id}>
                      <td>
                        {w.recipient} <CustomerLink id={w.customer} />
                      </td>
                      <td>
                        {words(w.trigger)}
                        {w.payment ? <div className="fine muted mono">{w.payment}</div> : null}
                      </td>
                      <td>
                        <StatusBadge status={w.status} />
                        {w.reason ? <div className="fine muted">{words(w.reason)}</div> : null}
                      </td>
                      <td className="num">{formatAssetAmount(w.amount, w.asset, assets)}</td>
                      <td className="num">
                        {w.reversed_amount ? formatAssetAmount(w.reversed_amount, w.asset, assets) : '—'}
                      </td>
                      <td>{w.expires_at ? formatTime(w.expires_at) : 'never'}</td>
                      <td className="nowrap">{formatTime(w.occurred_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>

          <section className="panel" aria-labelledby="audit-title">
            <h2 id="audit-title">Audit log</h2>
            <AuditEntries entries={r.audit_log} empty="No repair was made to this referral." />
          </section>
        </>
      ) : null}
    </>
  );
}

const REASSIGN_FIELDS = ['referrer', 'reason', 'actor'];

function ReassignForm({ id, onDone }: { id: string; onDone: (to: string) => void }) {
  const [actor, setActor] = useActor();
  const [referrer, setReferrer] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await api('POST', `/v1/referrals/${encodeURIComponent(id)}/reassign`, {
        referrer: referrer.trim(),
        reason,
        actor,
      });
      setError(null);
      setReferrer('');
      setReason('');
      onDone(referrer.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="reassign-title" noValidate>
      <Field label="New referrer" name="referrer" error={error} hint="External id or Perks id">
        <input
          name="referrer"
          value={referrer}
          onChange={(e) => setReferrer(e.target.value)}
          spellCheck={false}
        />
      </Field>
      <Field label="Reason" name="reason" error={error} hint="Kept in the audit log, e.g. a ticket number">
        <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
      </Field>
      <Field label="Actor" name="actor" error={error} hint="Who you are; remembered in this browser">
        <input name="actor" value={actor} onChange={(e) => setActor(e.target.value)} autoComplete="email" />
      </Field>
      <FormError error={error} fields={REASSIGN_FIELDS} />
      <button type="submit" disabled={busy}>
        {busy ? 'Reassigning…' : 'Reassign'}
      </button>
    </form>
  );
}
