import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AttemptRecord } from '../../app/webhook_endpoints_delivery.js';
import type { PrivateAddressPolicy } from '../../config.js';
import { addressAllowed, classifyAddress, guardedLookup } from './addresses.js';

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Only the start of a response is kept for the delivery log; the rest is read and dropped. */
const MAX_RESPONSE_BYTES = 4096;

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export interface PostOptions {
  policy: PrivateAddressPolicy;
  timeout_ms?: number;
  now: () => Date;
}

/**
 * POSTs one delivery. Never throws: every outcome (a status, a timeout, a refused address, a network
 * error) becomes an attempt record. Redirects are not followed: a 3xx is a failed attempt.
 */
export function postWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<AttemptRecord> {
  const started_at = options.now();
  const start = performance.now();
  const timeout_ms = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const done = (
    status_code: number | null,
    error: string | null,
    response_body: string | null,
  ): AttemptRecord => ({
    started_at,
    duration_ms: Math.round(performance.now() - start),
    status_code,
    error,
    response_body,
  });
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve(done(null, `the endpoint URL '${target}' is not valid`, null));
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) && !addressAllowed(host, options.policy)) {
    return Promise.resolve(
      done(null, `refused to connect to ${host}, a ${classifyAddress(host).replace('_', '-')} address`, null),
    );
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (record: AttemptRecord) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(record);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        lookup: guardedLookup(options.policy),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Perks-Webhooks/1',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          finish(done(status, ok ? null : `the endpoint answered HTTP ${status}`, text));
        });
        res.on('error', (err) =>
          finish(done(res.statusCode ?? null, `reading the response failed: ${err.message}`, null)),
        );
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(done(null, `no response within ${timeout_ms} ms`, null));
    }, timeout_ms);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish(done(null, `${err.code ? `${err.code}: ` : ''}${err.message}`, null)),
    );
    req.end(body);
  });
}
