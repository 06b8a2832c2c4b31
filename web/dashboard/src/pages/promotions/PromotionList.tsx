import { formatTime, formatTimeIn, PagedTable } from '../../components/ui';
import { linkProps } from '../../router';
import { discountText, durationText, usageText, windowState } from './format';
import type { Promotion } from './types';

/** "expired" or "not yet active" against the browser's clock; nothing while the window is open. */
export function WindowBadge({ promotion, now }: { promotion: Promotion; now: number }) {
  const state = windowState(promotion, now);
  if (state === null) return null;
  return (
    <span className={state === 'expired' ? 'badge badge-bad' : 'badge'} data-promotion-state={state}>
      {state}
    </span>
  );
}

export function PromotionList() {
  const now = Date.now();
  return (
    <PagedTable<Promotion>
      path="/v1/promotions"
      empty="No promotions yet: create one."
      columns={[
        {
          header: 'Promotion',
          cell: (p) => (
            <a {...linkProps(`/promotions/${p.id}`)}>
              <strong>{p.name}</strong>
            </a>
          ),
        },
        { header: 'Discount', cell: discountText },
        { header: 'Duration', cell: durationText },
        {
          header: 'Valid',
          cell: (p) =>
            p.starts_at || p.expires_at ? (
              <span className="small">
                {p.starts_at ? formatTimeIn(p.starts_at, p.time_zone) : 'from creation'} →{' '}
                {p.expires_at ? formatTimeIn(p.expires_at, p.time_zone) : 'no end'}{' '}
                <span className="muted">{p.time_zone}</span> <WindowBadge promotion={p} now={now} />
              </span>
            ) : (
              <span className="muted">always</span>
            ),
        },
        { header: 'Redeemed', className: 'num', cell: (p) => usageText(p.times_redeemed, p.max_redemptions) },
        { header: 'Created', cell: (p) => formatTime(p.created_at) },
      ]}
    />
  );
}
