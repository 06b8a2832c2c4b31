import { useState } from 'react';
import { PageHeader } from '../components/ui';
import { navigate } from '../router';
import { PromotionDetail } from './promotions/PromotionDetail';
import { PromotionForm } from './promotions/PromotionForm';
import { PromotionList } from './promotions/PromotionList';
import type { PageProps } from './props';

/** Promotions (`/promotions`, `?new=1` opens the form) and one promotion (`/promotions/{id}`). */
export function Promotions({ path, query }: PageProps) {
  const id = path.split('/')[2];
  const [creating, setCreating] = useState(query.get('new') === '1');
  if (id) return <PromotionDetail id={decodeURIComponent(id)} />;
  return (
    <>
      <PageHeader title="Promotions">
        {creating ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            New promotion
          </button>
        )}
      </PageHeader>
      {creating ? (
        <PromotionForm
          onCreated={(p) => navigate(`/promotions/${p.id}`)}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <PromotionList />
    </>
  );
}
