// API key format (`pc_<id>.<secret>`), generation, parsing and verification with a per-process cache.
import { LRUCache } from 'lru-cache';
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import type { ApiKeyRecord } from '../contracts/principals.js';
import { hmacHash, scryptHash, verifySecret } from './secrets.js';

const KEY = /^(pc_[a-f0-9]{16})\.([A-Za-z0-9_-]{43})$/;
/** Longest presented key considered at all; longer ones are rejected before any work. */
export const MAX_API_KEY_LENGTH = 512;

export interface GeneratedApiKey {
  id: string;
  secret: string;
  /** What the client sends: `<id>.<secret>`. Shown once. */
  token: string;
}

/** A fresh key: a 64-bit public id and a 256-bit secret. */
export function generateApiKey(): GeneratedApiKey {
  const id = `pc_${randomBytes(8).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${id}.${secret}` };
}

/**
 * Splits a presented key into id and secret. A key of another shape (an operator-chosen `ADMIN_API_KEY`)
 * gets an id derived from its hash, so it can be stored and looked up like the others.
 */
export function parseApiKey(token: string): { id: string; secret: string } | undefined {
  if (typeof token !== 'string' || token.length < 16 || token.length > MAX_API_KEY_LENGTH) return undefined;
  const match = KEY.exec(token);
  if (match) return { id: match[1]!, secret: match[2]! };
  if (!/^[\x21-\x7e]+$/.test(token)) return undefined;
  return { id: derivedKeyId(token), secret: token };
}

export function derivedKeyId(token: string): string {
  return `pk_${createHash('sha256').update(token).digest('hex').slice(0, 24)}`;
}

export interface ApiKeyHasherOptions {
  /** Server-side key for HMAC-SHA256; without it secrets are hashed with scrypt (slow, cached on verify). */
  pepper?: KeyObject;
  /** Verified (key, hash) pairs remembered per process. Default 10 000. */
  cacheSize?: number;
}

function verifiedDigest(secret: string, record: ApiKeyRecord): string {
  return createHash('sha256').update(`${record.id}\u0000${secret}\u0000${record.secretHash}`).digest('hex');
}

/** Hashes new secrets and verifies presented ones; successful scrypt checks are cached by a digest. */
export class ApiKeyHasher {
  readonly #pepper: KeyObject | undefined;
  // Digest of (id, secret, stored hash) → true. Keyed on the stored hash, so a replaced key never hits.
  readonly #verified: LRUCache<string, true> | undefined;

  constructor(options: ApiKeyHasherOptions = {}) {
    this.#pepper = options.pepper;
    const cacheSize = options.cacheSize ?? 10_000;
    this.#verified = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
  }

  hash(secret: string): Promise<string> {
    return this.#pepper ? Promise.resolve(hmacHash(secret, this.#pepper)) : scryptHash(secret);
  }

  /** True when this secret was verified against this stored key before (no hashing work beyond a SHA-256). */
  verifiedBefore(secret: string, record: ApiKeyRecord): boolean {
    return this.#verified?.has(verifiedDigest(secret, record)) ?? false;
  }

  async verify(secret: string, record: ApiKeyRecord): Promise<boolean> {
    const digest = verifiedDigest(secret, record);
    if (this.#verified?.get(digest)) return true;
    const ok = await verifySecret(secret, record.secretHash, this.#pepper);
    if (ok) this.#verified?.set(digest, true);
    return ok;
  }
}

/** Why a stored key cannot be used now, or `undefined` when it can. */
export function apiKeyUnusable(record: ApiKeyRecord, now: number): 'revoked' | 'expired' | undefined {
  if (record.revokedAt) return 'revoked';
  if (record.expiresAt && record.expiresAt.getTime() <= now) return 'expired';
  return undefined;
}
