// Search referrals by customer or code, status, rejection reason and program. The search is in the
// query string (shareable, survives a reload); each page of results is one keyset page of the API.
import { type FormEvent, useState } from 'react';
import { api, type Page, qs } from '../../api';
import { type Column, Field, FormError, PagedTable, formatTime, useResource } from '../../components/ui';
import { navigate } from '../../router';
import { CustomerLink, formatAssetAmount, ReferralLink, StatusBadge, useAssets, words } from './shared';
import { REJECTION_REASONS, type ReferralListItem, STATUSES } from './types';

const FIELDS = ['customer', 'code', 'role', 'status', 'reason', 'program'];

interface Filters {
  by: 'customer' | 'code';
  q: string;
  role: string;
  status: string;
  reason: string;
  program: string;
}

function fromQuery(query: URLSearchParams): Filters {
  return {
    by: query.get('by') === 'code' ? 'code' : 'customer',
    q: query.get('q') ?? '',
    role: query.get('role') ?? 'any',
    status: query.get('status') ?? '',
    reason: query.get('reason') ?? '',
    program: query.get('program') ?? '',
  };
}

/** The API's filters for a search: the text is a customer or a code, as the operator chose. */
function apiParams(f: Filters): Record<string, string | undefined> {
  const text = f.q.trim();
  return {
    customer: f.by === 'customer' && text ? text : undefined,
    role: f.by === 'customer' && text && f.role !== 'any' ? f.role : undefined,
    code: f.by === 'code' && text ? text : undefined,
    status: f.status || undefined,
    reason: f.reason || undefined,
    program: f.program || undefined,
  };
}

export function ReferralSearch({ query }: { query: URLSearchParams }) {
  const applied = fromQuery(query);
  const [form, setForm] = useState<Filters>(applied);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const programs = useResource<Page<{ key: string; name: string }>>('/v1/programs?limit=100');
  const assets = useAssets();
  const set = (patch: Partial<Filters>) => setForm((f) => ({ ...f, ...patch }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const text = form.q.trim();
    if (/^ref_[\w-]+$/.test(text)) return navigate(`/referrals/${encodeURIComponent(text)}`);
    setBusy(true);
    try {
      // One small request first, so an unknown customer or code is shown beside its field.
      await api('GET', `/v1/referrals${qs({ ...apiParams(form), limit: 1 })}`);
      setError(null);
      navigate(
        `/referrals${qs({
          by: form.by === 'code' ? 'code' : undefined,
          q: text,
          role: form.role === 'any' ? undefined : form.role,
          status: form.status,
          reason: form.reason,
          program: form.program,
        })}`,
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const columns: Column<ReferralListItem>[] = [
    { header: 'Referral', cell: (r) => <ReferralLink id={r.id} /> },
    { header: 'Program', cell: (r) => `${r.program} v${r.program_version}` },
    { header: 'Referrer', cell: (r) => <CustomerLink id={r.referrer} external={r.referrer_external_id} /> },
    { header: 'Referee', cell: (r) => <CustomerLink id={r.referee} external={r.referee_external_id} /> },
    {
      header: 'How',
      cell: (r) => (
        <>
          {r.method}
          {r.code ? <span className="mono muted"> {r.code}</span> : null}
        </>
      ),
    },
    {
      header: 'Status',
      cell: (r) => (
        <>
          <StatusBadge status={r.status} />
          {r.reason ? (
            <div className="fine muted" title={r.reason_message ?? undefined}>
              {words(r.reason)}
            </div>
          ) : null}
        </>
      ),
    },
    {
      header: 'Rewards',
      cell: (r) =>
        r.rewards.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="reward-list">
            {r.rewards.map((w) => (
              <li key={`${w.recipient}-${w.asset}`}>
                <span className="muted">{w.recipient}</span> {formatAssetAmount(w.net, w.asset, assets)}
                {w.reversed > 0 ? (
                  <span className="muted fine">
                    {' '}
                    ({formatAssetAmount(w.reversed, w.asset, assets)} reversed)
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        ),
    },
    { header: 'Attributed', cell: (r) => <span className="nowrap">{formatTime(r.attributed_at)}</span> },
  ];

  return (
    <>
      <form className="panel" onSubmit={submit} role="search" aria-label="Search referrals" noValidate>
        <div className="form-row">
          <Field label="Search by" name="by">
            <select name="by" value={form.by} onChange={(e) => set({ by: e.target.value as Filters['by'] })}>
              <option value="customer">Customer</option>
              <option value="code">Referral code</option>
            </select>
          </Field>
          <Field
            label={form.by === 'code' ? 'Referral code' : 'Customer'}
            name={form.by}
            error={error}
            hint={
              form.by === 'code'
                ? 'Any case; spaces and hyphens ignored'
                : 'External id or Perks id (or a ref_ id)'
            }
          >
            <input
              name={form.by}
              className="wide-input"
              value={form.q}
              onChange={(e) => set({ q: e.target.value })}
              placeholder={form.by === 'code' ? 'K7QM3XPA' : 'team_42'}
              spellCheck={false}
            />
          </Field>
          {form.by === 'customer' ? (
            <Field label="As" name="role" error={error}>
              <select name="role" value={form.role} onChange={(e) => set({ role: e.target.value })}>
                <option value="any">Referrer or referee</option>
                <option value="referrer">Referrer</option>
                <option value="referee">Referee</option>
              </select>
            </Field>
          ) : null}
        </div>
        <div className="form-row">
          <Field label="Status" name="status" error={error}>
            <select name="status" value={form.status} onChange={(e) => set({ status: e.target.value })}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Rejection reason" name="reason" error={error}>
            <select name="reason" value={form.reason} onChange={(e) => set({ reason: e.target.value })}>
              <option value="">Any reason</option>
              {REJECTION_REASONS.map((r) => (
                <option key={r} value={r}>
                  {words(r)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Program" name="program" error={error}>
            <select name="program" value={form.program} onChange={(e) => set({ program: e.target.value })}>
              <option value="">All programs</option>
              {(programs.data?.data ?? []).map((p) => (
                <option key={p.key} value={p.key}>
                  {p.name} ({p.key})
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" className="form-row-submit" disabled={busy}>
            {busy ? 'Searching…' : 'Search'}
          </button>
        </div>
        <FormError error={error} fields={FIELDS} />
      </form>
      <PagedTable<ReferralListItem>
        path="/v1/referrals"
        params={apiParams(applied)}
        columns={columns}
        empty="No referral matches this search."
      />
    </>
  );
}
