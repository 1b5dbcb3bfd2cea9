// Signed digests: an HMAC over a stream's last stored hash, so a rewritten chain cannot pass as genuine.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AuditDigest } from './event.js';

export interface DigestInput {
  stream: string;
  fromSeq: number;
  toSeq: number;
  lastHash: string;
  lastTime: string;
  prevSignature: string;
  sinceTime?: string;
  final?: boolean;
}

/** Short public id of a signing key: the first 8 hex characters of its SHA-256. */
export function keyIdOf(key: string | Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function signatureOf(digest: Omit<AuditDigest, 'signature'>, key: string | Buffer): string {
  return createHmac('sha256', key).update(canonicalJson(digest)).digest('hex');
}

export function signDigest(input: DigestInput, key: string | Buffer, now: number): AuditDigest {
  const unsigned = { ...input, id: randomUUID(), time: new Date(now).toISOString(), keyId: keyIdOf(key) };
  return { ...unsigned, signature: signatureOf(unsigned, key) };
}

/** True when the digest's signature was made with `key` over exactly these fields. */
export function digestSignatureValid(digest: AuditDigest, key: string | Buffer): boolean {
  const { signature, ...unsigned } = digest;
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signatureOf(unsigned, key), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
