import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CODE_ALPHABET,
  codeFromEntropy,
  isWellFormedCode,
  normaliseCode,
  vanityCodeProblem,
} from './codes.js';

describe('referral codes', () => {
  it('the alphabet has no look-alike characters', () => {
    for (const ch of '01OIL') assert.ok(!CODE_ALPHABET.includes(ch), ch);
    assert.equal(new Set(CODE_ALPHABET).size, CODE_ALPHABET.length);
  });

  it('a generated code has 8 characters from the alphabet', () => {
    const code = codeFromEntropy('0123456789AZaz');
    assert.equal(code.length, 8);
    for (const ch of code) assert.ok(CODE_ALPHABET.includes(ch));
  });

  it('every base62 character maps to one alphabet letter, each letter twice (uniform)', () => {
    const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const counts = new Map<string, number>();
    for (let i = 0; i < base62.length; i += 8) {
      const chunk = base62.slice(i, i + 8).padEnd(8, '0');
      for (const ch of codeFromEntropy(chunk)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    const single = new Map<string, number>();
    for (const ch of base62) {
      const c = codeFromEntropy(ch.repeat(8))[0]!;
      single.set(c, (single.get(c) ?? 0) + 1);
    }
    assert.equal(single.size, CODE_ALPHABET.length);
    for (const n of single.values()) assert.equal(n, 2);
  });

  const normalised: [string, string, string][] = [
    ['lower case is the same code', 'abcd2345', 'ABCD2345'],
    ['hyphens and spaces are ignored', ' ab-cd 23-45 ', 'ABCD2345'],
  ];
  for (const [label, input, expected] of normalised) {
    it(label, () => assert.equal(normaliseCode(input), expected));
  }

  const vanity: [string, string, boolean][] = [
    ['a word with a hyphen is a fine vanity code', 'summer-sale', true],
    ['three characters are too short', 'abc', false],
    ['33 characters are too long', 'a'.repeat(33), false],
    ['punctuation is refused', 'hi!there', false],
    ['a slash is refused', 'a/b/c/d', false],
  ];
  for (const [label, input, ok] of vanity) {
    it(label, () => assert.equal(vanityCodeProblem(input) === undefined, ok));
  }

  it('well-formed codes are 4 to 32 letters and digits', () => {
    assert.ok(isWellFormedCode('ABCD2345'));
    assert.ok(!isWellFormedCode('AB'));
    assert.ok(!isWellFormedCode('ABCD 2345'));
  });
});
