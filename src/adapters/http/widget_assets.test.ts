import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type Harness, startHarness } from '../../../test/helpers/harness.js';
import { storeCases } from '../../../test/helpers/stores.js';
import { WIDGET_FILE, WIDGET_PATH } from './web_assets.js';

/** The widget script as other origins load it, and its size budget (stated in docs/widget.md). */

const MAX_GZIP_BYTES = 30 * 1024;

describe('the widget script', () => {
  let h: Harness;
  before(async () => {
    assert.ok(existsSync(WIDGET_FILE), `${WIDGET_FILE} is missing: run \`npm run build:web\``);
    h = await startHarness(storeCases()[0]!);
  });
  after(() => h?.close());

  it('is one self-contained script under 30 kB gzipped', () => {
    const source = readFileSync(WIDGET_FILE);
    const gzipped = gzipSync(source, { level: 9 }).length;
    assert.ok(gzipped < MAX_GZIP_BYTES, `${gzipped} bytes gzipped, over the ${MAX_GZIP_BYTES} budget`);
    const text = source.toString('utf8');
    assert.match(text, /perks-referral/);
    assert.doesNotMatch(text, /^\s*import\s|\bimport\(/m, 'no imports: one file is the whole widget');
  });

  it('is served to any origin, gzipped when asked, with a short cache and an ETag', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: WIDGET_PATH,
      headers: { origin: 'https://app.example.com', 'accept-encoding': 'gzip, br' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.equal(res.headers['cache-control'], 'public, max-age=600');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.rawPayload.length < MAX_GZIP_BYTES, `served ${res.rawPayload.length} bytes`);

    const plain = await h.app.inject({ method: 'GET', url: WIDGET_PATH });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(plain.rawPayload, readFileSync(WIDGET_FILE));

    const etag = String(res.headers.etag);
    const again = await h.app.inject({ method: 'GET', url: WIDGET_PATH, headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.rawPayload.length, 0);
  });
});
