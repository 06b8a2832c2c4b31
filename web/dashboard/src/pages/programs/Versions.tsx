// A program's versions, newest first, a page at a time (the API pages versions by number), with
// when each took or takes effect and who made it.
import { useEffect, useState } from 'react';
import { api, type Page, qs } from '../../api';
import { Notice, formatTime } from '../../components/ui';
import type { ProgramDocument, ProgramVersion } from './types';

const PAGE = 10;

export function Versions({
  programKey,
  inForce,
  reloadKey,
  onLoad,
}: {
  programKey: string;
  inForce: number | null;
  reloadKey: number;
  onLoad: (doc: ProgramDocument, version: number) => void;
}) {
  /** The cursor of each page shown so far: the last version number of the page before it. */
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<ProgramVersion> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<number | null>(null);
  const after = cursors[cursors.length - 1];

  useEffect(() => setCursors([undefined]), [reloadKey, programKey]);
  useEffect(() => {
    let live = true;
    api<Page<ProgramVersion>>(
      'GET',
      `/v1/programs/${encodeURIComponent(programKey)}/versions${qs({ limit: PAGE, starting_after: after })}`,
    )
      .then((p) => live && (setPage(p), setError(null)))
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [programKey, after, reloadKey]);

  const statusOf = (v: ProgramVersion) =>
    inForce === null || v.version > inForce ? (
      <span className="badge">scheduled</span>
    ) : v.version === inForce ? (
      <span className="badge badge-ok">in force</span>
    ) : (
      <span className="badge muted">superseded</span>
    );

  return (
    <section className="panel" aria-labelledby="versions-title">
      <h2 id="versions-title">Version history</h2>
      <Notice error={error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Effective at</th>
              <th scope="col">Created</th>
              <th scope="col">By</th>
              <th scope="col">Document</th>
            </tr>
          </thead>
          <tbody>
            {(page?.data ?? []).map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{statusOf(v)}</td>
                <td className="nowrap">{formatTime(v.effective_at)}</td>
                <td className="nowrap">{formatTime(v.created_at)}</td>
                <td>{v.actor ?? '—'}</td>
                <td>
                  <div className="row-buttons">
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => setOpen(open === v.version ? null : v.version)}
                    >
                      {open === v.version ? 'Hide' : 'Show'}
                    </button>
                    <button type="button" className="secondary" onClick={() => onLoad(v.document, v.version)}>
                      Edit from this
                    </button>
                  </div>
                  {open === v.version ? (
                    <pre className="json-view">{JSON.stringify(v.document, null, 2)}</pre>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="pager">
          <button
            type="button"
            disabled={cursors.length <= 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            ← Newer
          </button>
          <span>Page {cursors.length}</span>
          <button
            type="button"
            disabled={!page?.has_more}
            onClick={() => setCursors((c) => [...c, page?.data[page.data.length - 1]?.version])}
          >
            Older →
          </button>
        </div>
      </div>
    </section>
  );
}
