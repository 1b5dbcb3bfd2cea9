// AES-256-GCM for one field value: random IV, authenticated, bound to its field; the output names its key version.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './key-ring.js';

/** Why a stored value could not be decrypted. Messages carry no plaintext, ciphertext or key material. */
export type DecryptionFailure = 'malformed' | 'unknown_key_version' | 'authentication_failed';

export class DecryptionError extends Error {
  override name = 'DecryptionError';
  readonly code: `pii.${DecryptionFailure}`;
  readonly reason: DecryptionFailure;
  readonly field: string;
  readonly keyVersion: number | undefined;

  constructor(reason: DecryptionFailure, field: string, keyVersion?: number) {
    const why = {
      malformed: 'is not a Portcullis ciphertext',
      unknown_key_version: `was encrypted with key version ${keyVersion ?? '?'}, which the key ring does not hold`,
      authentication_failed: 'failed authentication (wrong key or tampered data)',
    }[reason];
    super(`Field "${field}" ${why}.`);
    this.reason = reason;
    this.code = `pii.${reason}`;
    this.field = field;
    this.keyVersion = keyVersion;
  }
}

const PREFIX = 'pc1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** True when `value` has the shape of a stored ciphertext (`pc1:<version>:<type>:<base64url>`). */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** The key version a stored ciphertext names, or undefined when it is not one. */
export function keyVersionOf(value: unknown): number | undefined {
  if (!isCiphertext(value)) return undefined;
  const match = /^pc1:(\d{1,7}):/.exec(value);
  return match ? Number(match[1]) : undefined;
}

function aad(field: string, version: number, type: string): Buffer {
  // Binding the field name stops a ciphertext being moved into another field and read there.
  return Buffer.from(`${PREFIX}${version}:${type}:${field}`, 'utf8');
}

/**
 * Encrypts a value: strings as UTF-8 (`s`), anything else JSON-encoded (`j`, so numbers, booleans and objects
 * come back with their type; dates come back as ISO strings).
 */
export function encryptField(ring: KeyRing, field: string, value: unknown): string {
  const version = ring.current;
  const key = ring.key(version)!;
  const type = typeof value === 'string' ? 's' : 'j';
  const plaintext = Buffer.from(type === 's' ? (value as string) : JSON.stringify(value), 'utf8');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(field, version, type));
  const body = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}${version}:${type}:${body.toString('base64url')}`;
}

/** Decrypts what `encryptField` produced for the same field; throws `DecryptionError`. */
export function decryptField(ring: KeyRing, field: string, stored: unknown): unknown {
  if (!isCiphertext(stored)) throw new DecryptionError('malformed', field);
  const match = /^pc1:(\d{1,7}):([sj]):([A-Za-z0-9_-]+)$/.exec(stored);
  if (!match) throw new DecryptionError('malformed', field);
  const version = Number(match[1]);
  const type = match[2]!;
  const key = ring.key(version);
  if (!key) throw new DecryptionError('unknown_key_version', field, version);
  const body = Buffer.from(match[3]!, 'base64url');
  if (body.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('malformed', field, version);
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(field, version, type));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    plaintext = Buffer.concat([
      decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new DecryptionError('authentication_failed', field, version);
  }
  if (type === 's') return plaintext;
  try {
    return JSON.parse(plaintext) as unknown;
  } catch {
    throw new DecryptionError('malformed', field, version);
  }
}
