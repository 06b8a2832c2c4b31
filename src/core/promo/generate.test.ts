import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BITS_PER_SYMBOL,
  CODE_ALPHABET,
  GENERATED_MIN_BITS,
  GENERATED_MIN_LENGTH,
  randomBitsFor,
  symbolsFromBase62,
} from './generate.js';
import { normalizeCode } from './normalize.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('generated codes', () => {
  it('use 32 distinct symbols without the look-alikes 0, O, 1 and I', () => {
    assert.equal(new Set(CODE_ALPHABET).size, 32);
    for (const ch of '0O1I') assert.ok(!CODE_ALPHABET.includes(ch), ch);
    assert.equal(2 ** BITS_PER_SYMBOL, CODE_ALPHABET.length);
  });

  it('carry at least 50 bits at the minimum length', () => {
    assert.ok(GENERATED_MIN_LENGTH * BITS_PER_SYMBOL >= GENERATED_MIN_BITS);
    assert.equal(GENERATED_MIN_LENGTH, 10);
  });

  it('are already in normal form', () => {
    const code = symbolsFromBase62('Zz09aB7kQ1xYwV3rT5uP', 12)!;
    assert.deepEqual(normalizeCode(code), { ok: true, code });
  });

  it('map every base62 value below the cut-off to symbols exactly uniformly', () => {
    // All 62^2 = 3844 two-digit strings, one symbol each: 3840 are kept, 120 per symbol; 4 are refused.
    const seen = new Map<string, number>();
    let refused = 0;
    for (const a of BASE62) {
      for (const b of BASE62) {
        const s = symbolsFromBase62(a + b, 1);
        if (s === undefined) refused++;
        else seen.set(s, (seen.get(s) ?? 0) + 1);
      }
    }
    assert.equal(refused, 3844 % 32);
    assert.equal(seen.size, 32);
    for (const [symbol, n] of seen) assert.equal(n, 120, symbol);
  });

  it('refuse the top of the range and accept the value just below it', () => {
    assert.equal(symbolsFromBase62('zz', 1), undefined, 'the largest value is in the biased range');
    // 3839 is the last accepted value: 3839 = 61 * 62 + 57 -> 'z' then BASE62[57] = 'v'.
    assert.equal(typeof symbolsFromBase62('zv', 1), 'string');
    assert.equal(symbolsFromBase62('zw', 1), undefined);
  });

  it('ask for enough random bits that a refused draw is negligible', () => {
    assert.equal(randomBitsFor(12), 12 * 5 + 64);
  });

  it('reject input that is not base62', () => {
    assert.throws(() => symbolsFromBase62('ab-c', 2), /not a base62 digit/);
  });
});
