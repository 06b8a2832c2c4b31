// A customer's referral tree (whom it referred, and whom they referred, to five levels) with its
// referral figures per program: what support looks at before repairing a tree.
import { type FormEvent, useState } from 'react';
import { api, qs } from '../../api';
import { Field, FormError, Notice, useResource } from '../../components/ui';
import { navigate } from '../../router';
import { fieldError } from '../customers/input';
import { CustomerLink, formatAssetAmount, ReferralLink, StatusBadge, useAssets } from './shared';
import type { ReferralSummary, ReferralTree, TreeNode } from './types';

const FIELDS = ['id', 'depth'];

/** How many customers of a tree are named by external id (one lookup each, nearest levels first). */
const NAMED_NODES = 200;

/** The first NAMED_NODES customers of the tree, level by level. */
function nearest(nodes: TreeNode[]): Set<string> {
  const out = new Set<string>();
  let level = nodes;
  while (level.length > 0 && out.size < NAMED_NODES) {
    for (const n of level) if (out.size < NAMED_NODES) out.add(n.customer);
    level = level.flatMap((n) => n.children);
  }
  return out;
}

function treePath(customer: string, depth: string) {
  return `/v1/customers/${encodeURIComponent(customer)}/referral_tree${qs({ depth })}`;
}

export function ReferralTreeView({ query }: { query: URLSearchParams }) {
  const customer = query.get('customer') ?? '';
  const depth = query.get('depth') ?? '3';
  const [form, setForm] = useState({ customer, depth });
  const [error, setError] = useState<unknown>(null);
  const tree = useResource<ReferralTree>(customer ? treePath(customer, depth) : null);
  const summary = useResource<ReferralSummary>(
    customer ? `/v1/customers/${encodeURIComponent(customer)}/referral_summary` : null,
  );
  const root = useResource<{ id: string; external_id: string }>(
    customer ? `/v1/customers/${encodeURIComponent(customer)}` : null,
  );
  const assets = useAssets();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const c = form.customer.trim();
    if (!c) {
      setError(fieldError('id', 'Enter a customer: its external id or Perks id'));
      return;
    }
    try {
      await api('GET', treePath(c, form.depth));
      setError(null);
      navigate(`/referrals${qs({ tab: 'tree', customer: c, depth: form.depth })}`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <form className="panel" onSubmit={submit} aria-label="Show a referral tree" noValidate>
        <div className="form-row">
          <Field label="Customer" name="id" error={error} hint="External id or Perks id">
            <input
              name="customer"
              className="wide-input"
              value={form.customer}
              onChange={(e) => setForm({ ...form, customer: e.target.value })}
              spellCheck={false}
            />
          </Field>
          <Field label="Depth" name="depth" error={error}>
            <select
              name="depth"
              value={form.depth}
              onChange={(e) => setForm({ ...form, depth: e.target.value })}
            >
              {[1, 2, 3, 4, 5].map((d) => (
                <option key={d} value={d}>
                  {d} {d === 1 ? 'level' : 'levels'}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" className="form-row-submit">
            Show tree
          </button>
        </div>
        <FormError error={error} fields={FIELDS} />
      </form>
      {customer ? (
        <>
          <Notice error={tree.error ?? summary.error} />
          {summary.data && summary.data.programs.length > 0 ? (
            <div className="stats tree-stats">
              {summary.data.programs.map((p) => (
                <div className="stat" key={p.program}>
                  <div className="label">
                    {p.program} {p.status === 'suspended' ? <StatusBadge status="suspended" /> : null}
                  </div>
                  <div className="value">{p.converted}</div>
                  <div className="label">
                    converted of {p.referred_customers} referred · {p.clicks} clicks
                    {p.code ? (
                      <>
                        {' '}
                        · code <code>{p.code}</code>
                      </>
                    ) : null}
                  </div>
                  {p.rewards_earned.map((e) => (
                    <div className="fine" key={e.asset}>
                      earned {formatAssetAmount(e.net, e.asset, assets)}
                    </div>
                  ))}
                </div>
              ))}
            </div>
          ) : null}
          {tree.data ? (
            <section className="panel" aria-labelledby="tree-title">
              <h2 id="tree-title">
                Referred by <CustomerLink id={tree.data.customer} external={root.data?.external_id} />
              </h2>
              {tree.data.nodes.length === 0 ? (
                <p className="muted">
                  This customer has referred nobody (rejected referrals are not part of the tree).
                </p>
              ) : (
                <ul className="tree" aria-label="Referral tree">
                  {tree.data.nodes.map((n) => (
                    <Node key={n.referral} node={n} named={nearest(tree.data!.nodes)} />
                  ))}
                </ul>
              )}
              {tree.data.truncated ? (
                <Notice
                  kind="info"
                  error="The tree has more than 1,000 referrals: only the first 1,000 are shown."
                />
              ) : null}
            </section>
          ) : null}
        </>
      ) : null}
    </>
  );
}

function Node({ node, named }: { node: TreeNode; named: Set<string> }) {
  return (
    <li>
      <span className="tree-node">
        <CustomerLink id={node.customer} resolve={named.has(node.customer)} />{' '}
        <StatusBadge status={node.status} />{' '}
        <span className="fine muted">
          {node.program} · <ReferralLink id={node.referral} />
        </span>
      </span>
      {node.children.length > 0 ? (
        <ul>
          {node.children.map((c) => (
            <Node key={c.referral} node={c} named={named} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}
