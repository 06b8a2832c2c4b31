// Payout requests for commission, workspace-wide or for one customer, with approve and reject.
import { useState } from 'react';
import { api, ApiError } from '../../api';
import { Field, formatAmount, formatTime, Notice, PagedTable } from '../../components/ui';
import { linkProps } from '../../router';
import { useActor } from './actor';
import { fieldError } from './input';
import type { Payout, PayoutStatus } from './types';

const STATUSES: { value: PayoutStatus | ''; label: string }[] = [
  { value: 'pending', label: 'Waiting for a decision' },
  { value: 'paid', label: 'Paid' },
  { value: 'rejected', label: 'Rejected' },
  { value: 'canceled', label: 'Canceled' },
  { value: '', label: 'All' },
];

export function StatusBadge({ status }: { status: string }) {
  const kind =
    status === 'paid' ||
    status === 'succeeded' ||
    status === 'enabled' ||
    status === 'active' ||
    status === 'processed'
      ? ' badge-ok'
      : status === 'rejected' || status === 'failed' || status === 'disabled' || status === 'voided'
        ? ' badge-bad'
        : '';
  return <span className={`badge${kind}`}>{status}</span>;
}

/** The "acting as" field: who approves, rejects or grants, with the API's error for it beside it. */
export function ActorField({
  error,
  names,
  actor,
  onChange,
  label = 'Acting as',
}: {
  error: unknown;
  names: string[];
  actor: string;
  onChange: (value: string) => void;
  label?: string;
}) {
  const shown = error instanceof ApiError && names.some((n) => error.forField(n)) ? error : null;
  const name = (shown && names.find((n) => shown.forField(n))) ?? names[0]!;
  return (
    <Field label={label} name={name} error={shown} hint="Your name or e-mail, recorded with what you do">
      <input
        name="actor"
        value={actor}
        onChange={(e) => onChange(e.target.value)}
        placeholder="you@example.com"
        autoComplete="email"
      />
    </Field>
  );
}

export function PayoutsPanel({
  customer,
  title = 'Payouts',
  initialStatus = 'pending',
  onDecided,
}: {
  customer?: string;
  title?: string;
  initialStatus?: PayoutStatus | '';
  /** Called after a decision, e.g. to reload balances that show what is held. */
  onDecided?: () => void;
}) {
  const [status, setStatus] = useState<PayoutStatus | ''>(initialStatus);
  const [done, setDone] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [actor, setActor] = useActor();
  const [error, setError] = useState<unknown>(null);
  const [rejecting, setRejecting] = useState<{ id: string; reason: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function decide(payout: Payout, action: 'approve' | 'reject', reason?: string) {
    setError(null);
    setDone(null);
    if (!actor.trim()) {
      setError(
        fieldError(
          action === 'approve' ? 'approved_by' : 'rejected_by',
          'Say who you are first: it is recorded with the decision',
        ),
      );
      return;
    }
    if (action === 'reject' && !reason) {
      setError(fieldError('reason', "Give a reason for rejecting: it is shown to the customer's team"));
      return;
    }
    setBusy(payout.id);
    try {
      const after = await api<Payout>(
        'POST',
        `/v1/payouts/${payout.id}/${action}`,
        action === 'approve'
          ? { approved_by: actor.trim() }
          : { rejected_by: actor.trim(), ...(reason ? { reason } : {}) },
      );
      setRejecting(null);
      setDone(`Payout ${after.id} is now ${after.status}.`);
      setReload((n) => n + 1);
      onDecided?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="panel" aria-labelledby={`payouts-${customer ?? 'all'}`}>
      <div className="panel-head">
        <h2 id={`payouts-${customer ?? 'all'}`}>{title}</h2>
        <label className="inline-field">
          <span>Status</span>
          <select
            aria-label="Payout status"
            value={status}
            onChange={(e) => setStatus(e.target.value as PayoutStatus | '')}
          >
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="form-row actor-row">
        <ActorField error={error} names={['approved_by', 'rejected_by']} actor={actor} onChange={setActor} />
      </div>
      {error instanceof ApiError &&
      (error.forField('approved_by') || error.forField('rejected_by')) ? null : (
        <Notice error={error} />
      )}
      <Notice kind="info" error={done} />
      <PagedTable<Payout>
        path="/v1/payouts"
        params={{ status: status || undefined, customer }}
        reloadKey={reload}
        pageSize={10}
        empty={status === 'pending' ? 'No payout is waiting for a decision.' : 'No payouts.'}
        columns={[
          { header: 'Requested', className: 'nowrap', cell: (p) => formatTime(p.requested_at) },
          ...(customer
            ? []
            : [
                {
                  header: 'Customer',
                  cell: (p: Payout) => (
                    <a {...linkProps(`/customers/${p.customer}`)} className="mono">
                      {p.customer}
                    </a>
                  ),
                },
              ]),
          {
            header: 'Amount',
            className: 'num nowrap',
            cell: (p) =>
              formatAmount(p.amount, { kind: 'money', currency: p.currency ?? undefined, code: p.asset }),
          },
          { header: 'Destination', cell: (p) => <span className="mono">{p.destination}</span> },
          {
            header: 'Status',
            cell: (p) => (
              <span data-payout-status={p.id}>
                <StatusBadge status={p.status} />
                {p.decided_by ? <div className="muted small">by {p.decided_by}</div> : null}
                {p.reason ? <div className="muted small">{p.reason}</div> : null}
              </span>
            ),
          },
          {
            header: 'Decision',
            cell: (p) =>
              p.status !== 'pending' ? (
                <span className="muted small">{formatTime(p.decided_at)}</span>
              ) : rejecting?.id === p.id ? (
                <form
                  className="row-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void decide(p, 'reject', rejecting.reason.trim());
                  }}
                >
                  <input
                    aria-label="Reason for rejecting"
                    placeholder="Reason (shown to the customer's team)"
                    value={rejecting.reason}
                    onChange={(e) => setRejecting({ id: p.id, reason: e.target.value })}
                    required
                  />
                  <button type="submit" className="danger" disabled={busy === p.id}>
                    Reject
                  </button>
                  <button type="button" className="secondary" onClick={() => setRejecting(null)}>
                    Keep
                  </button>
                </form>
              ) : (
                <div className="row-actions">
                  <button type="button" disabled={busy === p.id} onClick={() => void decide(p, 'approve')}>
                    Approve
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy === p.id}
                    onClick={() => setRejecting({ id: p.id, reason: '' })}
                  >
                    Reject…
                  </button>
                </div>
              ),
          },
        ]}
      />
    </section>
  );
}
