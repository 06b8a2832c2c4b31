// Stripe: whether the workspace is connected (signing secrets for inbound events, an API key for the
// invoice items Perks adds), the settings form, and what failed: events Perks could not apply and
// calls to Stripe it gave up on, each with its reason and a retry.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import { Field, FormError, formatTime, Notice, PagedTable, useResource } from '../../components/ui';
import type { StripeCall, StripeEvent, StripeSettings } from './types';

export function StripeStatus() {
  const { data: s, error, reload } = useResource<StripeSettings>('/v1/stripe/settings');
  const [editing, setEditing] = useState(false);
  const inbound = (s?.webhook_secrets.length ?? 0) > 0;
  const outbound = s?.api_key != null;
  return (
    <section className="panel" aria-labelledby="stripe-title">
      <div className="panel-head">
        <h2 id="stripe-title">Stripe</h2>
        {editing ? null : (
          <button type="button" className="secondary" onClick={() => setEditing(true)}>
            Change settings
          </button>
        )}
      </div>
      <Notice error={error} />
      {s ? (
        <div className="stats">
          <div className="stat" data-stripe="inbound">
            <div className="label">Events from Stripe</div>
            <div className="value small-value">
              <span className={`badge ${inbound ? 'badge-ok' : 'badge-bad'}`}>
                {inbound ? 'connected' : 'not connected'}
              </span>
            </div>
            <div className="muted small">
              {inbound
                ? `signing secret${s.webhook_secrets.length > 1 ? 's' : ''} …${s.webhook_secrets.map((w) => w.last4).join(', …')}`
                : 'add the signing secret of your Stripe webhook'}
            </div>
          </div>
          <div className="stat" data-stripe="outbound">
            <div className="label">Calls to Stripe</div>
            <div className="value small-value">
              <span className={`badge ${outbound ? 'badge-ok' : 'badge-bad'}`}>
                {outbound ? (s.api_key!.livemode ? 'live key' : 'test key') : 'no API key'}
              </span>
            </div>
            <div className="muted small">
              {outbound ? `key …${s.api_key!.last4}` : 'needed to add discounts and credits to invoices'}
            </div>
          </div>
          <div className="stat stat-wide">
            <div className="label">Webhook URL to give Stripe</div>
            <code className="small">
              {window.location.origin}
              {s.webhook_path}
            </code>
            <div className="muted small">
              plan units from metadata key <code>{s.plan_units_key}</code>
              {s.updated_at ? ` · updated ${formatTime(s.updated_at)}` : ''}
            </div>
          </div>
        </div>
      ) : null}
      {editing ? (
        <StripeSettingsForm
          onDone={() => {
            setEditing(false);
            reload();
          }}
          onCancel={() => setEditing(false)}
        />
      ) : null}
    </section>
  );
}

function StripeSettingsForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [secrets, setSecrets] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [unitsKey, setUnitsKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const body: Record<string, unknown> = {};
    const list = secrets
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean);
    if (list.length) body.webhook_secrets = list;
    if (apiKey.trim()) body.api_key = apiKey.trim();
    if (unitsKey.trim()) body.plan_units_key = unitsKey.trim();
    setBusy(true);
    try {
      await api('PUT', '/v1/stripe/settings', body);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="subpanel" onSubmit={submit} aria-label="Stripe settings" noValidate>
      <p className="muted small">Fields left empty keep their value. Secrets are never shown again.</p>
      <Field
        label="Signing secrets"
        name="webhook_secrets"
        error={error}
        hint="whsec_…; replaces the list. During a rotation give the new and the old one."
      >
        <input
          name="webhook_secrets"
          value={secrets}
          onChange={(e) => setSecrets(e.target.value)}
          autoComplete="off"
        />
      </Field>
      <div className="form-row">
        <Field
          label="API key"
          name="api_key"
          error={error}
          hint="a restricted key (rk_…) with invoice items write"
        >
          <input
            name="api_key"
            type="password"
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
            autoComplete="off"
          />
        </Field>
        <Field label="Plan units metadata key" name="plan_units_key" error={error}>
          <input name="plan_units_key" value={unitsKey} onChange={(e) => setUnitsKey(e.target.value)} />
        </Field>
      </div>
      <FormError error={error} fields={['webhook_secrets', 'api_key', 'plan_units_key']} />
      <div className="row-actions">
        <button type="submit" disabled={busy}>
          Save
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Recent failures: Stripe events Perks could not apply, and calls to Stripe it gave up on. */
export function FailedEvents() {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function retry(path: string, what: string) {
    setError(null);
    setDone(null);
    setBusy(path);
    try {
      const res = await api<{ status: string }>('POST', path);
      setDone(`${what}: ${res.status}.`);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="panel" aria-labelledby="failed-title">
      <h2 id="failed-title">Recent failures</h2>
      <Notice error={error} />
      <Notice kind="info" error={done} />
      <h3>Stripe events Perks could not apply</h3>
      <PagedTable<StripeEvent>
        path="/v1/stripe/events"
        params={{ status: 'failed' }}
        reloadKey={version}
        pageSize={10}
        empty="No failed Stripe events."
        columns={[
          { header: 'Received', cell: (e) => formatTime(e.received_at) },
          {
            header: 'Event',
            cell: (e) => (
              <>
                <code>{e.type}</code>
                <div className="muted small mono">{e.stripe_event_id}</div>
              </>
            ),
          },
          { header: 'Reason', cell: (e) => <span className="small">{e.reason ?? '—'}</span> },
          { header: 'Attempts', className: 'num', cell: (e) => e.attempts },
          {
            header: '',
            cell: (e) => (
              <button
                type="button"
                className="secondary"
                disabled={busy !== null}
                onClick={() =>
                  void retry(`/v1/stripe/events/${e.id}/retry`, `Stripe event ${e.stripe_event_id}`)
                }
              >
                Retry
              </button>
            ),
          },
        ]}
      />
      <h3>Calls to Stripe that gave up</h3>
      <PagedTable<StripeCall>
        path="/v1/stripe/calls"
        params={{ status: 'failed' }}
        reloadKey={version}
        pageSize={10}
        empty="No failed calls to Stripe."
        columns={[
          { header: 'Created', cell: (c) => formatTime(c.created_at) },
          { header: 'Call', cell: (c) => <code>{c.operation}</code> },
          { header: 'Error', cell: (c) => <span className="small">{c.last_error ?? '—'}</span> },
          { header: 'Attempts', className: 'num', cell: (c) => `${c.attempts} / ${c.max_attempts}` },
          {
            header: '',
            cell: (c) => (
              <button
                type="button"
                className="secondary"
                disabled={busy !== null}
                onClick={() => void retry(`/v1/stripe/calls/${c.id}/retry`, `Call ${c.id}`)}
              >
                Retry
              </button>
            ),
          },
        ]}
      />
    </section>
  );
}
