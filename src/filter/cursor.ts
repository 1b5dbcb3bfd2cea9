// Opaque keyset cursors: the sort values of the last item, encrypted and bound to the query that made them.
import { LRUCache } from 'lru-cache';
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { ObjectIdRef, and, matchNone, or, type FilterNode, type FilterValue, type SortKey } from './ast.js';
import { kindOf } from './compare.js';
import type { ScalarType } from './schema.js';

type Encoded = string | number | boolean | null | { d: number } | { o: string };

export interface CursorCodec {
  /** An opaque token for `values`; `binding` is authenticated with it but not carried in it. */
  encode(values: readonly unknown[], binding: string): string;
  /** The decoded values, or undefined when the token is malformed, forged or bound to another query. */
  decode(token: string, binding: string, types: readonly ScalarType[]): (FilterValue | null)[] | undefined;
}

/** Shortest accepted cursor secret, in bytes: a 256-bit key is derived from it. */
export const MIN_CURSOR_SECRET_BYTES = 32;

const MAX_TOKEN = 2048;
const VERSION = 1;
const SALT = 12;
const IV = 12;
const TAG = 16;
const HEADER = 1 + SALT + IV;
// Plaintexts are padded to a multiple of this, so a cursor's length says little about its values' lengths.
const PAD = 32;
const INFO = 'portcullis cursor v1';
// Keys of other processes' salts that produced a valid cursor; a forged salt is never kept.
const MAX_PEER_KEYS = 64;
const TOKEN = /^[A-Za-z0-9_-]+$/;

function encodeValue(value: unknown): Encoded {
  const kind = kindOf(value);
  if (kind === 'null') return null;
  if (kind === 'date') return { d: (value as Date).getTime() };
  if (kind === 'objectId') {
    return { o: value instanceof ObjectIdRef ? value.hex : (value as { toHexString(): string }).toHexString() };
  }
  if (kind === 'other') return null;
  return value as string | number | boolean;
}

function decodeValue(encoded: unknown, type: ScalarType): FilterValue | null | undefined {
  if (encoded === null) return null;
  switch (type) {
    case 'string':
      return typeof encoded === 'string' ? encoded : undefined;
    case 'number':
      return typeof encoded === 'number' && Number.isFinite(encoded) ? encoded : undefined;
    case 'boolean':
      return typeof encoded === 'boolean' ? encoded : undefined;
    case 'date': {
      const time = (encoded as { d?: unknown }).d;
      return typeof time === 'number' && Number.isFinite(time) ? new Date(time) : undefined;
    }
    case 'objectId': {
      const hex = (encoded as { o?: unknown }).o;
      return typeof hex === 'string' && /^[0-9a-f]{24}$/i.test(hex) ? new ObjectIdRef(hex) : undefined;
    }
  }
}

function secretBytes(secret: string | Buffer | undefined): Buffer {
  if (secret === undefined) return randomBytes(MIN_CURSOR_SECRET_BYTES);
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (!Buffer.isBuffer(bytes) || bytes.length < MIN_CURSOR_SECRET_BYTES) {
    throw new ConfigError('cursorSecret', `must be at least ${MIN_CURSOR_SECRET_BYTES} bytes (CURSOR_SECRET)`, {
      code: 'config.weak_secret',
    });
  }
  return bytes;
}

/**
 * AES-256-GCM cursors. Each codec draws a random salt and derives its own key from the secret with HKDF, so
 * its IVs can be a counter: no (key, IV) pair repeats however many cursors the processes sharing a secret
 * make, where random 96-bit IVs would wear a single key out after 2^32 cursors. The salt travels in the
 * cursor, so every process with the same secret can read every other's. Without a secret, one random secret
 * per process: cursors then work only in the process that made them.
 */
export function createCursorCodec(secret?: string | Buffer): CursorCodec {
  const ikm = secretBytes(secret);
  const deriveKey = (salt: Buffer): KeyObject => createSecretKey(Buffer.from(hkdfSync('sha256', ikm, salt, INFO, 32)));
  const salt = randomBytes(SALT);
  const key = deriveKey(salt);
  const peers = new LRUCache<string, KeyObject>({ max: MAX_PEER_KEYS });
  let counter = 0;

  function keyFor(tokenSalt: Buffer): { key: KeyObject; known: boolean } {
    if (tokenSalt.equals(salt)) return { key, known: true };
    const id = tokenSalt.toString('latin1');
    const peer = peers.get(id);
    return peer ? { key: peer, known: true } : { key: deriveKey(tokenSalt), known: false };
  }

  return {
    encode(values, binding) {
      const json = JSON.stringify(values.map(encodeValue));
      const length = Math.ceil(Buffer.byteLength(json) / PAD) * PAD;
      const token = Buffer.allocUnsafe(HEADER + length + TAG);
      token[0] = VERSION;
      salt.copy(token, 1);
      // The IV: four zero bytes, then the counter as a 64-bit big-endian number (2^53 cursors per codec).
      counter++;
      token.writeUInt32BE(0, 1 + SALT);
      token.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 1 + SALT + 4);
      token.writeUInt32BE(counter >>> 0, 1 + SALT + 8);
      const plain = Buffer.alloc(length, 0x20);
      plain.write(json, 0, 'utf8');
      const cipher = createCipheriv('aes-256-gcm', key, token.subarray(1 + SALT, HEADER), { authTagLength: TAG });
      cipher.setAAD(Buffer.from(binding, 'utf8'));
      let offset = HEADER + cipher.update(plain).copy(token, HEADER);
      offset += cipher.final().copy(token, offset);
      cipher.getAuthTag().copy(token, offset);
      return token.toString('base64url');
    },
    decode(text, binding, types) {
      if (typeof text !== 'string' || text.length > MAX_TOKEN || !TOKEN.test(text)) return undefined;
      const token = Buffer.from(text, 'base64url');
      if (token.length < HEADER + PAD + TAG || token[0] !== VERSION) return undefined;
      const tokenSalt = token.subarray(1, 1 + SALT);
      const { key: tokenKey, known } = keyFor(tokenSalt);
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', tokenKey, token.subarray(1 + SALT, HEADER), {
          authTagLength: TAG,
        });
        decipher.setAAD(Buffer.from(binding, 'utf8'));
        decipher.setAuthTag(token.subarray(token.length - TAG));
        const body = decipher.update(token.subarray(HEADER, token.length - TAG));
        plain = Buffer.concat([body, decipher.final()]);
      } catch {
        return undefined;
      }
      if (!known) {
        peers.set(Buffer.from(tokenSalt).toString('latin1'), tokenKey);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(plain.toString('utf8'));
      } catch {
        return undefined;
      }
      if (!Array.isArray(parsed) || parsed.length !== types.length) return undefined;
      const values: (FilterValue | null)[] = [];
      for (let i = 0; i < types.length; i++) {
        const value = decodeValue(parsed[i], types[i]!);
        if (value === undefined) return undefined;
        values.push(value);
      }
      return values;
    },
  };
}

function equalTo(field: string, value: FilterValue | null): FilterNode {
  return value === null ? { kind: 'cond', op: 'null', field, value: true } : { kind: 'cond', op: 'eq', field, value };
}

// Ascending order puts null (and missing) first, descending last, as MongoDB sorts them.
function after(key: SortKey, value: FilterValue | null): FilterNode {
  if (key.direction === 1) {
    return value === null
      ? { kind: 'cond', op: 'null', field: key.field, value: false }
      : { kind: 'cond', op: 'gt', field: key.field, value };
  }
  if (value === null) return matchNone;
  return or(
    { kind: 'cond', op: 'lt', field: key.field, value },
    { kind: 'cond', op: 'null', field: key.field, value: true },
  );
}

/** The keyset condition "sorts after these values": (k1 > v1) or (k1 = v1 and k2 > v2) or … */
export function keysetAfter(sort: readonly SortKey[], values: readonly (FilterValue | null)[]): FilterNode {
  const branches: FilterNode[] = [];
  for (let i = 0; i < sort.length; i++) {
    const prefix: FilterNode[] = [];
    for (let j = 0; j < i; j++) prefix.push(equalTo(sort[j]!.field, values[j]!));
    branches.push(and(...prefix, after(sort[i]!, values[i]!)));
  }
  return or(...branches);
}
