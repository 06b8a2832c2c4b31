// One promotion: its terms, bulk generation with progress, a custom code, its codes with times
// redeemed (found by text in any spelling), and its redemptions, which can be voided.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import {
  Field,
  FormError,
  formatTime,
  formatTimeIn,
  Notice,
  PagedTable,
  PageHeader,
  useResource,
} from '../../components/ui';
import { linkProps } from '../../router';
import { StatusBadge } from '../customers/Payouts';
import { fieldError } from '../customers/input';
import { CustomerLink } from '../referrals/shared';
import { discountText, durationText, money, shortBatchId, usageText } from './format';
import { Batches, GenerateCodes } from './GenerateCodes';
import { WindowBadge } from './PromotionList';
import type { Promotion, PromotionCode, Redemption } from './types';

export function PromotionDetail({ id }: { id: string }) {
  const { data: p, error, reload } = useResource<Promotion>(`/v1/promotions/${encodeURIComponent(id)}`);
  const [codesVersion, setCodesVersion] = useState(0);
  const [batchesVersion, setBatchesVersion] = useState(0);
  const changed = () => {
    setCodesVersion((v) => v + 1);
    reload();
  };
  return (
    <>
      <PageHeader title={p ? p.name : 'Promotion'}>
        <a {...linkProps('/promotions')} className="button secondary">
          ← All promotions
        </a>
      </PageHeader>
      <Notice error={error} />
      {p ? (
        <>
          <div className="stats promo-terms">
            <div className="stat">
              <div className="label">Discount</div>
              <div className="value small-value">{discountText(p)}</div>
              <div className="muted small">{durationText(p)}</div>
            </div>
            <div className="stat">
              <div className="label">Redeemed</div>
              <div className="value" data-testid="promotion-redeemed">
                {usageText(p.times_redeemed, p.max_redemptions)}
              </div>
              <div className="muted small">at most {p.max_per_customer} per customer</div>
            </div>
            <div className="stat">
              <div className="label">
                Valid <WindowBadge promotion={p} now={Date.now()} />
              </div>
              {/* In the promotion's own zone, where a date given without a time was read. */}
              <div className="small-value" data-testid="promotion-valid">
                {p.starts_at ? `from ${formatTimeIn(p.starts_at, p.time_zone)}` : 'from creation'}
                <br />
                {p.expires_at ? `until ${formatTimeIn(p.expires_at, p.time_zone)}` : 'no end'}
              </div>
              <div className="muted small">
                {p.time_zone}
                {p.expires_at && p.time_zone !== 'UTC' ? ` (ends ${formatTime(p.expires_at)})` : ''}
              </div>
            </div>
            <div className="stat">
              <div className="label">Conditions</div>
              <div className="small">
                {[
                  p.first_time_only ? 'first-time customers' : null,
                  p.applies_to ? `plans ${p.applies_to.join(', ')}` : null,
                  p.minimum_amount !== null ? `minimum ${money(p.minimum_amount, p.currency)}` : null,
                  p.stackable ? 'stackable' : 'one per subscription',
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </div>
              <div className="muted small mono">{p.id}</div>
            </div>
          </div>
          <div className="grid ops-grid">
            <GenerateCodes
              promotion={p.id}
              onStarted={() => setBatchesVersion((v) => v + 1)}
              onDone={() => {
                setBatchesVersion((v) => v + 1);
                changed();
              }}
            />
            <AddCode promotion={p.id} onAdded={changed} />
          </div>
          <Batches promotion={p.id} version={batchesVersion} />
          <Codes promotion={p.id} version={codesVersion} />
          <Redemptions promotion={p.id} version={codesVersion} onVoided={changed} />
        </>
      ) : null}
    </>
  );
}

function AddCode({ promotion, onAdded }: { promotion: string; onAdded: () => void }) {
  const [code, setCode] = useState('');
  const [max, setMax] = useState('');
  const [expires, setExpires] = useState('');
  const [customer, setCustomer] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      const body: Record<string, unknown> = { promotion, code };
      if (max.trim()) {
        if (!/^\d+$/.test(max.trim())) throw fieldError('max_redemptions', 'enter a whole number');
        body.max_redemptions = Number(max.trim());
      }
      if (expires) body.expires_at = expires;
      if (customer.trim()) body.customer = customer.trim();
      const created = await api<PromotionCode>('POST', '/v1/promotion_codes', body);
      setDone(`Added ${created.code}.`);
      setCode('');
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel" onSubmit={submit} aria-labelledby="add-code-title" noValidate>
      <h2 id="add-code-title">Add a code</h2>
      <Field label="Code" name="code" error={error} hint="e.g. SUMMER24; case, spaces and dashes are ignored">
        <input name="code" value={code} onChange={(e) => setCode(e.target.value)} />
      </Field>
      <div className="form-row top">
        <Field label="Max uses" name="max_redemptions" error={error} hint="optional">
          <input
            name="max_redemptions"
            inputMode="numeric"
            value={max}
            onChange={(e) => setMax(e.target.value)}
          />
        </Field>
        <Field label="Expires" name="expires_at" error={error} hint="optional">
          <input name="expires_at" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </Field>
        <Field label="Only for customer" name="customer" error={error} hint="optional">
          <input name="customer" value={customer} onChange={(e) => setCustomer(e.target.value)} />
        </Field>
      </div>
      <FormError error={error} fields={['code', 'max_redemptions', 'expires_at', 'customer']} />
      {done ? (
        <div className="notice notice-info" role="status">
          {done}
        </div>
      ) : null}
      <button type="submit" disabled={busy}>
        Add code
      </button>
    </form>
  );
}

function Codes({ promotion, version }: { promotion: string; version: number }) {
  const [text, setText] = useState('');
  const [code, setCode] = useState('');
  return (
    <section className="panel" aria-labelledby="codes-title">
      <div className="panel-head">
        <h2 id="codes-title">Codes</h2>
      </div>
      <form
        className="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setCode(text.trim());
        }}
      >
        <input
          type="search"
          aria-label="Find a code"
          placeholder="Find a code, in any spelling (summer-24 = SUMMER24)"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit">Find</button>
        {code ? (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setText('');
              setCode('');
            }}
          >
            Clear
          </button>
        ) : null}
      </form>
      <PagedTable<PromotionCode>
        path="/v1/promotion_codes"
        params={{ promotion, code: code || undefined }}
        reloadKey={version}
        pageSize={10}
        empty={code ? `No code “${code}” in this promotion.` : 'No codes yet: add one or generate a batch.'}
        columns={[
          { header: 'Code', cell: (c) => <code className="code">{c.code}</code> },
          {
            header: 'Times redeemed',
            className: 'num',
            cell: (c) => usageText(c.times_redeemed, c.max_redemptions),
          },
          {
            header: 'Expires',
            cell: (c) => (c.expires_at ? formatTime(c.expires_at) : <span className="muted">—</span>),
          },
          {
            header: 'Only for',
            cell: (c) =>
              c.customer_id ? <CustomerLink id={c.customer_id} /> : <span className="muted">anyone</span>,
          },
          {
            header: 'Batch',
            cell: (c) =>
              c.batch_id ? (
                <span className="mono small nowrap" title={c.batch_id}>
                  {shortBatchId(c.batch_id)}
                </span>
              ) : (
                <span className="mono small">custom</span>
              ),
          },
          { header: 'Created', cell: (c) => formatTime(c.created_at) },
        ]}
      />
    </section>
  );
}

function Redemptions({
  promotion,
  version,
  onVoided,
}: {
  promotion: string;
  version: number;
  onVoided: () => void;
}) {
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);

  async function voidIt(r: Redemption) {
    setError(null);
    setBusy(r.id);
    try {
      await api('POST', `/v1/redemptions/${r.id}/void`);
      setConfirm(null);
      onVoided();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="panel" aria-labelledby="redemptions-title">
      <div className="panel-head">
        <h2 id="redemptions-title">Redemptions</h2>
        <label className="inline-field">
          <span>Status</span>
          <select aria-label="Redemption status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="completed">Completed</option>
            <option value="voided">Voided</option>
          </select>
        </label>
      </div>
      <Notice error={error} />
      <PagedTable<Redemption>
        path="/v1/redemptions"
        params={{ promotion, status: status || undefined }}
        reloadKey={version}
        empty="No redemptions yet."
        columns={[
          { header: 'Redeemed', cell: (r) => formatTime(r.redeemed_at) },
          { header: 'Code', cell: (r) => <code className="code">{r.code}</code> },
          {
            header: 'Customer',
            // The redemption carries the Perks id only; the link looks the external id up once.
            cell: (r) => <CustomerLink id={r.customer_id} />,
          },
          { header: 'Subscription', cell: (r) => r.subscription ?? <span className="muted">—</span> },
          {
            header: 'Periods',
            className: 'num',
            cell: (r) =>
              r.periods_total === null
                ? `${r.periods_applied} (forever)`
                : `${r.periods_applied} / ${r.periods_total}`,
          },
          {
            header: 'Status',
            cell: (r) => (
              <span data-redemption-status={r.id}>
                <StatusBadge status={r.status} />
              </span>
            ),
          },
          {
            header: '',
            cell: (r) =>
              r.status === 'voided' ? (
                <span className="muted small">{formatTime(r.voided_at)}</span>
              ) : confirm === r.id ? (
                <div className="row-actions">
                  <button
                    type="button"
                    className="danger"
                    disabled={busy === r.id}
                    onClick={() => void voidIt(r)}
                  >
                    Void it
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirm(null)}>
                    Keep
                  </button>
                </div>
              ) : (
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Void redemption ${r.id}`}
                  onClick={() => setConfirm(r.id)}
                >
                  Void…
                </button>
              ),
          },
        ]}
      />
    </section>
  );
}
