// One program: its terms in force, the JSON editor for a new version, and its version history.
import { useState } from 'react';
import { Notice, PageHeader, formatTime, useResource } from '../../components/ui';
import { linkProps } from '../../router';
import { formatAssetAmount, useAssets } from '../referrals/shared';
import { rewardLine, rewardsOf, termLines } from './describe';
import { ProgramEditor } from './ProgramEditor';
import type { JsonSchema } from './schemaCheck';
import type { Program, ProgramDocument } from './types';
import { Versions } from './Versions';

export function ProgramDetail({ programKey }: { programKey: string }) {
  const program = useResource<Program>(`/v1/programs/${encodeURIComponent(programKey)}`);
  const schema = useResource<JsonSchema>('/v1/programs/schema.json');
  const assets = useAssets();
  const [reloadKey, setReloadKey] = useState(0);
  const [saved, setSaved] = useState<string | null>(null);
  /** A version's document the operator chose to start the next edit from. */
  const [loaded, setLoaded] = useState<{ doc: ProgramDocument; version: number } | null>(null);
  const p = program.data;
  const fmt = (amount: number, asset: string) => formatAssetAmount(amount, asset, assets);

  return (
    <>
      <PageHeader title={p?.name ?? programKey}>
        <a className="button secondary" {...linkProps('/programs')}>
          ← Programs
        </a>
        <a
          className="button secondary"
          {...linkProps(`/referrals?program=${encodeURIComponent(programKey)}`)}
        >
          Its referrals
        </a>
      </PageHeader>
      <Notice error={program.error} />
      {p ? (
        <>
          <section className="panel" aria-labelledby="terms-title">
            <h2 id="terms-title">
              Terms in force{' '}
              {p.version === null ? (
                <span className="badge">none yet</span>
              ) : (
                <span className="badge badge-ok">version {p.version}</span>
              )}{' '}
              <span className="muted fine">
                <code>{p.key}</code> since {formatTime(p.effective_at)}
              </span>
            </h2>
            {p.pending_version ? (
              <Notice
                kind="info"
                error={`Version ${p.pending_version.version} takes effect at ${formatTime(p.pending_version.effective_at)}. Referrals attributed before then keep the terms below.`}
              />
            ) : null}
            {typeof p.document.description === 'string' ? <p>{p.document.description}</p> : null}
            <dl className="facts">
              <div className="facts-row">
                <dt>Landing URL</dt>
                <dd className="mono">{String(p.document.landing_url ?? '—')}</dd>
              </div>
              {termLines(p.document).map(([label, text]) => (
                <div className="facts-row" key={label}>
                  <dt>{label}</dt>
                  <dd>{text}</dd>
                </div>
              ))}
            </dl>
            <h3>Rewards</h3>
            <ol className="reward-rules">
              {rewardsOf(p.document).map((r, n) => (
                <li key={n}>
                  {r.description ? <strong>{r.description}</strong> : null}
                  <div className="fine muted">{rewardLine(r, fmt)}</div>
                </li>
              ))}
            </ol>
          </section>
          {saved ? (
            <div className="notice notice-info" role="status">
              {saved}
            </div>
          ) : null}
          {/* The editor waits for the schema, which orders and checks the document it starts from. */}
          {schema.data || schema.error ? (
            <ProgramEditor
              key={`${p.latest_version}-${loaded?.version ?? 'latest'}`}
              program={p}
              schema={schema.data}
              start={loaded}
              onSaved={(message) => {
                setSaved(message);
                setLoaded(null);
                program.reload();
                setReloadKey((k) => k + 1);
              }}
            />
          ) : null}
          <Versions
            programKey={p.key}
            inForce={p.version}
            reloadKey={reloadKey}
            onLoad={(doc, version) => {
              setLoaded({ doc, version });
              document.getElementById('editor-title')?.scrollIntoView({ behavior: 'smooth' });
            }}
          />
        </>
      ) : null}
    </>
  );
}
