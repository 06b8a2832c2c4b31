import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Stripe's API that the SDK is pointed at (STRIPE_API_BASE / the SDK's host, port
 * and protocol options). It records every request, honours Idempotency-Key like Stripe (a repeated
 * key answers the first response), serves list endpoints with cursor pagination, and can be told to
 * fail requests (5xx, 4xx, dropped connections) to exercise retries.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  params: Record<string, unknown>;
  /** Whether the answer was a replay of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
  status: number | 'dropped';
}

/**
 * A status to answer instead, 'drop' to close the connection before doing anything, or 'lost' to do
 * the work and then close the connection (the caller never learns it succeeded).
 */
export type Failure = number | 'drop' | 'lost';

export interface FakeStripe {
  url: string;
  requests: RecordedRequest[];
  /** Objects served by the list endpoints, by resource (customers, subscriptions, products, payment_methods). */
  lists: Record<string, Record<string, unknown>[]>;
  /** Answers the next requests to paths starting with `prefix` with these failures, in order. */
  fail(prefix: string, ...failures: Failure[]): void;
  /** Invoice items created (each once, however often its request was repeated). */
  invoiceItems(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Turns Stripe's form encoding (`metadata[a]=b`) back into nested objects. */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Record<string, unknown> = out;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return out;
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const idempotent = new Map<string, { status: number; body: string }>();
  const failures: { prefix: string; failure: Failure }[] = [];
  const created: Record<string, unknown>[] = [];
  const lists: Record<string, Record<string, unknown>[]> = {
    customers: [],
    subscriptions: [],
    products: [],
    payment_methods: [],
  };
  let serial = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stripe.local');
      const body = Buffer.concat(chunks).toString('utf8');
      const params = req.method === 'GET' ? Object.fromEntries(url.searchParams) : parseForm(body);
      const key = req.headers['idempotency-key'] as string | undefined;
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        idempotencyKey: key,
        authorization: req.headers.authorization,
        params,
        replayed: false,
        status: 200,
      };
      requests.push(record);
      const send = (status: number, payload: unknown) => {
        const text = JSON.stringify(payload);
        if (lose) {
          record.status = 'dropped';
          req.socket.destroy();
          return text;
        }
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${++serial}` });
        res.end(text);
        return text;
      };
      const planned = failures.findIndex((f) => url.pathname.startsWith(f.prefix));
      let lose = false;
      if (planned >= 0) {
        const failure = failures.splice(planned, 1)[0]!.failure;
        if (failure === 'lost') lose = true;
        else if (failure === 'drop') {
          record.status = 'dropped';
          req.socket.destroy();
          return;
        } else {
          const type = failure >= 500 ? 'api_error' : 'invalid_request_error';
          send(failure, { error: { type, message: `fake failure ${failure}` } });
          return;
        }
      }
      if (req.method === 'POST' && key && idempotent.has(key)) {
        const prior = idempotent.get(key)!;
        record.replayed = true;
        record.status = prior.status;
        res.writeHead(prior.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
        res.end(prior.body);
        return;
      }
      const remember = (status: number, payload: unknown) => {
        const text = send(status, payload);
        if (key) idempotent.set(key, { status, body: text });
      };
      if (req.method === 'POST' && url.pathname === '/v1/invoiceitems') {
        const item = {
          id: `ii_fake_${++serial}`,
          object: 'invoiceitem',
          ...params,
          amount: Number(params.amount),
        };
        created.push(item);
        remember(200, item);
        return;
      }
      const list = /^\/v1\/(customers|subscriptions|products|payment_methods)$/.exec(url.pathname);
      const customerPms = /^\/v1\/customers\/([^/]+)\/payment_methods$/.exec(url.pathname);
      if (req.method === 'GET' && (list || customerPms)) {
        let items = lists[list ? list[1]! : 'payment_methods']!;
        const customerFilter = customerPms?.[1] ?? url.searchParams.get('customer');
        if (customerFilter && (customerPms || list?.[1] === 'payment_methods')) {
          items = items.filter((i) => i.customer === customerFilter);
        }
        const limit = Number(url.searchParams.get('limit') ?? 10);
        const after = url.searchParams.get('starting_after');
        const start = after ? items.findIndex((i) => i.id === after) + 1 : 0;
        const page = items.slice(start, start + limit);
        send(200, { object: 'list', data: page, has_more: start + limit < items.length, url: url.pathname });
        return;
      }
      send(404, {
        error: { type: 'invalid_request_error', message: `fake Stripe has no ${req.method} ${url.pathname}` },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    lists,
    fail(prefix, ...list) {
      for (const failure of list) failures.push({ prefix, failure });
    },
    invoiceItems: () => created,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
