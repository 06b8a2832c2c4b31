// Small shared building blocks: every page is made of these, so they look and behave alike.
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, type Page } from '../api';

export function Notice({ error, kind = 'error' }: { error: unknown; kind?: 'error' | 'info' }) {
  if (!error) return null;
  const text =
    error instanceof ApiError
      ? `${error.message} (${error.code})`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {text}
    </div>
  );
}

/** A labelled form field with the API's error for it shown beside it. */
export function Field({
  label,
  name,
  error,
  children,
  hint,
}: {
  label: string;
  name: string;
  error?: unknown;
  children: ReactNode;
  hint?: string;
}) {
  const message = error instanceof ApiError ? error.forField(name) : undefined;
  return (
    <label className={`field${message ? ' field-invalid' : ''}`} data-field={name}>
      <span className="field-label">{label}</span>
      {children}
      {hint && !message ? <span className="field-hint">{hint}</span> : null}
      {message ? (
        <span className="field-error" role="alert">
          {message}
        </span>
      ) : null}
    </label>
  );
}

/** The form-level error: shown when the API's error names no field of the form. */
export function FormError({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError && fields.some((f) => error.forField(f))) return null;
  return <Notice error={error} />;
}

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

/** Rows under a header of columns; `empty`, when given, stands in one row when there are none. */
export function Table<T>({
  columns,
  rows,
  rowKey,
  empty,
}: {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  empty?: string | undefined;
}) {
  return (
    <table>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.header} scope="col" className={c.className}>
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && empty !== undefined ? (
          <tr>
            <td colSpan={columns.length} className="empty">
              {empty}
            </td>
          </tr>
        ) : null}
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((c) => (
              <td key={c.header} className={c.className}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A server-paginated table: it asks the API for one page at a time (`limit`, `starting_after`)
 * and never loads a whole list, so it stays fast with hundreds of thousands of rows.
 */
export function PagedTable<T extends { id: string }>({
  path,
  params = {},
  columns,
  pageSize = 25,
  empty = 'Nothing here yet.',
  reloadKey,
  rowKey = (row: T) => row.id,
  cursor = (row: T) => row.id,
}: {
  path: string;
  params?: Record<string, string | undefined>;
  columns: Column<T>[];
  pageSize?: number;
  empty?: string;
  reloadKey?: unknown;
  rowKey?: (row: T) => string;
  cursor?: (row: T) => string;
}) {
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const paramKey = JSON.stringify(params);
  const seq = useRef(0);

  useEffect(() => setPages([undefined]), [paramKey, path, reloadKey]);
  const after = pages[pages.length - 1];
  const load = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const q = new URLSearchParams({ limit: String(pageSize) });
      for (const [k, v] of Object.entries(JSON.parse(paramKey) as Record<string, string | undefined>))
        if (v) q.set(k, v);
      if (after) q.set('starting_after', after);
      const sep = path.includes('?') ? '&' : '?';
      const result = await api<Page<T>>('GET', `${path}${sep}${q}`);
      if (mine === seq.current) {
        setPage(result);
        setError(null);
      }
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [path, paramKey, after, pageSize]);
  useEffect(() => {
    void load();
  }, [load, reloadKey]);

  const rows = page?.data ?? [];
  return (
    <div className="table-wrap" aria-busy={loading}>
      <Notice error={error} />
      <Table columns={columns} rows={rows} rowKey={rowKey} empty={loading ? undefined : empty} />
      <div className="pager">
        <button
          type="button"
          disabled={pages.length <= 1 || loading}
          onClick={() => setPages((p) => p.slice(0, -1))}
        >
          ← Previous
        </button>
        <span>Page {pages.length}</span>
        <button
          type="button"
          disabled={!page?.has_more || loading || rows.length === 0}
          onClick={() => setPages((p) => [...p, cursor(rows[rows.length - 1]!)])}
        >
          Next →
        </button>
      </div>
    </div>
  );
}

/** Loads one resource; `reload` fetches it again (after an action changed it). */
export function useResource<T>(path: string | null): {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setLoading(true);
    api<T>('GET', path)
      .then((d) => {
        if (live) {
          setData(d);
          setError(null);
        }
      })
      .catch((e: unknown) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [path, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1) };
}

/** Money in minor units, shown in the asset's currency; other units as a plain integer and name. */
export function formatAmount(
  amount: number,
  asset: { kind?: string; currency?: string | null; unit?: string | null; code?: string },
) {
  if (asset.kind === 'money' && asset.currency) {
    // Minor units per currency (cents, but none for JPY): the formatter knows the exponent.
    const format = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: asset.currency.toUpperCase(),
    });
    return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
  }
  const unit = asset.unit ?? (asset.kind === 'days' ? 'days' : (asset.code ?? ''));
  return `${amount.toLocaleString('en-US')} ${unit}`.trim();
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** An instant as the wall-clock time of an IANA zone, `2027-01-01 00:00` (no zone name). */
export function formatTimeIn(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      })
        .formatToParts(d)
        .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  } catch {
    return formatTime(iso);
  }
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      <div className="page-actions">{children}</div>
    </header>
  );
}
