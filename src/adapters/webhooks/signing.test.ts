import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { sign, signedHeaders } from './signing.js';

// Checked against the independent `standardwebhooks` package, not against this module's own output.
describe('Standard Webhooks signatures', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const body = '{"test": 2432232314}';
  const now = new Date();
  const timestamp_s = Math.floor(now.getTime() / 1000);

  it('matches the reference implementation byte for byte', () => {
    assert.equal(sign(secret, id, timestamp_s, body), new Webhook(secret).sign(id, now, body));
  });

  it('the reference verifier accepts the headers, and refuses a changed body, id or timestamp', () => {
    const headers = { ...signedHeaders([secret], id, timestamp_s, body) };
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
    assert.throws(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_other' }));
    assert.throws(() =>
      new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(timestamp_s + 1) }),
    );
  });

  it('during a rotation both secrets sign, space-separated, and either one verifies', () => {
    const next = 'whsec_QW5vdGhlclNlY3JldEZvclJvdGF0aW9u';
    const headers = { ...signedHeaders([next, secret], id, timestamp_s, body) };
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.ok(headers['webhook-signature'].split(' ').every((s) => s.startsWith('v1,')));
    assert.doesNotThrow(() => new Webhook(next).verify(body, headers));
    assert.doesNotThrow(() => new Webhook(secret).verify(body, headers));
    assert.throws(() => new Webhook('whsec_c29tZXRoaW5nRWxzZUVudGlyZWx5').verify(body, headers));
  });
});
