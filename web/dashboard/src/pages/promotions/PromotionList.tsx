import { formatTime, formatTimeIn, PagedTable } from '../../components/ui';
import { linkProps } from '../../router';
import { discountText, durationText, usageText } from './format';
import type { Promotion } from './types';

export function PromotionList() {
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
                {p.starts_at ? formatTimeIn(p.starts_at, p.time_zone) : 'now'} →{' '}
                {p.expires_at ? formatTimeIn(p.expires_at, p.time_zone) : 'no end'}{' '}
                <span className="muted">{p.time_zone}</span>
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
