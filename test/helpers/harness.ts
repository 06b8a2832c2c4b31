import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/adapters/http/server.js';
import { systemIds } from '../../src/adapters/system.js';
import type { Clock, Db, Deps } from '../../src/app/ports.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import type { StoreCase } from './stores.js';

/** A clock tests move by hand; it starts at the real time so ids and timestamps look ordinary. */
export class TestClock implements Clock {
  private t: number;
  constructor(start: Date = new Date()) {
    this.t = start.getTime();
  }
  now() {
    return new Date(this.t);
  }
  set(at: Date | string) {
    this.t = new Date(at).getTime();
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

/** A route as Fastify registered it: the method and the URL template (e.g. `/v1/customers/:id`). */
export interface RegisteredRoute {
  method: string;
  url: string;
  /** Reachable without an API key (`config.public`). */
  public: boolean;
}

export interface Harness {
  db: Db;
  deps: Deps;
  clock: TestClock;
  app: FastifyInstance;
  /** The secret key of the harness's first workspace. */
  key: string;
  workspaceId: string;
  /**
   * Every route the server registered, in registration order, as the onRoute hook saw it, including
   * the HEAD twin Fastify adds for each GET route.
   */
  routes: RegisteredRoute[];
  /** Makes another workspace and returns its key. */
  newWorkspace(name?: string): Promise<{ key: string; workspaceId: string }>;
  request<T = any>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options?: { body?: unknown; key?: string | null; headers?: Record<string, string>; rawBody?: string },
  ): Promise<Reply<T>>;
  close(): Promise<void>;
}

/** A server on a fresh store, driven in-process through Fastify's inject (no sockets). */
export async function startHarness(
  store: StoreCase,
  options: { server?: ServerOptions } = {},
): Promise<Harness> {
  const db = await store.open();
  const clock = new TestClock();
  const deps: Deps = { db, clock, ids: systemIds() };
  const routes: RegisteredRoute[] = [];
  const app = await buildServer(deps, {
    ...options.server,
    onRoute(route) {
      options.server?.onRoute?.(route);
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        routes.push({ method, url: route.url, public: route.config?.public === true });
      }
    },
  });
  const newWorkspace = async (name = 'test') => {
    const created = await createWorkspace(deps, name);
    return { key: created.secret, workspaceId: created.workspace.id };
  };
  const first = await newWorkspace();
  return {
    db,
    deps,
    clock,
    app,
    key: first.key,
    workspaceId: first.workspaceId,
    routes,
    newWorkspace,
    async request(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const key = options.key === undefined ? first.key : options.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let payload: string | undefined;
      if (options.rawBody !== undefined) payload = options.rawBody;
      else if (options.body !== undefined) payload = JSON.stringify(options.body);
      if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
      let body: unknown = res.body;
      try {
        body = res.json();
      } catch {}
      return { status: res.statusCode, body: body as never, headers: res.headers };
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}
