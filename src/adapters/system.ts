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

export function systemIds(): Ids {
  const ulid = monotonicFactory();
  return {
    id: (prefix) => `${prefix}_${ulid().toLowerCase()}`,
    secret: (prefix, bits) => `${prefix}_${randomBase62(Math.ceil(bits / Math.log2(62)))}`,
  };
}
