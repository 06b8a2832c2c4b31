// A customer's grants (its lots, with what they still hold and when they expire), each reversible
// once, with a reason.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import { Field, FormError, formatAmount, formatTime, PagedTable } from '../../components/ui';
import { fieldError } from './input';
import { AssetFilter } from './AssetFilter';
import { type Asset, assetFormat, type Grant } from './types';

interface Reversal {
  id: string;
  unspent_reversed: number;
  taken_from_other_lots: number;
  debt_added: number;
  forgiven: number;
}

function sourceText(g: Grant) {
  if (g.source.type === 'manual') return `by hand (${g.source.actor ?? 'unknown'})`;
  return `${g.source.type} ${g.source.id ?? ''}`.trim();
}

export function GrantsPanel({
  customer,
  assets,
  reloadKey,
  onChanged,
}: {
  customer: string;
  assets: Map<string, Asset>;
  reloadKey: number;
  onChanged: () => void;
}) {
  const [asset, setAsset] = useState('');
  const [reversing, setReversing] = useState<Grant | null>(null);

  return (
    <section className="panel" aria-labelledby="grants-title">
      <div className="panel-head">
        <h2 id="grants-title">Grants</h2>
        <AssetFilter label="Grants of asset" assets={assets} value={asset} onChange={setAsset} />
      </div>
      {reversing ? (
        <ReverseForm
          customer={customer}
          grant={reversing}
          assets={assets}
          onClose={() => setReversing(null)}
          onReversed={() => {
            setReversing(null);
            onChanged();
          }}
        />
      ) : null}
      <PagedTable<Grant>
        path={`/v1/customers/${customer}/grants`}
        params={{ asset: asset || undefined }}
        reloadKey={reloadKey}
        pageSize={10}
        empty="No grants yet."
        columns={[
          { header: 'Granted', cell: (g) => formatTime(g.granted_at) },
          { header: 'Asset', cell: (g) => g.asset },
          {
            header: 'Amount',
            className: 'num',
            cell: (g) => formatAmount(g.amount, assetFormat(g.asset, assets)),
          },
          {
            header: 'Remaining',
            className: 'num',
            cell: (g) => formatAmount(g.remaining, assetFormat(g.asset, assets)),
          },
          {
            header: 'Expires',
            cell: (g) =>
              g.expires_at ? (
                <span className={new Date(g.expires_at) <= new Date() ? 'muted' : undefined}>
                  {formatTime(g.expires_at)}
                </span>
              ) : (
                <span className="muted">never</span>
              ),
          },
          {
            header: 'Source and reason',
            cell: (g) => (
              <>
                <div>{g.reason ?? <span className="muted">—</span>}</div>
                <div className="muted small">{sourceText(g)}</div>
              </>
            ),
          },
          {
            header: '',
            cell: (g) =>
              g.reversed ? (
                <span className="badge badge-bad">reversed</span>
              ) : (
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Reverse grant ${g.id}`}
                  onClick={() => setReversing(g)}
                >
                  Reverse…
                </button>
              ),
          },
        ]}
      />
    </section>
  );
}

function ReverseForm({
  customer,
  grant,
  assets,
  onClose,
  onReversed,
}: {
  customer: string;
  grant: Grant;
  assets: Map<string, Asset>;
  onClose: () => void;
  onReversed: (r: Reversal) => void;
}) {
  const [reason, setReason] = useState('');
  const [reference, setReference] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const policy = assets.get(grant.asset)?.negative_policy;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!reason.trim())
      return setError(fieldError('reason', 'Say why: the reason is kept with the reversal'));
    setBusy(true);
    try {
      const r = await api<Reversal>('POST', `/v1/customers/${customer}/reversals`, {
        grant: grant.id,
        reason: reason.trim(),
        ...(reference.trim() ? { reference: reference.trim() } : {}),
      });
      onReversed(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const fmt = assetFormat(grant.asset, assets);
  return (
    <form className="subpanel" onSubmit={submit} aria-label={`Reverse grant ${grant.id}`} noValidate>
      <h3>
        Reverse {formatAmount(grant.amount, fmt)} of {grant.asset} granted {formatTime(grant.granted_at)}
      </h3>
      <p className="muted">
        What the grant still holds ({formatAmount(grant.remaining, fmt)}) is taken back at once. The part
        already spent is{' '}
        {policy === 'allow_negative'
          ? 'taken from the customer’s other lots, and what they cannot cover becomes debt'
          : 'forgiven (the asset’s policy)'}
        . A grant is reversed at most once.
      </p>
      <div className="form-row">
        <Field label="Reason" name="reason" error={error}>
          <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </Field>
        <Field label="Reference (optional)" name="reference" error={error} hint="e.g. the refund id">
          <input name="reference" value={reference} onChange={(e) => setReference(e.target.value)} />
        </Field>
      </div>
      <FormError error={error} fields={['reason', 'reference']} />
      <div className="row-actions">
        <button type="submit" className="danger" disabled={busy}>
          {busy ? 'Reversing…' : 'Reverse grant'}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
