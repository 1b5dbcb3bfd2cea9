// Slow (scrypt) and keyed (HMAC-SHA256) hashes of passwords and API-key secrets, verified in constant time.
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type KeyObject } from 'node:crypto';

export interface ScryptParameters {
  /** CPU/memory cost, a power of two. Default 16384. */
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParameters = { N: 16_384, r: 8, p: 1 };
const KEY_LENGTH = 32;
// Refuse stored parameters that would let a tampered hash exhaust memory or CPU on verify.
const MAX_N = 1 << 20;

function scryptAsync(secret: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), with a fresh 16-byte salt. */
export async function scryptHash(secret: string, params: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** `hmac-sha256$digest` keyed with the server's pepper. */
export function hmacHash(secret: string, pepper: KeyObject): string {
  return `hmac-sha256$${createHmac('sha256', pepper).update(secret).digest('base64url')}`;
}

/**
 * True when `secret` matches `stored` (either form). Constant-time comparison; a malformed stored hash,
 * or an HMAC hash without a pepper, never matches.
 */
export async function verifySecret(secret: string, stored: string, pepper?: KeyObject): Promise<boolean> {
  if (typeof secret !== 'string' || typeof stored !== 'string') return false;
  const parts = stored.split('$');
  if (parts[0] === 'hmac-sha256' && parts.length === 2) {
    if (!pepper) return false;
    return safeEqual(hmacHash(secret, pepper), stored);
  }
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
    if (![N, r, p].every(Number.isSafeInteger) || N < 2 || N > MAX_N || r < 1 || r > 32 || p < 1 || p > 16) {
      return false;
    }
    const salt = Buffer.from(parts[4]!, 'base64url');
    const expected = Buffer.from(parts[5]!, 'base64url');
    if (expected.length !== KEY_LENGTH) return false;
    const actual = await scryptAsync(secret, salt, { N, r, p });
    return timingSafeEqual(actual, expected);
  }
  return false;
}

function safeEqual(a: string, b: string): boolean {
  // Hash both sides first so the comparison length never depends on the input.
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** A scrypt hash of a password nobody knows, so a missing user costs as much as a wrong password. */
export const DUMMY_PASSWORD_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43);
