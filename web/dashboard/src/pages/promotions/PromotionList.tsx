import { formatTime, PagedTable } from '../../components/ui';
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
                {p.starts_at ? formatTime(p.starts_at) : 'now'} →{' '}
                {p.expires_at ? formatTime(p.expires_at) : 'no end'}
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
