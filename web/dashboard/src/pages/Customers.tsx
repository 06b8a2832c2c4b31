import { PageHeader } from '../components/ui';
import { linkProps } from '../router';
import { CustomerDetail } from './customers/CustomerDetail';
import { CustomerList } from './customers/CustomerList';
import { PayoutsPanel } from './customers/Payouts';
import type { PageProps } from './props';

/**
 * Customers: search, and payouts waiting for a decision (`/customers`, `?tab=payouts`); one
 * customer's balances, grants, payouts and statement (`/customers/{id}`).
 */
export function Customers({ path, query }: PageProps) {
  const id = path.split('/')[2];
  if (id) return <CustomerDetail id={decodeURIComponent(id)} />;
  const tab = query.get('tab') === 'payouts' ? 'payouts' : 'customers';
  return (
    <>
      <PageHeader title="Customers" />
      <nav className="tabs" aria-label="Customers views">
        <a {...linkProps('/customers')} aria-current={tab === 'customers' ? 'page' : undefined}>
          Customers
        </a>
        <a {...linkProps('/customers?tab=payouts')} aria-current={tab === 'payouts' ? 'page' : undefined}>
          Payouts
        </a>
      </nav>
      {tab === 'payouts' ? (
        <PayoutsPanel title="Payouts across the workspace" />
      ) : (
        <CustomerList search={query.get('q') ?? ''} />
      )}
    </>
  );
}
