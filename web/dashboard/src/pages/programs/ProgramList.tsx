// Every program of the workspace, a page at a time, and the three reference templates to start from.
import type { Page } from '../../api';
import { type Column, Notice, PagedTable, PageHeader, formatTime, useResource } from '../../components/ui';
import { linkProps } from '../../router';
import type { Program, Template } from './types';

const columns: Column<Program>[] = [
  {
    header: 'Program',
    cell: (p) => (
      <>
        <a {...linkProps(`/programs/${encodeURIComponent(p.key)}`)}>{p.name}</a>
        <div className="fine muted mono">{p.key}</div>
      </>
    ),
  },
  {
    header: 'In force',
    cell: (p) =>
      p.version === null ? (
        <span className="badge">not yet</span>
      ) : (
        <span className="badge badge-ok">version {p.version}</span>
      ),
  },
  { header: 'Since', cell: (p) => <span className="nowrap">{formatTime(p.effective_at)}</span> },
  {
    header: 'Scheduled',
    cell: (p) =>
      p.pending_version ? (
        <span className="nowrap">
          version {p.pending_version.version} at {formatTime(p.pending_version.effective_at)}
        </span>
      ) : (
        <span className="muted">—</span>
      ),
  },
  {
    header: 'Rewards',
    className: 'num',
    cell: (p) => (Array.isArray(p.document.rewards) ? p.document.rewards.length : 0),
  },
  { header: 'Versions', className: 'num', cell: (p) => p.latest_version },
  { header: 'Updated', cell: (p) => <span className="nowrap">{formatTime(p.updated_at)}</span> },
];

export function ProgramList() {
  const templates = useResource<Page<Template>>('/v1/programs/templates');
  return (
    <>
      <PageHeader title="Programs">
        <a className="button" {...linkProps('/programs/new')}>
          New program
        </a>
      </PageHeader>
      <PagedTable<Program>
        path="/v1/programs"
        columns={columns}
        empty="No program yet: start from a template below."
      />
      <section className="templates" aria-labelledby="templates-title">
        <h2 id="templates-title">Start from a reference template</h2>
        <Notice error={templates.error} />
        <div className="grid">
          {(templates.data?.data ?? []).map((t) => (
            <article className="panel template-card" key={t.name}>
              <h3>{t.document.name}</h3>
              <p className="mono fine muted">{t.name}</p>
              <p>{t.summary}</p>
              <p className="fine muted">Pays in {t.assets.map((a) => a.key).join(', ')}</p>
              <a
                className="button secondary"
                {...linkProps(`/programs/new?template=${encodeURIComponent(t.name)}`)}
              >
                Use this template
              </a>
            </article>
          ))}
        </div>
      </section>
    </>
  );
}
