import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODE_INPUT_MAX_LENGTH, CODE_MAX_LENGTH, normalizeCode } from './normalize.js';

describe('normalizeCode', () => {
  const same: [string, string][] = [
    ['plain upper case', 'SUMMER24'],
    ['lower case with surrounding spaces and a dash', ' summer-24 '],
    ['full-width letters and digits (NFKC)', 'ｓｕｍｍｅｒ２４'],
    ['mixed case with an inner space', 'Summer 24'],
    ['an en dash and a non-breaking space', 'summer\u2013\u00a024'],
    ['a full-width hyphen (NFKC makes it a dash, then it is dropped)', 'SUMMER\uff0d24'],
    ['a leading tab and a trailing line break (trimmed)', '\tsummer24\r\n'],
    ['several dashes', 's-u-m-m-e-r--2-4'],
    ['a minus sign (U+2212, from typeset text)', 'summer\u221224'],
    ['a soft hyphen (U+00AD, invisible in copied text)', 'sum\u00admer24'],
  ];
  for (const [label, input] of same) {
    it(`${label} -> SUMMER24`, () => {
      assert.deepEqual(normalizeCode(input), { ok: true, code: 'SUMMER24' });
    });
  }

  it('keeps letters of other scripts and folds their case', () => {
    assert.deepEqual(normalizeCode('été-2024'), { ok: true, code: 'ÉTÉ2024' });
    assert.deepEqual(normalizeCode('straße'), { ok: true, code: 'STRASSE' });
    // Scripts written with combining marks: Devanagari and Thai vowel signs, a virama.
    assert.deepEqual(normalizeCode('दिवाली-50'), { ok: true, code: 'दिवाली50' });
    assert.deepEqual(normalizeCode('สงกรานต์'), { ok: true, code: 'สงกรานต์' });
    // An accent NFKC composes is one letter, typed either way.
    assert.deepEqual(normalizeCode('e\u0301te\u0301'), normalizeCode('été'));
    assert.deepEqual(
      normalizeCode('ﬁnal_10'),
      { ok: true, code: 'FINAL_10' },
      'the fi ligature is two letters',
    );
  });

  const refused: [string, string, RegExp][] = [
    ['empty', '', /at least one letter or digit/],
    ['only spaces and dashes', ' - - ', /at least one letter or digit/],
    ['a control character', 'SUMMER\u000724', /control, format or unassigned/],
    ['a NUL', 'SUMMER\u000024', /control, format or unassigned/],
    ['a tab inside', 'SUMMER\t24', /control, format or unassigned/],
    ['a zero-width joiner', 'SUM\u200dMER', /control, format or unassigned/],
    ['a right-to-left override', '\u202eSUMMER', /control, format or unassigned/],
    ['a variation selector', 'SUMMER24\ufe0f', /control, format or unassigned/],
    ['a combining grapheme joiner', 'SUM\u034fMER', /control, format or unassigned/],
    ['a Khmer inherent vowel (draws nothing)', 'SALE\u17b4', /control, format or unassigned/],
    ['a Hangul filler', 'SALE\u3164', /control, format or unassigned/],
    ['an overlay mark (O with a slash, like Ø)', 'O\u0338K', /overlay or enclosing marks/],
    ['an enclosing mark', 'A\u20dd', /overlay or enclosing marks/],
    ['a mark with nothing before it', '\u0301SUMMER', /only letters \(with their combining marks\), digits/],
    ['punctuation', 'SUMMER!24', /only letters \(with their combining marks\), digits/],
    ['an emoji', 'SUMMER🎉', /only letters \(with their combining marks\), digits/],
    ['a dot', 'A.B', /only letters \(with their combining marks\), digits/],
    ['too long once normalised', 'A'.repeat(CODE_MAX_LENGTH + 1), new RegExp(`at most ${CODE_MAX_LENGTH}`)],
    [
      'too long as typed',
      `${'A-'.repeat(CODE_INPUT_MAX_LENGTH / 2)}A`,
      new RegExp(`at most ${CODE_INPUT_MAX_LENGTH}`),
    ],
  ];
  for (const [label, input, reason] of refused) {
    it(`refuses ${label}`, () => {
      const result = normalizeCode(input);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }

  it('accepts exactly the maximum length', () => {
    assert.deepEqual(normalizeCode('a'.repeat(CODE_MAX_LENGTH)), {
      ok: true,
      code: 'A'.repeat(CODE_MAX_LENGTH),
    });
  });

  it('is idempotent: a normalised code normalises to itself', () => {
    for (const input of ['summer-24', 'ｓｕｍｍｅｒ２４', 'straße', 'été 2024', 'x_y_z']) {
      const once = normalizeCode(input);
      assert.ok(once.ok);
      if (once.ok) assert.deepEqual(normalizeCode(once.code), once);
    }
  });
});
