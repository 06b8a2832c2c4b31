// The audit log of referral repairs and changes: the whole workspace's (paged, filtered by action or
// customer), or one referral's entries on its page.
import { type FormEvent, useState } from 'react';
import { api, qs } from '../../api';
import { type Column, Field, FormError, PagedTable, Table, formatTime } from '../../components/ui';
import { navigate } from '../../router';
import { CustomerLink, ReferralLink, words } from './shared';
import { AUDIT_ACTIONS, type AuditEntry } from './types';

/** A value of an entry's details: a customer as a link by its external id, a time formatted. */
function DetailValue({ value, names }: { value: unknown; names: Record<string, string> | undefined }) {
  if (typeof value === 'string' && value.startsWith('cus_')) {
    return <CustomerLink id={value} {...(names?.[value] ? { external: names[value] } : {})} />;
  }
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:/.test(value)) return <>{formatTime(value)}</>;
  return <>{typeof value === 'string' ? value : JSON.stringify(value)}</>;
}

/** The details of an entry: `from → to` for a reassignment, the other facts as `key: value`. */
function Details({ entry }: { entry: AuditEntry }) {
  const d = entry.details;
  const moved = typeof d.from === 'string' && typeof d.to === 'string';
  const rest = Object.entries(d).filter(([k]) => !(moved && (k === 'from' || k === 'to')));
  return (
    <ul className="details-list">
      {moved ? (
        <li>
          <DetailValue value={d.from} names={entry.customers} /> →{' '}
          <DetailValue value={d.to} names={entry.customers} />
        </li>
      ) : null}
      {rest.map(([k, v]) => (
        <li key={k}>
          <span className="muted">{words(k)}:</span> <DetailValue value={v} names={entry.customers} />
        </li>
      ))}
    </ul>
  );
}

const columns: Column<AuditEntry>[] = [
  { header: 'When', cell: (a) => <span className="nowrap">{formatTime(a.at)}</span> },
  { header: 'Action', cell: (a) => <span className="badge nowrap">{words(a.action)}</span> },
  { header: 'Referral', cell: (a) => (a.referral ? <ReferralLink id={a.referral} short /> : '—') },
  {
    header: 'Customer',
    cell: (a) => (a.customer ? <CustomerLink id={a.customer} external={a.customer_external_id} /> : '—'),
  },
  { header: 'Actor', cell: (a) => a.actor ?? '—' },
  { header: 'Reason', className: 'reason-cell', cell: (a) => a.reason ?? '—' },
  { header: 'Details', className: 'details-cell', cell: (a) => <Details entry={a} /> },
];

export function AuditEntries({ entries, empty }: { entries: AuditEntry[]; empty: string }) {
  if (entries.length === 0) return <p className="muted">{empty}</p>;
  const shown = columns.filter((c) => c.header !== 'Referral' && c.header !== 'Customer');
  return (
    <div className="table-wrap">
      <Table columns={shown} rows={entries} rowKey={(a) => a.id} />
    </div>
  );
}

export function AuditLog({ query }: { query: URLSearchParams }) {
  const applied = { action: query.get('action') ?? '', customer: query.get('customer') ?? '' };
  const [form, setForm] = useState(applied);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const params = { action: form.action, customer: form.customer.trim() };
    try {
      await api('GET', `/v1/audit_log${qs({ ...params, limit: 1 })}`);
      setError(null);
      navigate(`/referrals${qs({ tab: 'audit', ...params })}`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <form className="panel" onSubmit={submit} role="search" aria-label="Filter the audit log" noValidate>
        <p className="muted intro">
          Every manual attribution, reassignment, suspension, reinstatement, option change and contract, with
          who made it and why. Newest first.
        </p>
        <div className="form-row">
          <Field label="Action" name="action" error={error}>
            <select
              name="action"
              value={form.action}
              onChange={(e) => setForm({ ...form, action: e.target.value })}
            >
              <option value="">Any action</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {words(a)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Customer" name="customer" error={error} hint="The customer the change is about">
            <input
              name="customer"
              value={form.customer}
              onChange={(e) => setForm({ ...form, customer: e.target.value })}
              spellCheck={false}
            />
          </Field>
          <button type="submit" className="form-row-submit">
            Filter
          </button>
        </div>
        <FormError error={error} fields={['action', 'customer']} />
      </form>
      <PagedTable<AuditEntry>
        path="/v1/audit_log"
        params={{ action: applied.action || undefined, customer: applied.customer || undefined }}
        columns={columns}
        empty="No entry in the audit log."
      />
    </>
  );
}
