// The customer search: the start of an external id or e-mail, or a whole Perks id, answered a page
// at a time by the API (each match kind has its own index), ordered by what matched.
import { type FormEvent, useEffect, useState } from 'react';
import { formatTime, PagedTable } from '../../components/ui';
import { linkProps, navigate } from '../../router';
import type { Customer } from './types';

export function CustomerList({ search }: { search: string }) {
  const [text, setText] = useState(search);
  useEffect(() => setText(search), [search]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const q = text.trim();
    navigate(q ? `/customers?q=${encodeURIComponent(q)}` : '/customers', true);
  }

  return (
    <section className="panel" aria-labelledby="customers-list">
      <h2 id="customers-list" className="visually-hidden">
        Customers
      </h2>
      <form className="search" role="search" onSubmit={submit}>
        <input
          type="search"
          name="q"
          aria-label="Search customers"
          placeholder="External id or e-mail (start of it), or a Perks id (cus_…)"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit">Search</button>
        {search ? (
          <button type="button" className="secondary" onClick={() => navigate('/customers', true)}>
            Clear
          </button>
        ) : null}
      </form>
      <PagedTable<Customer>
        path="/v1/customers"
        params={{ search: search || undefined }}
        empty={
          search ? `No customer matches “${search}”.` : 'No customers yet: they arrive with billing events.'
        }
        columns={[
          {
            header: 'Customer',
            cell: (c) => (
              <a {...linkProps(`/customers/${c.id}`)}>
                <strong>{c.external_id}</strong>
              </a>
            ),
          },
          { header: 'E-mail', cell: (c) => c.email ?? <span className="muted">—</span> },
          { header: 'Name', cell: (c) => c.name ?? <span className="muted">—</span> },
          {
            header: 'Billing',
            cell: (c) => {
              const sub = c.subscriptions.find((s) => s.status !== 'canceled') ?? c.subscriptions[0];
              const card = c.payment_methods[0];
              return (
                <span className="muted small">
                  {sub ? `${sub.plan_id ?? 'plan'} · ${sub.status}` : 'no subscription'}
                  {card ? ` · card ${card.brand ?? ''} ${card.last4 ?? ''}`.trimEnd() : ''}
                </span>
              );
            },
          },
          { header: 'Perks id', cell: (c) => <span className="mono small">{c.id}</span> },
          { header: 'Created', className: 'nowrap', cell: (c) => formatTime(c.created_at) },
        ]}
      />
    </section>
  );
}
