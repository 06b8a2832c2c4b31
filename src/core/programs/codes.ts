/**
 * Referral codes: readable, case-insensitive, and typed by people. Generated codes use an alphabet
 * without the characters people confuse (0/O, 1/I/L), so a code read aloud or copied by hand still
 * resolves. Codes are stored normalised: upper case, without spaces or hyphens.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const GENERATED_CODE_LENGTH = 8;
export const VANITY_CODE_MIN = 4;
export const VANITY_CODE_MAX = 32;

/** The stored form of what a person typed: upper case, separators removed. */
export function normaliseCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

/** A normalised code any program could have issued (generated or vanity). */
export function isWellFormedCode(normalised: string): boolean {
  return new RegExp(`^[A-Z0-9]{${VANITY_CODE_MIN},${VANITY_CODE_MAX}}$`).test(normalised);
}

/**
 * Why a requested vanity code cannot be used, or undefined when it can. Vanity codes may use any
 * letter and digit (the owner chose them, so they are meant to be read), plus hyphens for looks.
 */
export function vanityCodeProblem(input: string): string | undefined {
  if (!/^[A-Za-z0-9-]+$/.test(input)) return 'may contain only letters, digits and hyphens';
  const n = normaliseCode(input);
  if (n.length < VANITY_CODE_MIN || n.length > VANITY_CODE_MAX) {
    return `must have ${VANITY_CODE_MIN} to ${VANITY_CODE_MAX} letters and digits`;
  }
  return undefined;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Turns random base62 characters (from the caller's source of randomness) into a code. 62 is exactly
 * twice 31, the alphabet's size, so taking each character's index modulo 31 keeps every code equally
 * likely. Eight characters give 31^8, about 8.5 x 10^11 codes.
 */
export function codeFromEntropy(randomBase62: string): string {
  if (randomBase62.length < GENERATED_CODE_LENGTH) {
    throw new RangeError(`need ${GENERATED_CODE_LENGTH} random characters, got ${randomBase62.length}`);
  }
  let out = '';
  for (const ch of randomBase62.slice(0, GENERATED_CODE_LENGTH)) {
    const index = BASE62.indexOf(ch);
    if (index < 0) throw new RangeError(`'${ch}' is not a base62 character`);
    out += CODE_ALPHABET[index % CODE_ALPHABET.length];
  }
  return out;
}
