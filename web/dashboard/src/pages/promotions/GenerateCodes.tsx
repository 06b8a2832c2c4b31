// Bulk code generation. Up to 1,000 codes come back in the request; larger batches are made by the
// server's background worker, and the progress bar polls the batch until it is done.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, type Page } from '../../api';
import { Field, FormError, formatTime, Notice, PagedTable } from '../../components/ui';
import { fieldError } from '../customers/input';
import { shortBatchId } from './format';
import type { CodeBatch } from './types';

const POLL_MS = 500;
const FIELDS = ['count', 'prefix', 'length', 'max_redemptions'];

function useBatchProgress(promotion: string, start: CodeBatch | null, onDone: (b: CodeBatch) => void) {
  const [batch, setBatch] = useState<CodeBatch | null>(start);
  const [error, setError] = useState<unknown>(null);
  // The latest callback, read when a batch ends, so polling need not restart when it changes.
  const done = useRef(onDone);
  done.current = onDone;
  useEffect(() => setBatch(start), [start]);
  const live = batch !== null && (batch.status === 'pending' || batch.status === 'running');
  const id = batch?.id;
  useEffect(() => {
    if (!live || !id) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await api<CodeBatch>('GET', `/v1/promotions/${promotion}/code_batches/${id}`);
        if (stopped) return;
        setBatch(next);
        setError(null);
        if (next.status === 'succeeded' || next.status === 'failed') done.current(next);
        else timer = setTimeout(tick, POLL_MS);
      } catch (e) {
        if (stopped) return;
        setError(e);
        timer = setTimeout(tick, POLL_MS * 4);
      }
    };
    timer = setTimeout(tick, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [promotion, id, live]);
  return { batch, error };
}

export function BatchProgress({ batch }: { batch: CodeBatch }) {
  const pct = batch.total ? Math.floor((batch.generated / batch.total) * 100) : 0;
  const label =
    batch.status === 'succeeded'
      ? 'done'
      : batch.status === 'failed'
        ? `failed: ${batch.error ?? 'unknown error'}`
        : batch.status === 'pending'
          ? 'queued'
          : 'generating';
  return (
    <div className="batch-progress" data-batch={batch.id} data-status={batch.status}>
      <progress
        className="progress"
        value={batch.generated}
        max={batch.total}
        aria-label={`Codes generated for batch ${batch.id}`}
      />
      <div className="batch-progress-text">
        <span>
          {batch.generated.toLocaleString('en-US')} / {batch.total.toLocaleString('en-US')} codes ({pct}%)
        </span>
        <span
          className={`badge${batch.status === 'succeeded' ? ' badge-ok' : batch.status === 'failed' ? ' badge-bad' : ''}`}
        >
          {label}
        </span>
      </div>
    </div>
  );
}

export function GenerateCodes({
  promotion,
  onStarted,
  onDone,
}: {
  promotion: string;
  /** A batch was recorded (or finished at once, up to 1,000 codes). */
  onStarted: () => void;
  /** A batch ended, succeeded or failed. */
  onDone: (batch: CodeBatch) => void;
}) {
  const [count, setCount] = useState('1000');
  const [prefix, setPrefix] = useState('');
  const [length, setLength] = useState('12');
  const [maxRedemptions, setMaxRedemptions] = useState('1');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState<CodeBatch | null>(null);
  const { batch, error: pollError } = useBatchProgress(promotion, started, onDone);

  // A batch still running when the page opens (started earlier, or from the CLI) is followed too.
  useEffect(() => {
    let live = true;
    api<Page<CodeBatch>>('GET', `/v1/promotions/${promotion}/code_batches?limit=1`)
      .then((page) => {
        const newest = page.data[0];
        if (live && newest && (newest.status === 'pending' || newest.status === 'running'))
          setStarted((s) => s ?? newest);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [promotion]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const whole = (text: string, param: string) => {
      if (!/^\s*\d+\s*$/.test(text.replace(/[,_]/g, ''))) throw fieldError(param, 'enter a whole number');
      return Number(text.replace(/[,_\s]/g, ''));
    };
    setBusy(true);
    try {
      const body: Record<string, unknown> = { count: whole(count, 'count') };
      if (prefix.trim()) body.prefix = prefix.trim();
      if (length.trim()) body.length = whole(length, 'length');
      if (maxRedemptions.trim()) body.max_redemptions = whole(maxRedemptions, 'max_redemptions');
      const created = await api<CodeBatch>('POST', `/v1/promotions/${promotion}/codes/generate`, body);
      setStarted(created);
      onStarted();
      if (created.status === 'succeeded') onDone(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const running = batch !== null && (batch.status === 'pending' || batch.status === 'running');
  return (
    <section className="panel" aria-labelledby="generate-title">
      <h2 id="generate-title">Generate codes</h2>
      <form onSubmit={submit} noValidate>
        <div className="form-row top">
          <Field label="How many" name="count" error={error} hint="1 to 100,000">
            <input
              name="count"
              inputMode="numeric"
              value={count}
              onChange={(e) => setCount(e.target.value)}
            />
          </Field>
          <Field label="Prefix" name="prefix" error={error} hint="optional, e.g. SPRING-">
            <input name="prefix" value={prefix} onChange={(e) => setPrefix(e.target.value)} />
          </Field>
        </div>
        <div className="form-row top">
          <Field label="Random characters" name="length" error={error} hint="10 to 32">
            <input
              name="length"
              inputMode="numeric"
              value={length}
              onChange={(e) => setLength(e.target.value)}
            />
          </Field>
          <Field label="Uses per code" name="max_redemptions" error={error} hint="1: single-use">
            <input
              name="max_redemptions"
              inputMode="numeric"
              value={maxRedemptions}
              onChange={(e) => setMaxRedemptions(e.target.value)}
            />
          </Field>
        </div>
        <FormError error={error} fields={FIELDS} />
        <button type="submit" disabled={busy || running}>
          {busy ? 'Starting…' : running ? 'Generating…' : 'Generate'}
        </button>
      </form>
      {batch ? <BatchProgress batch={batch} /> : null}
      <Notice error={pollError} />
    </section>
  );
}

export function Batches({ promotion, version }: { promotion: string; version: number }) {
  return (
    <section className="panel" aria-labelledby="batches-title">
      <h2 id="batches-title">Code batches</h2>
      <PagedTable<CodeBatch>
        path={`/v1/promotions/${promotion}/code_batches`}
        reloadKey={version}
        pageSize={5}
        empty="No batches yet."
        columns={[
          { header: 'Started', className: 'nowrap', cell: (b) => formatTime(b.created_at) },
          // Short ids and a prefix that may wrap keep the table within a 1280 px window.
          {
            header: 'Batch',
            className: 'nowrap',
            cell: (b) => (
              <span className="mono small" title={b.id}>
                {shortBatchId(b.id)}
              </span>
            ),
          },
          {
            header: 'Prefix',
            cell: (b) =>
              b.prefix ? <code className="wrap-anywhere">{b.prefix}</code> : <span className="muted">—</span>,
          },
          {
            header: 'Codes',
            className: 'num nowrap',
            cell: (b) => `${b.generated.toLocaleString('en-US')} / ${b.total.toLocaleString('en-US')}`,
          },
          {
            header: 'Status',
            cell: (b) => (
              <>
                <span
                  className={`badge${b.status === 'succeeded' ? ' badge-ok' : b.status === 'failed' ? ' badge-bad' : ''}`}
                >
                  {b.status}
                </span>
                {b.error ? <div className="muted small">{b.error}</div> : null}
              </>
            ),
          },
          { header: 'Finished', className: 'nowrap', cell: (b) => formatTime(b.completed_at) },
        ]}
      />
    </section>
  );
}
