/**
 * Codes generated in bulk are read aloud and typed by hand, so they use an alphabet without look-alike
 * characters, and they are long enough that guessing one is hopeless: every generated code carries at
 * least GENERATED_MIN_BITS bits of randomness from a cryptographic source.
 *
 * The core holds no randomness. It turns a uniformly random base62 string (what the Ids port hands
 * out) into uniformly random code symbols, exactly: the base62 string is read as a number, and a
 * number in the top sliver that would bias the result is refused so the caller draws again.
 */

/** 32 symbols: digits and capitals without 0/O and 1/I, which people confuse. 5 bits each. */
export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const BITS_PER_SYMBOL = 5;
export const GENERATED_MIN_BITS = 50;
/** Random symbols in a generated code (after the prefix). */
export const GENERATED_MIN_LENGTH = Math.ceil(GENERATED_MIN_BITS / BITS_PER_SYMBOL);
export const GENERATED_MAX_LENGTH = 32;
export const GENERATED_DEFAULT_LENGTH = 12;
/** The most codes one generate request may ask for. */
export const GENERATE_MAX_COUNT = 100_000;
/** The longest prefix, after normalisation. */
export const PREFIX_MAX_LENGTH = 20;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_VALUE = new Map([...BASE62].map((c, i) => [c, i]));
/** Base62 digits read at a time into a double: 62^8 < 2^53, so the chunk is exact. */
const DIGITS_PER_CHUNK = 8;
/** BigInt's base-32 digits, in order, mapped to the alphabet. */
const BASE32_DIGITS = '0123456789abcdefghijklmnopqrstuv';
const TO_ALPHABET = new Map([...BASE32_DIGITS].map((d, i) => [d, CODE_ALPHABET[i]!]));

/**
 * Extra bits of randomness to ask for beyond what the code needs, so that the chance of a refused
 * draw is below 2^-64.
 */
export const EXTRA_BITS = 64;

/** How many random bits to request for `length` symbols. */
export function randomBitsFor(length: number): number {
  return length * BITS_PER_SYMBOL + EXTRA_BITS;
}

function parseBase62(random: string): bigint {
  let value = 0n;
  for (let i = 0; i < random.length; i += DIGITS_PER_CHUNK) {
    const chunk = random.slice(i, i + DIGITS_PER_CHUNK);
    let n = 0;
    for (const ch of chunk) {
      const digit = BASE62_VALUE.get(ch);
      if (digit === undefined) throw new RangeError(`'${ch}' is not a base62 digit`);
      n = n * 62 + digit;
    }
    value = value * 62n ** BigInt(chunk.length) + BigInt(n);
  }
  return value;
}

/**
 * Maps a uniformly random base62 string to `length` uniformly random alphabet symbols, or undefined
 * when the value falls in the biased top range (then the caller draws a new string).
 */
export function symbolsFromBase62(random: string, length: number): string | undefined {
  const value = parseBase62(random);
  const space = 62n ** BigInt(random.length);
  const modulus = 32n ** BigInt(length);
  // Values at or above the largest multiple of `modulus` would make low results more likely.
  if (value >= space - (space % modulus)) return undefined;
  // The value modulo 32^length, written in base 32: each digit is one uniform symbol.
  const digits = (value % modulus).toString(32).padStart(length, '0');
  let out = '';
  for (const d of digits) out += TO_ALPHABET.get(d);
  return out;
}
