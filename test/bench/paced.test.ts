import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { paced } from '../../bench/lib.js';

/**
 * The benchmarks' open-loop client (bench/lib.ts `paced`): every request sent once, each answer
 * counted by its status, latency counted from when a request was due, and a response it cannot read
 * failing the run.
 */

describe('paced load (benchmarks)', () => {
  let server: http.Server;
  let url: string;
  const bodies: number[] = [];
  const authorizations = new Set<string | undefined>();

  before(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        authorizations.add(req.headers.authorization);
        if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"a":');
          res.end('1}');
          return;
        }
        const { i } = JSON.parse(text) as { i: number };
        bodies.push(i);
        const delay_ms = req.url === '/slow' ? 20 : 2;
        setTimeout(() => {
          const answer = JSON.stringify({ i, padding: 'x'.repeat(i % 7 === 0 ? 70_000 : 10) });
          res.writeHead(i % 10 === 0 ? 422 : 201, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(answer),
          });
          res.end(answer);
        }, delay_ms);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends each request once, counts every answer by status, and keeps the first failures', async () => {
    bodies.length = 0;
    const result = await paced({
      url,
      key: 'sk_test',
      connections: 4,
      rate: 200,
      duration_s: 0.5,
      warmup_s: 0.1,
      method: 'POST',
      path: '/ok',
      body: (i) => JSON.stringify({ i }),
    });
    // 20 warm-up requests, then 100 measured; indices 0..119, multiples of 10 answered 422. Some
    // answers (every seventh) are 70 kB, so they arrive in several pieces.
    assert.deepEqual(
      [...bodies].sort((a, b) => a - b),
      Array.from({ length: 120 }, (_, i) => i),
    );
    assert.equal(result.sent, 100);
    assert.deepEqual(result.statusCodes, { 201: 108, 422: 12 });
    assert.equal(result.failureSamples.length, 3);
    assert.match(result.failureSamples[0]!, /^422 \{"i":0,/);
    assert.ok(
      result.latencyP50_ms >= 2,
      `each answer took at least the server's 2 ms: ${result.latencyP50_ms}`,
    );
    assert.deepEqual([...authorizations], ['Bearer sk_test']);
  });

  it('counts the wait for a free connection in the latency', async () => {
    // One connection, 20 ms per answer, a request due every 10 ms: each waits longer than the last,
    // the 30th about 300 ms. A client timing from the send would see 20 ms throughout.
    const result = await paced({
      url,
      connections: 1,
      rate: 100,
      duration_s: 0.3,
      method: 'POST',
      path: '/slow',
      body: (i) => JSON.stringify({ i: i * 10 + 1 }),
    });
    assert.deepEqual(result.statusCodes, { 201: 30 });
    assert.ok(result.latencyMax_ms >= 200, `the last request waited its turn: ${result.latencyMax_ms} ms`);
  });

  it('fails the run when a connection cannot be opened', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      paced({
        url: `http://127.0.0.1:${port}`,
        connections: 2,
        rate: 10,
        duration_s: 0.1,
        method: 'POST',
        path: '/ok',
        body: () => '{}',
      }),
      /ECONNREFUSED/,
    );
  });

  it('fails the run on a response it cannot read', async () => {
    await assert.rejects(
      paced({
        url,
        connections: 2,
        rate: 50,
        duration_s: 0.1,
        method: 'POST',
        path: '/chunked',
        body: () => '{}',
      }),
      /a response it cannot read/,
    );
  });
});
