import type { Asset } from './types';

/** A select of the workspace's assets with "All assets" first, for lists that filter by asset. */
export function AssetFilter({
  label,
  assets,
  value,
  onChange,
}: {
  label: string;
  assets: Map<string, Asset>;
  value: string;
  onChange: (asset: string) => void;
}) {
  return (
    <label className="inline-field">
      <span>Asset</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All assets</option>
        {[...assets.keys()].map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
    </label>
  );
}
