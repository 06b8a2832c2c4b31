// The product's webhook endpoints: create (the secret is shown once), enable or disable, rotate the
// secret, and a link to each endpoint's deliveries.
import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiError } from '../../api';
import { Field, FormError, formatTime, Notice, PagedTable } from '../../components/ui';
import { linkProps } from '../../router';
import { StatusBadge } from '../customers/Payouts';
import { fieldError } from '../customers/input';
import { SecretNotice } from './SecretNotice';
import type { Endpoint, EndpointWithSecret } from './types';

interface OpenApi {
  paths?: Record<
    string,
    {
      post?: {
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
      };
    }
  >;
}

/** The event types an endpoint may subscribe to, as the API's own OpenAPI document lists them. */
function useEventTypes(): string[] {
  const [types, setTypes] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    api<OpenApi>('GET', '/v1/openapi.json')
      .then((doc) => {
        const prop = doc.paths?.['/v1/webhook_endpoints']?.post?.requestBody?.content?.['application/json']
          ?.schema?.properties?.event_types as { items?: { enum?: string[] } } | undefined;
        if (live) setTypes((prop?.items?.enum ?? []).filter((t) => t !== '*'));
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);
  return types;
}

export function WebhookEndpoints() {
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ secret: string; what: string } | null>(null);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function act(e: Endpoint, action: 'enable' | 'disable' | 'rotate_secret') {
    setError(null);
    setBusy(e.id);
    try {
      const body =
        action === 'enable' ? { recover: true } : action === 'disable' ? {} : { grace_period_s: 86400 };
      const res = await api<EndpointWithSecret>('POST', `/v1/webhook_endpoints/${e.id}/${action}`, body);
      if (action === 'rotate_secret')
        setSecret({
          secret: res.secret,
          what: `New signing secret for ${e.url}. The old one keeps signing for 24 hours.`,
        });
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="panel" aria-labelledby="endpoints-title">
      <div className="panel-head">
        <h2 id="endpoints-title">Webhook endpoints</h2>
        {creating ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            Add endpoint
          </button>
        )}
      </div>
      {secret ? (
        <SecretNotice secret={secret.secret} what={secret.what} onDismiss={() => setSecret(null)} />
      ) : null}
      {creating ? (
        <CreateEndpoint
          onCancel={() => setCreating(false)}
          onCreated={(e) => {
            setCreating(false);
            setSecret({ secret: e.secret, what: `Signing secret for ${e.url}.` });
            setVersion((v) => v + 1);
          }}
        />
      ) : null}
      <Notice error={error} />
      <PagedTable<Endpoint>
        path="/v1/webhook_endpoints"
        pageSize={20}
        reloadKey={version}
        empty="No endpoints: add one to have Perks tell your product about rewards, referrals and payouts."
        columns={[
          {
            header: 'Endpoint',
            cell: (e) => (
              <>
                <a {...linkProps(`/integrations/webhooks/${e.id}`)} className="url">
                  {e.url}
                </a>
                {e.description ? <div className="muted small">{e.description}</div> : null}
              </>
            ),
          },
          {
            header: 'Events',
            cell: (e) =>
              e.event_types.includes('*') ? (
                'all'
              ) : (
                <span className="small" title={e.event_types.join(', ')}>
                  {e.event_types.length <= 2 ? e.event_types.join(', ') : `${e.event_types.length} types`}
                </span>
              ),
          },
          {
            header: 'Status',
            cell: (e) => (
              <span data-endpoint-status={e.id}>
                <StatusBadge status={e.status} />
                {e.disabled_reason ? <div className="muted small clamp">{e.disabled_reason}</div> : null}
                {e.status === 'enabled' && e.failing_since ? (
                  <div className="small warn">failing since {formatTime(e.failing_since)}</div>
                ) : null}
              </span>
            ),
          },
          { header: 'Last success', cell: (e) => formatTime(e.last_success_at) },
          {
            header: '',
            cell: (e) => (
              <div className="row-actions">
                <a {...linkProps(`/integrations/webhooks/${e.id}`)} className="button secondary">
                  Deliveries
                </a>
                {e.status === 'enabled' ? (
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy === e.id}
                    onClick={() => void act(e, 'disable')}
                  >
                    Disable
                  </button>
                ) : (
                  <button type="button" disabled={busy === e.id} onClick={() => void act(e, 'enable')}>
                    Enable
                  </button>
                )}
                <button
                  type="button"
                  className="secondary"
                  disabled={busy === e.id}
                  onClick={() => void act(e, 'rotate_secret')}
                >
                  Rotate secret
                </button>
              </div>
            ),
          },
        ]}
      />
    </section>
  );
}

function CreateEndpoint({
  onCreated,
  onCancel,
}: {
  onCreated: (e: EndpointWithSecret) => void;
  onCancel: () => void;
}) {
  const types = useEventTypes();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [all, setAll] = useState(true);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const typesError = error instanceof ApiError ? error.forField('event_types') : undefined;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!all && chosen.size === 0)
      return setError(fieldError('event_types', 'Choose at least one event type'));
    setBusy(true);
    try {
      onCreated(
        await api<EndpointWithSecret>('POST', '/v1/webhook_endpoints', {
          url: url.trim(),
          event_types: all ? ['*'] : [...chosen],
          ...(description.trim() ? { description: description.trim() } : {}),
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="subpanel" onSubmit={submit} aria-label="New webhook endpoint" noValidate>
      <div className="form-row">
        <Field label="URL" name="url" error={error} hint="https://…; Perks POSTs signed events here">
          <input
            name="url"
            type="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://app.example.com/webhooks/perks"
          />
        </Field>
        <Field label="Description" name="description" error={error} hint="optional">
          <input name="description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
      </div>
      <fieldset className={`field event-types${typesError ? ' field-invalid' : ''}`} data-field="event_types">
        <legend className="field-label">Events</legend>
        <label>
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> All event types
        </label>
        {all
          ? null
          : types.map((t) => (
              <label key={t}>
                <input
                  type="checkbox"
                  checked={chosen.has(t)}
                  onChange={(e) =>
                    setChosen((old) => {
                      const next = new Set(old);
                      if (e.target.checked) next.add(t);
                      else next.delete(t);
                      return next;
                    })
                  }
                />{' '}
                <code>{t}</code>
              </label>
            ))}
        {typesError ? (
          <span className="field-error" role="alert">
            {typesError}
          </span>
        ) : null}
      </fieldset>
      <FormError error={error} fields={['url', 'description', 'event_types']} />
      <div className="row-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add endpoint'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
