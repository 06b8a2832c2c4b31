// Creating a promotion. Amounts are typed in major units and percentages in percent; both are turned
// into the API's integers on the digits. The checks whose API message would speak in the API's units
// (basis points, instants in UTC) are made here first, in what the operator typed; the rest are the
// API's, and its typed errors are shown beside the field they name.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import { Field, FormError } from '../../components/ui';
import { currencyExponent, fieldError, parseMinor } from '../customers/input';
import type { Promotion } from './types';

const FIELDS = [
  'name',
  'percent_off_bps',
  'amount_off',
  'currency',
  'max_discount_amount',
  'duration',
  'duration_periods',
  'starts_at',
  'expires_at',
  'time_zone',
  'max_redemptions',
  'max_per_customer',
  'applies_to',
  'minimum_amount',
];

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function PromotionForm({
  onCreated,
  onCancel,
}: {
  onCreated: (p: Promotion) => void;
  onCancel: () => void;
}) {
  const [f, setF] = useState({
    name: '',
    kind: 'percent' as 'percent' | 'amount',
    percent: '',
    amount_off: '',
    currency: '',
    max_discount: '',
    duration: 'once' as Promotion['duration'],
    periods: '',
    starts_at: '',
    expires_at: '',
    time_zone: browserZone(),
    max_redemptions: '',
    max_per_customer: '1',
    applies_to: '',
    minimum: '',
    first_time_only: false,
    stackable: false,
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((old) => ({ ...old, [k]: v }));

  /** Builds the request body, or throws the first field error found before sending. */
  function body(): Record<string, unknown> {
    const exponent = f.currency.trim() ? currencyExponent(f.currency.trim()) : 2;
    const money = (text: string, param: string) => {
      const r = parseMinor(text, exponent);
      if ('error' in r) throw fieldError(param, r.error);
      return r.value;
    };
    const whole = (text: string, param: string) => {
      if (!/^\s*\d+\s*$/.test(text)) throw fieldError(param, 'enter a whole number');
      return Number(text);
    };
    const out: Record<string, unknown> = { name: f.name, duration: f.duration };
    if (f.kind === 'percent') {
      const r = parseMinor(f.percent, 2);
      if ('error' in r) throw fieldError('percent_off_bps', r.error.replace('positive number', 'percentage'));
      if (r.value < 1) throw fieldError('percent_off_bps', 'must be more than 0%');
      if (r.value > 10_000) throw fieldError('percent_off_bps', 'must be at most 100%');
      out.percent_off_bps = r.value;
      if (f.max_discount.trim()) out.max_discount_amount = money(f.max_discount, 'max_discount_amount');
    } else {
      out.amount_off = money(f.amount_off, 'amount_off');
    }
    if (f.currency.trim()) out.currency = f.currency.trim().toLowerCase();
    if (f.duration === 'repeating' || f.periods.trim())
      out.duration_periods = whole(f.periods, 'duration_periods');
    // Both are read in the same zone, from the start of one day to the end of the other.
    if (f.starts_at && f.expires_at && f.expires_at < f.starts_at)
      throw fieldError('expires_at', `must be on or after the start date (${f.starts_at})`);
    if (f.starts_at) out.starts_at = f.starts_at;
    if (f.expires_at) out.expires_at = f.expires_at;
    if (f.time_zone.trim()) out.time_zone = f.time_zone.trim();
    if (f.max_redemptions.trim()) out.max_redemptions = whole(f.max_redemptions, 'max_redemptions');
    if (f.max_per_customer.trim()) out.max_per_customer = whole(f.max_per_customer, 'max_per_customer');
    const plans = f.applies_to
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (plans.length) out.applies_to = plans;
    if (f.minimum.trim()) out.minimum_amount = money(f.minimum, 'minimum_amount');
    if (f.first_time_only) out.first_time_only = true;
    if (f.stackable) out.stackable = true;
    return out;
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      onCreated(await api<Promotion>('POST', '/v1/promotions', body()));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const cur = f.currency.trim().toUpperCase() || 'currency';
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="new-promotion" noValidate>
      <h2 id="new-promotion">New promotion</h2>
      <div className="form-row top">
        <Field label="Name" name="name" error={error} hint="For you; customers see the code">
          <input name="name" value={f.name} onChange={(e) => set('name', e.target.value)} />
        </Field>
        <Field label="Discount" name="kind">
          <select
            name="kind"
            value={f.kind}
            onChange={(e) => set('kind', e.target.value as 'percent' | 'amount')}
          >
            <option value="percent">Percentage off</option>
            <option value="amount">Fixed amount off</option>
          </select>
        </Field>
        {f.kind === 'percent' ? (
          <Field
            label="Percent off"
            name="percent_off_bps"
            error={error}
            hint="e.g. 20 or 12.5 (sent as basis points: 20% = 2000)"
          >
            <input
              name="percent_off_bps"
              inputMode="decimal"
              value={f.percent}
              onChange={(e) => set('percent', e.target.value)}
            />
          </Field>
        ) : (
          <Field label={`Amount off (${cur})`} name="amount_off" error={error} hint="per discounted invoice">
            <input
              name="amount_off"
              inputMode="decimal"
              value={f.amount_off}
              onChange={(e) => set('amount_off', e.target.value)}
            />
          </Field>
        )}
        <Field label="Currency" name="currency" error={error} hint="usd, eur… (needed for amounts)">
          <input
            name="currency"
            value={f.currency}
            maxLength={3}
            onChange={(e) => set('currency', e.target.value)}
            placeholder="usd"
          />
        </Field>
        {f.kind === 'percent' ? (
          <Field
            label="Cap per invoice"
            name="max_discount_amount"
            error={error}
            hint={`optional, in ${cur}`}
          >
            <input
              name="max_discount_amount"
              inputMode="decimal"
              value={f.max_discount}
              onChange={(e) => set('max_discount', e.target.value)}
            />
          </Field>
        ) : null}
      </div>
      <div className="form-row top">
        <Field label="Duration" name="duration" error={error}>
          <select
            name="duration"
            value={f.duration}
            onChange={(e) => set('duration', e.target.value as Promotion['duration'])}
          >
            <option value="once">Once (the next invoice)</option>
            <option value="repeating">Repeating</option>
            <option value="forever">Forever</option>
          </select>
        </Field>
        {f.duration === 'repeating' ? (
          <Field label="Billing periods" name="duration_periods" error={error} hint="invoices discounted">
            <input
              name="duration_periods"
              inputMode="numeric"
              value={f.periods}
              onChange={(e) => set('periods', e.target.value)}
            />
          </Field>
        ) : null}
        <Field label="Starts" name="starts_at" error={error} hint="optional; start of that day">
          <input
            name="starts_at"
            type="date"
            value={f.starts_at}
            onChange={(e) => set('starts_at', e.target.value)}
          />
        </Field>
        <Field label="Expires" name="expires_at" error={error} hint="optional; end of that day">
          <input
            name="expires_at"
            type="date"
            value={f.expires_at}
            onChange={(e) => set('expires_at', e.target.value)}
          />
        </Field>
        <Field label="Time zone" name="time_zone" error={error} hint="IANA zone the dates are read in">
          <input name="time_zone" value={f.time_zone} onChange={(e) => set('time_zone', e.target.value)} />
        </Field>
      </div>
      <div className="form-row top">
        <Field
          label="Max redemptions"
          name="max_redemptions"
          error={error}
          hint="over all codes; empty: no limit"
        >
          <input
            name="max_redemptions"
            inputMode="numeric"
            value={f.max_redemptions}
            onChange={(e) => set('max_redemptions', e.target.value)}
          />
        </Field>
        <Field label="Per customer" name="max_per_customer" error={error}>
          <input
            name="max_per_customer"
            inputMode="numeric"
            value={f.max_per_customer}
            onChange={(e) => set('max_per_customer', e.target.value)}
          />
        </Field>
        <Field label="Minimum amount" name="minimum_amount" error={error} hint={`optional, in ${cur}`}>
          <input
            name="minimum_amount"
            inputMode="decimal"
            value={f.minimum}
            onChange={(e) => set('minimum', e.target.value)}
          />
        </Field>
        <Field
          label="Only plans"
          name="applies_to"
          error={error}
          hint="plan ids, comma separated; empty: all"
        >
          <input name="applies_to" value={f.applies_to} onChange={(e) => set('applies_to', e.target.value)} />
        </Field>
      </div>
      <div className="checks">
        <label>
          <input
            type="checkbox"
            checked={f.first_time_only}
            onChange={(e) => set('first_time_only', e.target.checked)}
          />{' '}
          First-time customers only (never paid)
        </label>
        <label>
          <input type="checkbox" checked={f.stackable} onChange={(e) => set('stackable', e.target.checked)} />{' '}
          Stackable with other stackable promotions
        </label>
      </div>
      <FormError error={error} fields={FIELDS} />
      <div className="row-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create promotion'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
