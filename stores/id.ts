// Record ids: a random, URL-safe string with an optional prefix (apicrud's `id_prefix`).
import { randomBytes } from 'node:crypto';

const SAFE_PREFIX = /^[A-Za-z0-9_-]{0,16}$/;

export function validateIdPrefix(prefix: string | undefined, owner: string): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string' || !SAFE_PREFIX.test(prefix)) {
    throw new TypeError(`${owner}: idPrefix must be up to 16 letters, digits, "_" or "-"`);
  }
  return prefix;
}

/** `prefix` + 16 base32-ish characters (80 bits of randomness). */
export function randomId(prefix: string): string {
  const bytes = randomBytes(10);
  let out = '';
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return prefix + out;
}
