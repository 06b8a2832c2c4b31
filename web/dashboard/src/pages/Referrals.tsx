import { PageHeader } from '../components/ui';
import { linkProps } from '../router';
import type { PageProps } from './props';
import { AuditLog } from './referrals/AuditLog';
import { ManualReferral } from './referrals/ManualReferral';
import { ReferralDetail } from './referrals/ReferralDetail';
import { ReferralSearch } from './referrals/ReferralSearch';
import { ReferralTreeView } from './referrals/ReferralTreeView';

const TABS = [
  { key: 'search', title: 'Search' },
  { key: 'tree', title: 'Referral tree' },
  { key: 'attribute', title: 'Manual attribution' },
  { key: 'audit', title: 'Audit log' },
] as const;
type Tab = (typeof TABS)[number]['key'];

/**
 * Referrals: search (`/referrals`), one referral's history with reassignment (`/referrals/{id}`), a
 * customer's referral tree (`?tab=tree`), manual attribution (`?tab=attribute`) and the audit log of
 * repairs (`?tab=audit`). Searches and filters live in the query string, so a view can be shared.
 */
export function Referrals({ path, query }: PageProps) {
  const id = path.split('/')[2];
  if (id) return <ReferralDetail id={decodeURIComponent(id)} />;
  const tab: Tab = TABS.find((t) => t.key === query.get('tab'))?.key ?? 'search';
  return (
    <>
      <PageHeader title="Referrals" />
      <nav className="tabs" aria-label="Referrals views">
        {TABS.map((t) => (
          <a
            key={t.key}
            {...linkProps(t.key === 'search' ? '/referrals' : `/referrals?tab=${t.key}`)}
            aria-current={tab === t.key ? 'page' : undefined}
          >
            {t.title}
          </a>
        ))}
      </nav>
      {tab === 'search' ? <ReferralSearch key={query.toString()} query={query} /> : null}
      {tab === 'tree' ? <ReferralTreeView key={query.toString()} query={query} /> : null}
      {tab === 'attribute' ? <ManualReferral /> : null}
      {tab === 'audit' ? <AuditLog key={query.toString()} query={query} /> : null}
    </>
  );
}
