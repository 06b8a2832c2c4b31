// One webhook endpoint: its state, enable/disable, secret rotation, and its deliveries with every
// attempt, each finished one replayable.
import { useState } from 'react';
import { api } from '../../api';
import { formatTime, Notice, PagedTable, PageHeader, useResource } from '../../components/ui';
import { linkProps } from '../../router';
import { StatusBadge } from '../customers/Payouts';
import { SecretNotice } from './SecretNotice';
import type { Delivery, Endpoint, EndpointWithSecret } from './types';

export function EndpointDetail({ id }: { id: string }) {
  const endpoint = useResource<Endpoint>(`/v1/webhook_endpoints/${encodeURIComponent(id)}`);
  const [status, setStatus] = useState('');
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [replayed, setReplayed] = useState<string | null>(null);
  const e = endpoint.data;

  async function post<T>(path: string, body: unknown, then: (res: T) => void) {
    setError(null);
    setReplayed(null);
    setBusy(true);
    try {
      then(await api<T>('POST', path, body));
      endpoint.reload();
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Webhook endpoint">
        <a {...linkProps('/integrations')} className="button secondary">
          ← Integrations
        </a>
      </PageHeader>
      <Notice error={endpoint.error} />
      {e ? (
        <section className="panel" aria-label="Endpoint">
          <div className="endpoint-head">
            <div>
              <div className="url big">{e.url}</div>
              <div className="muted small">
                <span className="mono">{e.id}</span> ·{' '}
                {e.event_types.includes('*') ? 'all events' : e.event_types.join(', ')}
                {e.description ? ` · ${e.description}` : ''}
              </div>
              <div className="small">
                <span data-endpoint-status={e.id}>
                  <StatusBadge status={e.status} />
                </span>{' '}
                last success {formatTime(e.last_success_at)}
                {e.failing_since ? ` · failing since ${formatTime(e.failing_since)}` : ''}
                {e.previous_secret_expires_at
                  ? ` · previous secret signs until ${formatTime(e.previous_secret_expires_at)}`
                  : ''}
              </div>
              {e.disabled_reason ? (
                <div className="muted small">
                  {e.disabled_reason} (since {formatTime(e.disabled_at)})
                </div>
              ) : null}
            </div>
            <div className="row-actions">
              {e.status === 'enabled' ? (
                <form
                  className="row-form"
                  onSubmit={(ev) => {
                    ev.preventDefault();
                    void post(
                      `/v1/webhook_endpoints/${e.id}/disable`,
                      reason.trim() ? { reason: reason.trim() } : {},
                      () => setReason(''),
                    );
                  }}
                >
                  <input
                    aria-label="Reason for disabling"
                    placeholder="Reason (optional)"
                    value={reason}
                    onChange={(ev) => setReason(ev.target.value)}
                  />
                  <button type="submit" className="secondary" disabled={busy}>
                    Disable
                  </button>
                </form>
              ) : (
                <button
                  type="button"
                  disabled={busy}
                  onClick={() =>
                    void post(`/v1/webhook_endpoints/${e.id}/enable`, { recover: true }, () => {})
                  }
                  title="Enable and send again what failed or was canceled since it started failing"
                >
                  Enable and recover
                </button>
              )}
              <button
                type="button"
                className="secondary"
                disabled={busy}
                onClick={() =>
                  void post<EndpointWithSecret>(`/v1/webhook_endpoints/${e.id}/rotate_secret`, {}, (r) =>
                    setSecret(r.secret),
                  )
                }
              >
                Rotate secret
              </button>
            </div>
          </div>
          {secret ? (
            <SecretNotice
              secret={secret}
              what="New signing secret. The old one keeps signing for 24 hours."
              onDismiss={() => setSecret(null)}
            />
          ) : null}
          <Notice error={error} />
          <Notice kind="info" error={replayed} />
        </section>
      ) : null}
      {e ? (
        <section className="panel" aria-labelledby="deliveries-title">
          <div className="panel-head">
            <h2 id="deliveries-title">Deliveries</h2>
            <div className="row-actions">
              <button type="button" className="secondary" onClick={() => setVersion((v) => v + 1)}>
                Refresh
              </button>
              <label className="inline-field">
                <span>Status</span>
                <select
                  aria-label="Delivery status"
                  value={status}
                  onChange={(ev) => setStatus(ev.target.value)}
                >
                  <option value="">All</option>
                  <option value="pending">Pending</option>
                  <option value="succeeded">Succeeded</option>
                  <option value="failed">Failed</option>
                  <option value="canceled">Canceled</option>
                </select>
              </label>
            </div>
          </div>
          <Deliveries
            endpoint={e.id}
            status={status}
            version={version}
            busy={busy}
            onReplay={(d) =>
              void post<Delivery>(`/v1/webhook_endpoints/${e.id}/deliveries/${d.id}/replay`, undefined, (r) =>
                setReplayed(`Queued ${r.id}, a replay of ${d.id}.`),
              )
            }
          />
        </section>
      ) : null}
    </>
  );
}

function Deliveries({
  endpoint,
  status,
  version,
  busy,
  onReplay,
}: {
  endpoint: string;
  status: string;
  version: number;
  busy: boolean;
  onReplay: (d: Delivery) => void;
}) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <PagedTable<Delivery>
      path={`/v1/webhook_endpoints/${endpoint}/deliveries`}
      params={{ status: status || undefined }}
      reloadKey={version}
      pageSize={20}
      empty="No deliveries yet: they appear when an event this endpoint listens to happens."
      columns={[
        { header: 'Created', cell: (d) => formatTime(d.created_at) },
        {
          header: 'Event',
          cell: (d) => (
            <>
              <code>{d.event_type ?? '—'}</code>
              <div className="muted small mono">{d.event_id}</div>
              {d.replay_of ? <div className="muted small">replay of {d.replay_of}</div> : null}
            </>
          ),
        },
        {
          header: 'Status',
          cell: (d) => (
            <span data-delivery-status={d.id}>
              <StatusBadge status={d.status} />
              {d.status === 'pending' && d.next_attempt_at ? (
                <div className="muted small">next {formatTime(d.next_attempt_at)}</div>
              ) : null}
            </span>
          ),
        },
        {
          header: 'Attempts',
          className: 'num',
          cell: (d) => `${d.attempts} / ${d.max_attempts}`,
        },
        {
          header: 'Last answer',
          cell: (d) => {
            const last = d.attempt_log[d.attempt_log.length - 1];
            return (
              <div className="attempts">
                {last ? (
                  <span className="small">
                    {last.status_code ? `HTTP ${last.status_code}` : 'no answer'} in {last.duration_ms} ms
                    {last.error ? ` · ${last.error}` : ''}
                  </span>
                ) : d.last_error ? (
                  <span className="small">{d.last_error}</span>
                ) : (
                  <span className="muted small">not sent yet</span>
                )}
                {d.attempt_log.length ? (
                  <button
                    type="button"
                    className="link"
                    aria-expanded={open === d.id}
                    onClick={() => setOpen(open === d.id ? null : d.id)}
                  >
                    {open === d.id
                      ? 'hide attempts'
                      : `show ${d.attempt_log.length} attempt${d.attempt_log.length === 1 ? '' : 's'}`}
                  </button>
                ) : null}
                {open === d.id ? (
                  <ol className="attempt-log">
                    {d.attempt_log.map((a) => (
                      <li key={a.attempt}>
                        {formatTime(a.started_at)}: {a.status_code ? `HTTP ${a.status_code}` : 'no answer'},{' '}
                        {a.duration_ms} ms{a.error ? ` · ${a.error}` : ''}
                        {a.response_body ? <pre>{a.response_body}</pre> : null}
                      </li>
                    ))}
                  </ol>
                ) : null}
              </div>
            );
          },
        },
        {
          header: '',
          cell: (d) =>
            d.status === 'pending' ? null : (
              <button
                type="button"
                className="secondary"
                disabled={busy}
                aria-label={`Replay delivery ${d.id}`}
                onClick={() => onReplay(d)}
              >
                Replay
              </button>
            ),
        },
      ]}
    />
  );
}
