// Pieces the Overview, Programs and Referrals pages share: asset formatting, status badges and
// links to customers and referrals.
import { useEffect, useState } from 'react';
import { api, type Page } from '../../api';
import { formatAmount, useResource } from '../../components/ui';
import { linkProps } from '../../router';
import type { AssetInfo } from './types';

/** The workspace's assets by key, to show amounts in their unit ("$25.00", "90 minutes"). */
export function useAssets(): Map<string, AssetInfo> {
  const { data } = useResource<Page<AssetInfo>>('/v1/assets?limit=100');
  return new Map((data?.data ?? []).map((a) => [a.key, a]));
}

export function formatAssetAmount(amount: number, asset: string, assets: Map<string, AssetInfo>): string {
  const known = assets.get(asset);
  return known ? formatAmount(amount, known) : `${amount.toLocaleString('en-US')} ${asset}`;
}

/** `not_first_card` -> `not first card`: codes stay recognisable, and read as words. */
export function words(code: string): string {
  return code.replace(/_/g, ' ');
}

const STATUS_CLASS: Record<string, string> = {
  rewarded: 'badge badge-ok',
  qualified: 'badge badge-ok',
  rejected: 'badge badge-bad',
  active: 'badge badge-ok',
  suspended: 'badge badge-bad',
  granted: 'badge badge-ok',
  reversed: 'badge badge-bad',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={STATUS_CLASS[status] ?? 'badge'}>{status}</span>;
}

/**
 * External ids of customers the page knows only by Perks id, fetched once per id and kept for the
 * tab: a referral's few recipients, or the first levels of a tree.
 */
const externalIds = new Map<string, Promise<string | null>>();

function externalIdOf(id: string): Promise<string | null> {
  let known = externalIds.get(id);
  if (!known) {
    known = api<{ external_id: string }>('GET', `/v1/customers/${encodeURIComponent(id)}`).then(
      (c) => c.external_id,
      () => null,
    );
    externalIds.set(id, known);
  }
  return known;
}

export function useExternalId(id: string, enabled: boolean): string | null {
  const [value, setValue] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    void externalIdOf(id).then((v) => live && setValue(v));
    return () => {
      live = false;
    };
  }, [id, enabled]);
  return value;
}

/**
 * A customer shown by the id the product knows it by, linked to its page. Without `external` the
 * external id is looked up (unless `resolve` is false); until then, and if that fails, the Perks id
 * is shown.
 */
export function CustomerLink({
  id,
  external,
  resolve = true,
}: {
  id: string;
  external?: string | null;
  resolve?: boolean;
}) {
  const looked = useExternalId(id, external === undefined && resolve);
  return (
    <a {...linkProps(`/customers/${encodeURIComponent(id)}`)} title={id}>
      {external ?? looked ?? id}
    </a>
  );
}

/** A link to a referral; `short` shows the end of its id (the part that differs), for narrow tables. */
export function ReferralLink({ id, short = false }: { id: string; short?: boolean }) {
  return (
    <a
      className={short ? 'mono nowrap' : 'mono'}
      {...linkProps(`/referrals/${encodeURIComponent(id)}`)}
      title={id}
    >
      {short && id.length > 14 ? `ref_…${id.slice(-6)}` : id}
    </a>
  );
}
