// The versioned ring of field-encryption keys: raw 32-byte keys or secrets stretched with scrypt; one is current.
import { createSecretKey, scryptSync, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Encryption keys by version; new values are encrypted with `current`, any listed version decrypts. */
export interface KeyRing {
  readonly current: number;
  readonly versions: readonly number[];
  key(version: number): KeyObject | undefined;
}

export interface KeyRingEntry {
  version: number;
  /** A raw 32-byte key. */
  key?: Buffer;
  /** A secret of at least 16 characters, stretched with scrypt (N=2^15, r=8, p=1) and a per-version salt. */
  secret?: string;
}

const MAX_VERSION = 1_000_000;

/**
 * Builds a key ring. `current` defaults to the highest version. Stretching a secret takes ~100 ms and
 * happens once here, never per value.
 */
export function createKeyRing(entries: readonly KeyRingEntry[], current?: number, option = 'ENCRYPTION_KEYS'): KeyRing {
  const keys = new Map<number, KeyObject>();
  for (const entry of entries) {
    if (!Number.isInteger(entry.version) || entry.version < 1 || entry.version > MAX_VERSION) {
      throw new ConfigError(option, `key versions must be integers from 1 to ${MAX_VERSION}`, { code: 'pii.key_ring' });
    }
    if (keys.has(entry.version)) {
      throw new ConfigError(option, `version ${entry.version} is listed twice`, { code: 'pii.key_ring' });
    }
    let bytes: Buffer;
    if (entry.key !== undefined) {
      if (entry.key.length !== 32) {
        throw new ConfigError(option, `key version ${entry.version} must be 32 bytes`, { code: 'pii.key_ring' });
      }
      bytes = Buffer.from(entry.key);
    } else if (typeof entry.secret === 'string' && entry.secret.length >= 16) {
      bytes = scryptSync(entry.secret, `portcullis field key v${entry.version}`, 32, {
        N: 2 ** 15,
        r: 8,
        p: 1,
        maxmem: 64 * 1024 * 1024,
      });
    } else {
      throw new ConfigError(
        option,
        `version ${entry.version} needs a 32-byte key or a secret of at least 16 characters`,
        {
          code: 'pii.key_ring',
        },
      );
    }
    keys.set(entry.version, createSecretKey(bytes));
  }
  if (keys.size === 0) throw new ConfigError(option, 'holds no key', { code: 'pii.key_ring' });
  const versions = [...keys.keys()].sort((a, b) => a - b);
  const chosen = current ?? versions[versions.length - 1]!;
  if (!keys.has(chosen)) {
    throw new ConfigError(
      'ENCRYPTION_CURRENT_KEY_VERSION',
      `is ${chosen} but the key ring has versions ${versions.join(', ')}`,
      {
        code: 'pii.key_ring',
      },
    );
  }
  return { current: chosen, versions, key: (version) => keys.get(version) };
}

/**
 * Parses `ENCRYPTION_KEYS`: comma-separated `VERSION:BASE64KEY` (32 bytes, e.g. from `portcullis keys generate`)
 * or `VERSION:secret:TEXT` entries. Error messages name the version, never the key.
 */
export function parseKeyRing(spec: string, current?: number, option = 'ENCRYPTION_KEYS'): KeyRing {
  return createKeyRing(parseEntries(spec, option), current, option);
}

/** Validates the text of a key ring without stretching secrets (cheap enough for configuration loading). */
export function checkKeyRingSyntax(spec: string): void {
  let entries: KeyRingEntry[];
  try {
    entries = parseEntries(spec, 'ENCRYPTION_KEYS');
  } catch (error) {
    throw new Error(error instanceof ConfigError ? error.message.slice(error.option.length + 2) : 'is invalid', {
      cause: error,
    });
  }
  const versions = new Set<number>();
  for (const entry of entries) {
    if (entry.version < 1) throw new Error('key versions must be at least 1');
    if (versions.has(entry.version)) throw new Error(`version ${entry.version} is listed twice`);
    versions.add(entry.version);
    if (entry.secret !== undefined && entry.secret.length < 16) {
      throw new Error(`version ${entry.version} needs a secret of at least 16 characters`);
    }
  }
  if (entries.length === 0) throw new Error('holds no key');
}

function parseEntries(spec: string, option: string): KeyRingEntry[] {
  const entries: KeyRingEntry[] = [];
  for (const item of spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^(\d{1,7}):(secret:)?(.+)$/s.exec(item);
    if (!match) {
      throw new ConfigError(option, 'entries must look like 1:BASE64KEY or 1:secret:TEXT', { code: 'pii.key_ring' });
    }
    const version = Number(match[1]);
    if (match[2]) {
      entries.push({ version, secret: match[3]! });
      continue;
    }
    const text = match[3]!;
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
    if (!key || key.length !== 32) {
      throw new ConfigError(
        option,
        `version ${version} is not a base64 32-byte key (use ${version}:secret:TEXT for a passphrase)`,
        {
          code: 'pii.key_ring',
        },
      );
    }
    entries.push({ version, key });
  }
  return entries;
}
