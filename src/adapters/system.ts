import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { Clock, Ids } from '../app/ports.js';

export const systemClock: Clock = { now: () => new Date() };

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform base62 characters by rejection sampling (bytes >= 248 are dropped to avoid bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/**
 * Random numbers for ids, drawn from the cryptographic source in 4 KiB blocks: the ulid package asks
 * for one number per character, and one system call per character was a visible share of CPU.
 */
function pooledRandom(): () => number {
  let pool = randomBytes(4096);
  let offset = 0;
  return () => {
    if (offset + 4 > pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    const n = pool.readUInt32LE(offset);
    offset += 4;
    return n / 2 ** 32;
  };
}

/** A sortable id generator: later ids sort after earlier ones, also within one millisecond. */
export function ulidFactory(): () => string {
  const ulid = monotonicFactory(pooledRandom());
  return () => ulid().toLowerCase();
}

export function systemIds(): Ids {
  const ulid = ulidFactory();
  return {
    id: (prefix) => `${prefix}_${ulid()}`,
    secret: (prefix, bits) => `${prefix}_${randomBase62(Math.ceil(bits / Math.log2(62)))}`,
  };
}
