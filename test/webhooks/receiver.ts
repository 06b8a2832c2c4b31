import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * The user's product in tests: an HTTP server that receives Perks webhooks, checks each signature
 * with the independent `standardwebhooks` package (against every secret it is given), and applies
 * each message's effect once, keyed by webhook-id, however often it is delivered.
 */

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The secrets (by index in `secrets`) whose verification passed. */
  verifiedWith: number[];
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Messages applied once each, by webhook-id. */
  effects: Map<string, unknown>;
  /** The secrets to verify with; a delivery no secret verifies is answered 401. */
  secrets: string[];
  /** The status to answer (default 200), or a function of the delivery number. */
  respond: number | ((n: number) => number);
  /** Milliseconds to wait before answering. */
  delay_ms: number;
  close(): Promise<void>;
}

export async function startReceiver(options: { secrets?: string[]; host?: string } = {}): Promise<Receiver> {
  const state: Receiver = {
    url: '',
    received: [],
    effects: new Map(),
    secrets: options.secrets ?? [],
    respond: 200,
    delay_ms: 0,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      const verifiedWith: number[] = [];
      state.secrets.forEach((secret, index) => {
        try {
          new Webhook(secret).verify(body, headers);
          verifiedWith.push(index);
        } catch {}
      });
      state.received.push({
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        verifiedWith,
      });
      const n = state.received.length;
      if (state.delay_ms > 0) await new Promise((r) => setTimeout(r, state.delay_ms));
      if (state.secrets.length > 0 && verifiedWith.length === 0) {
        res.writeHead(401).end('bad signature');
        return;
      }
      const status = typeof state.respond === 'function' ? state.respond(n) : state.respond;
      if (status >= 200 && status < 300 && !state.effects.has(headers['webhook-id'])) {
        state.effects.set(headers['webhook-id'], JSON.parse(body));
      }
      res
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status < 300 ? 'ok' : `failing with ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://${options.host ?? '127.0.0.1'}:${port}/hooks/perks`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
