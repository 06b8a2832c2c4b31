import assert from 'node:assert/strict';
import type { Db } from '../../src/app/ports.js';
import type { Harness, Reply } from './harness.js';
import type { StoreCase } from './stores.js';

/**
 * The shared tenant-isolation suite (test/isolation/isolation.test.ts) runs every case exported by a
 * `test/isolation/*.cases.ts` file. See the comment at the top of that suite for the case format.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: string;
}

/** One workspace and its secret key. */
export interface Tenant {
  key: string;
  workspaceId: string;
}

export interface IsolationContext {
  store: StoreCase['name'];
  h: Harness;
  /** The workspace whose key attacks. */
  a: Tenant;
  /** The workspace whose data must stay out of A's reach. */
  b: Tenant;
  /** Sends a request with A's key. Fails the case if the answer shows one of B's ids A did not send. */
  asA<T = any>(method: Method, url: string, options?: RequestOptions): Promise<Reply<T>>;
  /** Sends a request with B's key. */
  asB<T = any>(method: Method, url: string, options?: RequestOptions): Promise<Reply<T>>;
  /** A string unique in this run, for external ids, event ids and idempotency keys. */
  unique(prefix: string): string;
  /**
   * Runs `attack` (A's requests) and asserts that nothing of B changed: every row of every table
   * holding B's workspace_id, and the answers B's key gets from `reads` (GET URLs, read before and
   * after) are identical.
   */
  unchangedForB(attack: () => Promise<void>, reads: string[]): Promise<void>;
  /** Asserts a typed 404 (resource_not_found). */
  expectNotFound(reply: Reply, what: string): void;
  /** Asserts a 200 list in which no item is one of B's ids. */
  expectNoneOfB(reply: Reply, what: string): Promise<void>;
}

export interface IsolationCase {
  /** The method as registered. */
  method: Method;
  /** The URL template exactly as registered, e.g. '/v1/customers/:id'. */
  url: string;
  /** What the case proves, in a sentence. */
  name: string;
  run(ctx: IsolationContext): Promise<void>;
}

interface TenantSchema {
  /** Every table with a workspace_id column. */
  tables: string[];
  /** Those of them with an `id` column (Perks-generated ids). */
  withId: string[];
}

/** The schema does not change while tests run, so it is read once per store. */
const schemas = new WeakMap<Db, Promise<TenantSchema>>();

function tenantSchema(db: Db): Promise<TenantSchema> {
  let schema = schemas.get(db);
  if (!schema) {
    schema = db
      .query<{ table_name: string; has_id: boolean }>(
        `select table_name, bool_or(column_name = 'id') as has_id from information_schema.columns
         where table_schema = current_schema() group by table_name
         having bool_or(column_name = 'workspace_id') order by table_name`,
      )
      .then((rows) => ({
        tables: rows.map((r) => r.table_name),
        withId: rows.filter((r) => r.has_id).map((r) => r.table_name),
      }));
    schemas.set(db, schema);
  }
  return schema;
}

/** Tables that hold tenant data: every table with a workspace_id column. */
export async function tenantTables(db: Db): Promise<string[]> {
  return (await tenantSchema(db)).tables;
}

/** Every row of every tenant table that belongs to one workspace, in a stable order (one query). */
export async function workspaceState(db: Db, workspaceId: string): Promise<Record<string, string[]>> {
  const { tables } = await tenantSchema(db);
  const rows = await db.query<{ t: string; r: string }>(
    tables
      .map((t) => `select '${t}' as t, row_to_json(x)::text as r from "${t}" x where x.workspace_id = $1`)
      .join(' union all '),
    [workspaceId],
  );
  const state: Record<string, string[]> = Object.fromEntries(tables.map((t) => [t, []]));
  for (const { t, r } of rows) state[t]!.push(r);
  for (const list of Object.values(state)) list.sort();
  return state;
}

/** The Perks-generated ids found in a workspace's rows (values of every `id` column), and its own id. */
export async function generatedIds(db: Db, workspaceId: string): Promise<Set<string>> {
  const { withId } = await tenantSchema(db);
  const rows = await db.query<{ id: string }>(
    withId.map((t) => `select id::text as id from "${t}" where workspace_id = $1`).join(' union all '),
    [workspaceId],
  );
  return new Set([workspaceId, ...rows.map((r) => r.id)]);
}

export function makeContext(
  store: StoreCase['name'],
  h: Harness,
  a: Tenant,
  b: Tenant,
  unique: (prefix: string) => string,
): IsolationContext {
  const send =
    (key: string) =>
    (method: Method, url: string, options: RequestOptions = {}) =>
      h.request(method, url, { ...options, key });
  const asB = send(b.key);
  return {
    store,
    h,
    a,
    b,
    unique,
    asB,
    async asA(method, url, options = {}) {
      const reply = await send(a.key)(method, url, options);
      // Any id of B's in A's answer is a leak, unless A itself sent it (an error may echo it back).
      const sent = `${url}\n${options.rawBody ?? JSON.stringify(options.body ?? null)}`;
      const answer = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      for (const id of await generatedIds(h.db, b.workspaceId)) {
        if (sent.includes(id)) continue;
        assert.ok(
          !answer.includes(id),
          `${method} ${url} with A's key answered with B's id ${id}: ${answer}`,
        );
      }
      return reply;
    },
    async unchangedForB(attack, reads) {
      const readAll = async () => {
        const out: Record<string, unknown> = {};
        for (const url of reads) {
          const reply = await asB('GET', url);
          out[url] = { status: reply.status, body: reply.body };
        }
        return out;
      };
      const stateBefore = await workspaceState(h.db, b.workspaceId);
      const readsBefore = await readAll();
      // Every workspace has its own row and a key; the case must have made more than that.
      assert.ok(
        Object.entries(stateBefore).some(
          ([table, rows]) => table !== 'workspaces' && table !== 'api_keys' && rows.length > 0,
        ),
        'B holds no rows: the case must create B’s resources before attacking',
      );
      await attack();
      assert.deepEqual(await readAll(), readsBefore, "B's own reads changed after A's requests");
      assert.deepEqual(await workspaceState(h.db, b.workspaceId), stateBefore, "B's rows changed");
    },
    expectNotFound(reply, what) {
      assert.equal(reply.status, 404, `${what}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body?.error?.code, 'resource_not_found', `${what}: ${JSON.stringify(reply.body)}`);
    },
    async expectNoneOfB(reply, what) {
      assert.equal(reply.status, 200, `${what}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body?.object, 'list', what);
      const ids = await generatedIds(h.db, b.workspaceId);
      for (const item of reply.body.data as { id: string }[]) {
        assert.ok(!ids.has(item.id), `${what}: A's list holds B's ${item.id}`);
      }
    },
  };
}
