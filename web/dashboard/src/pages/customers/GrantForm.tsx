// A grant by hand: asset, amount (major units for money), expiry, reason. The reference that makes the
// grant idempotent is drawn once per form, so a double submit or a retry after a network error
// grants once.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import { Field, FormError, formatAmount } from '../../components/ui';
import { useActor } from './actor';
import { fieldError, parseAssetAmount } from './input';
import { ActorField } from './Payouts';
import type { Asset, Grant } from './types';

const FIELDS = ['asset', 'amount', 'expires', 'duration', 'at', 'reason', 'actor'];

function newReference() {
  return `dashboard_${crypto.randomUUID()}`;
}

export function GrantForm({
  customer,
  assets,
  onGranted,
}: {
  customer: string;
  assets: Asset[];
  onGranted: (grant: Grant) => void;
}) {
  const [actor, setActor] = useActor();
  const [asset, setAsset] = useState('');
  const [amount, setAmount] = useState('');
  const [expiry, setExpiry] = useState<'never' | 'after' | 'at'>('never');
  const [duration, setDuration] = useState('P30D');
  const [at, setAt] = useState('');
  const [reason, setReason] = useState('');
  const [reference, setReference] = useState(newReference);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const chosen = assets.find((a) => a.key === asset);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setDone(null);
    if (!asset) return setError(fieldError('asset', 'Choose the asset to grant'));
    const parsed = parseAssetAmount(amount, chosen);
    if ('error' in parsed) return setError(fieldError('amount', parsed.error));
    if (expiry === 'at' && !at) return setError(fieldError('at', 'Choose when the grant expires'));
    setBusy(true);
    try {
      const grant = await api<Grant>('POST', `/v1/customers/${customer}/grants`, {
        asset,
        amount: parsed.value,
        expires:
          expiry === 'never'
            ? { type: 'never' }
            : expiry === 'after'
              ? { type: 'after', duration }
              : { type: 'at', at: new Date(at).toISOString() },
        reason,
        reference,
        source: { type: 'manual', actor: actor.trim() },
      });
      setDone(`Granted ${chosen ? formatAmount(grant.amount, chosen) : grant.amount} (${grant.id}).`);
      setAmount('');
      setReason('');
      setReference(newReference());
      onGranted(grant);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby="grant-title" noValidate>
      <h2 id="grant-title">Grant by hand</h2>
      <div className="form-row top">
        <Field label="Asset" name="asset" error={error}>
          <select name="asset" value={asset} onChange={(e) => setAsset(e.target.value)}>
            <option value="">Choose…</option>
            {assets.map((a) => (
              <option key={a.key} value={a.key}>
                {a.key} ({a.kind === 'money' ? a.currency : (a.unit ?? a.kind)}, {a.purpose})
              </option>
            ))}
          </select>
        </Field>
        <Field
          label={chosen?.kind === 'money' ? `Amount (${chosen.currency?.toUpperCase()})` : 'Amount'}
          name="amount"
          error={error}
          hint={
            chosen?.kind === 'money'
              ? 'e.g. 25.00'
              : chosen
                ? `whole ${chosen.unit ?? chosen.kind}`
                : undefined
          }
        >
          <input
            name="amount"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
          />
        </Field>
        <Field label="Expires" name="expires" error={error}>
          <select
            name="expires"
            value={expiry}
            onChange={(e) => setExpiry(e.target.value as 'never' | 'after' | 'at')}
          >
            <option value="never">Never</option>
            <option value="after">After a duration</option>
            <option value="at">At a date and time</option>
          </select>
        </Field>
        {expiry === 'after' ? (
          <Field label="Duration" name="duration" error={error} hint="ISO 8601: P30D, P1M, PT12H">
            <input name="duration" value={duration} onChange={(e) => setDuration(e.target.value)} />
          </Field>
        ) : null}
        {expiry === 'at' ? (
          <Field label="Expires at (your time zone)" name="at" error={error}>
            <input name="at" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />
          </Field>
        ) : null}
      </div>
      <div className="form-row top">
        <div className="grow-2">
          <Field label="Reason" name="reason" error={error} hint="Shown on the customer's statement">
            <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          </Field>
        </div>
        <ActorField error={error} names={['actor']} actor={actor} onChange={setActor} label="Granted by" />
      </div>
      <FormError error={error} fields={FIELDS} />
      {done ? (
        <div className="notice notice-info" role="status">
          {done}
        </div>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Granting…' : 'Grant'}
      </button>
    </form>
  );
}
