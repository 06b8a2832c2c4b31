/**
 * Promo codes are typed by people: from a flyer, a podcast, a phone keyboard that capitalises the first
 * letter or an East Asian input method that produces full-width letters. One normal form is used on
 * write and on lookup, so ` summer-24 `, `SUMMER24` and `ｓｕｍｍｅｒ２４` are the same code for every
 * purpose, limits included.
 *
 * The normal form: leading and trailing white space trimmed, then Unicode NFKC (folds full-width and other compatibility forms), then spaces and
 * dashes removed anywhere (any Unicode white space, any dash punctuation, the minus sign and the soft
 * hyphen, which text copied from a web page or a typeset flyer may carry), then upper case
 * (locale-independent), then NFKC again because upper-casing can produce characters with another
 * canonical form. What remains must be letters, digits or `_`, each letter or digit followed by any
 * combining marks it carries (Devanagari and Thai vowel signs, accents NFKC cannot compose).
 */

/** The longest code, after normalisation. */
export const CODE_MAX_LENGTH = 64;
/** The longest text accepted as a code when one is created, before spaces and dashes are removed. */
export const CODE_INPUT_MAX_LENGTH = 128;

export type NormalizeResult = { ok: true; code: string } | { ok: false; reason: string };

const SEPARATORS = /[\s\p{Pd}\u2212]+/gu;
const SOFT_HYPHENS = /\u00ad/g;
// A mark only after a letter, a digit, `_` or another mark: on its own it would join whatever precedes.
const ALLOWED = /^[\p{L}\p{N}_][\p{L}\p{N}\p{M}_]*$/u;
// Control, format (zero-width joiners, bidi overrides), surrogate, private-use and unassigned code
// points, and every default-ignorable one (variation selectors, the combining grapheme joiner, Khmer
// inherent vowels, Hangul fillers), which draw nothing and would make two codes that look the same.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;
// Overlay and enclosing marks draw a letter that looks like another one (O with U+0338 and Ø, L with
// U+0335 and Ł), which NFKC does not merge.
const OVERLAY = /[\u0334-\u0338\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb\p{Me}]/u;

export function normalizeCode(input: string): NormalizeResult {
  if (input.length > CODE_INPUT_MAX_LENGTH) {
    return { ok: false, reason: `a code is at most ${CODE_INPUT_MAX_LENGTH} characters as typed` };
  }
  // Leading and trailing white space (a pasted line break included) is trimmed; any other control
  // character is refused, checked before NFKC, which would silently drop or rewrite some of them.
  // The soft hyphen is a format character too, but an invisible dash: dropped, not refused.
  const trimmed = input.trim().replace(SOFT_HYPHENS, '');
  if (INVISIBLE.test(trimmed)) {
    return {
      ok: false,
      reason: 'a code must not contain control, format or unassigned characters, or marks that draw nothing',
    };
  }
  const code = trimmed.normalize('NFKC').replace(SEPARATORS, '').toUpperCase().normalize('NFKC');
  if (code.length === 0) return { ok: false, reason: 'a code must contain at least one letter or digit' };
  if (code.length > CODE_MAX_LENGTH) {
    return {
      ok: false,
      reason: `a code is at most ${CODE_MAX_LENGTH} characters once spaces and dashes are removed`,
    };
  }
  if (OVERLAY.test(code)) {
    return { ok: false, reason: 'a code must not contain overlay or enclosing marks (e.g. U+0338)' };
  }
  if (!ALLOWED.test(code)) {
    return {
      ok: false,
      reason: 'a code may contain only letters (with their combining marks), digits, "_", spaces and dashes',
    };
  }
  return { ok: true, code };
}
