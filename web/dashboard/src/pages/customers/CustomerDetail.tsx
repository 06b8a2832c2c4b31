// One customer: balances per asset with what expires when, its grants (lots), payouts, a grant by
// hand and the statement.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Page } from '../../api';
import { formatAmount, formatTime, Notice, PagedTable, PageHeader, useResource } from '../../components/ui';
import { linkProps } from '../../router';
import { GrantForm } from './GrantForm';
import { GrantsPanel } from './Grants';
import { PayoutsPanel } from './Payouts';
import { AssetFilter } from './AssetFilter';
import { type Asset, assetFormat, type Balance, type Customer, type Entry } from './types';

export function CustomerDetail({ id }: { id: string }) {
  const customer = useResource<Customer>(`/v1/customers/${encodeURIComponent(id)}`);
  const assetList = useResource<Page<Asset>>('/v1/assets?limit=100');
  const [version, setVersion] = useState(0);
  const assets = useMemo(
    () => new Map((assetList.data?.data ?? []).map((a) => [a.key, a])),
    [assetList.data],
  );
  const c = customer.data;

  return (
    <>
      <PageHeader title={c ? c.external_id : 'Customer'}>
        <a {...linkProps('/customers')} className="button secondary">
          ← All customers
        </a>
      </PageHeader>
      <Notice error={customer.error} />
      {c ? (
        <>
          <p className="muted customer-facts">
            <span className="mono">{c.id}</span>
            {c.email ? ` · ${c.email}` : ''}
            {c.name ? ` · ${c.name}` : ''} · created {formatTime(c.created_at)}
            {c.subscriptions.length
              ? ` · ${c.subscriptions.map((s) => `${s.plan_id ?? s.external_id} (${s.status})`).join(', ')}`
              : ''}
          </p>
          <Balances customer={c.id} version={version} />
          <section className="panel">
            <GrantForm
              customer={c.id}
              assets={assetList.data?.data ?? []}
              onGranted={() => setVersion((v) => v + 1)}
            />
          </section>
          <GrantsPanel
            customer={c.id}
            assets={assets}
            reloadKey={version}
            onChanged={() => setVersion((v) => v + 1)}
          />
          <PayoutsPanel customer={c.id} initialStatus="" onDecided={() => setVersion((v) => v + 1)} />
          <Statement customer={c.id} assets={assets} version={version} />
        </>
      ) : null}
    </>
  );
}

function Balances({ customer, version }: { customer: string; version: number }) {
  const { data, error, reload } = useResource<Page<Balance>>(`/v1/customers/${customer}/balances`);
  const first = useRef(version);
  useEffect(() => {
    // Reload after a grant, reversal or payout decision changed the balances (not on the first render).
    if (version !== first.current) reload();
  }, [version]);
  return (
    <section aria-labelledby="balances-title" className="balances">
      <h2 id="balances-title" className="visually-hidden">
        Balances
      </h2>
      <Notice error={error} />
      <div className="stats">
        {data && data.data.length === 0 ? <p className="muted">This customer holds nothing yet.</p> : null}
        {data?.data.map((b) => (
          <div className="stat balance-card" key={b.asset} data-asset={b.asset}>
            <div className="label">
              {b.asset} · {b.purpose}
            </div>
            <div className="value">{formatAmount(b.available, b)}</div>
            <div className="muted small">
              available
              {b.held ? ` · ${formatAmount(b.held, b)} held for payouts` : ''}
              {b.debt ? ` · ${formatAmount(b.debt, b)} debt` : ''}
            </div>
            {b.expiring.length ? (
              <ul className="expiring">
                {b.expiring.map((e) => (
                  <li key={e.expires_at}>
                    {formatAmount(e.amount, b)} expires {formatTime(e.expires_at)}
                  </li>
                ))}
              </ul>
            ) : (
              <div className="muted small">nothing expires</div>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}

const ENTRY_TYPES: Record<string, string> = {
  grant: 'Grant',
  consume: 'Used',
  invoice_apply: 'Applied to invoice',
  invoice_void: 'Invoice voided',
  reversal: 'Reversal',
  expire: 'Expired',
  payout_hold: 'Payout held',
  payout_post: 'Payout paid',
  payout_release: 'Payout released',
};

function Statement({
  customer,
  assets,
  version,
}: {
  customer: string;
  assets: Map<string, Asset>;
  version: number;
}) {
  const [asset, setAsset] = useState('');
  return (
    <section className="panel" aria-labelledby="statement-title">
      <div className="panel-head">
        <h2 id="statement-title">Statement</h2>
        <AssetFilter label="Statement asset" assets={assets} value={asset} onChange={setAsset} />
      </div>
      <PagedTable<Entry>
        path={`/v1/customers/${customer}/ledger`}
        params={{ asset: asset || undefined }}
        reloadKey={version}
        pageSize={20}
        empty="No entries yet."
        columns={[
          { header: 'Effective', className: 'nowrap', cell: (e) => formatTime(e.effective_at) },
          { header: 'Entry', cell: (e) => ENTRY_TYPES[e.type] ?? e.type },
          { header: 'Asset', cell: (e) => e.asset },
          {
            header: 'Change',
            className: 'num nowrap',
            cell: (e) =>
              e.balance_change === 0 ? (
                <span className="muted">{formatAmount(e.amount, assetFormat(e.asset, assets))} moved</span>
              ) : (
                <span className={e.balance_change > 0 ? 'plus' : 'minus'}>
                  {e.balance_change > 0 ? '+' : '−'}
                  {formatAmount(Math.abs(e.balance_change), assetFormat(e.asset, assets))}
                </span>
              ),
          },
          {
            header: 'From → to',
            cell: (e) => (
              <span className="small">
                {e.from} → {e.to}
              </span>
            ),
          },
          {
            header: 'Source',
            cell: (e) =>
              e.source ? (
                <>
                  <div>{e.source.reason ?? e.source.type}</div>
                  <div className="muted small">
                    {e.source.type === 'manual'
                      ? `by ${e.source.actor ?? '?'}`
                      : `${e.source.type} ${e.source.id ?? ''}`}
                  </div>
                </>
              ) : (
                <span className="muted">—</span>
              ),
          },
          {
            header: 'Reference',
            cell: (e) => <span className="mono small">{e.reference ?? e.operation}</span>,
          },
        ]}
      />
    </section>
  );
}
