// An in-memory record collection with field encryption: the memory store's equivalent of the mongoose plugin.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../src/errors.js';
import type { DecryptedList, FieldEncryption } from '../../src/pii/field-encryption.js';
import type { RotationSource } from '../../src/pii/key-rotation.js';

type Raw = Record<string, unknown>;

export interface EncryptedMemoryCollectionOptions {
  encryption: FieldEncryption;
  /** Default `_id`; new records without one get a UUID. */
  idField?: string;
}

function read(record: Raw, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Raw)[part];
  }
  return value;
}

/** The subset of MongoDB filters that encrypted search needs: equality, `$eq`, `$in`, `$exists`, `$and`, `$or`. */
function matches(record: Raw, filter: Raw): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and') {
      if (!(condition as Raw[]).every((part) => matches(record, part))) return false;
      continue;
    }
    if (key === '$or') {
      if (!(condition as Raw[]).some((part) => matches(record, part))) return false;
      continue;
    }
    const value = read(record, key);
    if (typeof condition !== 'object' || condition === null) {
      if (condition === null ? value !== null && value !== undefined : value !== condition) return false;
      continue;
    }
    for (const [operator, operand] of Object.entries(condition)) {
      if (operator === '$eq' && value !== operand) return false;
      else if (operator === '$in' && !(operand as unknown[]).includes(value)) return false;
      else if (operator === '$exists' && (value !== undefined) !== Boolean(operand)) return false;
      else if (operator === '$ne' && value === operand) return false;
      else if (!['$eq', '$in', '$exists', '$ne'].includes(operator)) {
        throw new ValidationError(`Operator ${operator} is not supported by the memory collection.`);
      }
    }
  }
  return true;
}

/**
 * Stores records encrypted exactly as the mongoose plugin does (same ciphertext format, blind indexes and
 * version field), so data and key rotation behave the same on both backends.
 */
export class EncryptedMemoryCollection {
  readonly backend = 'memory' as const;
  readonly #encryption: FieldEncryption;
  readonly #idField: string;
  readonly #records = new Map<unknown, Raw>();

  constructor(options: EncryptedMemoryCollectionOptions) {
    if (!options?.encryption) throw new TypeError('EncryptedMemoryCollection: options.encryption is required');
    this.#encryption = options.encryption;
    this.#idField = options.idField ?? '_id';
  }

  /** Stores a record (encrypting it) and returns it decrypted, with its id. */
  insert(record: Raw): Raw {
    const id = record[this.#idField] ?? randomUUID();
    const stored = this.#encryption.encryptRecord({ ...record, [this.#idField]: id });
    this.#records.set(id, stored);
    return this.#encryption.decryptRecord(stored);
  }

  /** Replaces the fields given in `patch` (encrypting encrypted ones under the current key). */
  update(id: unknown, patch: Raw): boolean {
    const current = this.#records.get(id);
    if (!current) return false;
    const fields = Object.keys(patch);
    const encrypted = this.#encryption.encryptRecord(patch);
    const next: Raw = { ...current };
    for (const [key, value] of Object.entries(encrypted)) {
      if (key === this.#encryption.versionField) continue;
      next[key] = value;
    }
    // The record is wholly on the current key only if every encrypted field was rewritten.
    if (this.#encryption.paths.every((path) => fields.includes(path) || read(current, path) === undefined)) {
      next[this.#encryption.versionField] = this.#encryption.ring.current;
    }
    this.#records.set(id, next);
    return true;
  }

  /** Records matching a filter; encrypted fields are searched through their blind index. */
  find(filter: Raw = {}): DecryptedList<Raw> {
    const rewritten = this.#encryption.rewriteFilter(filter);
    const found = [...this.#records.values()].filter((record) => matches(record, rewritten));
    return this.#encryption.decryptMany(found, this.#idField);
  }

  delete(id: unknown): boolean {
    return this.#records.delete(id);
  }

  /** The stored (encrypted) form of a record, as a database would hold it. */
  raw(id: unknown): Raw | undefined {
    const record = this.#records.get(id);
    return record ? structuredClone(record) : undefined;
  }

  /** Overwrites the stored form of a record (tests, imports). */
  putRaw(id: unknown, raw: Raw): void {
    this.#records.set(id, structuredClone(raw));
  }

  rotationSource(): RotationSource {
    const versionField = this.#encryption.versionField;
    const ordered = () =>
      [...this.#records.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
    return {
      findStale: async (version, limit, afterId) =>
        ordered()
          .filter(
            ([id, raw]) => raw[versionField] !== version && (afterId === undefined || String(id) > String(afterId)),
          )
          .slice(0, limit)
          .map(([id, raw]) => ({ id, raw: structuredClone(raw) })),
      countStale: async (version) => [...this.#records.values()].filter((raw) => raw[versionField] !== version).length,
      replaceIfUnchanged: async (changes) => {
        let applied = 0;
        for (const { id, expected, update } of changes) {
          const current = this.#records.get(id);
          if (!current) continue;
          if (Object.entries(expected).some(([field, value]) => read(current, field) !== value)) continue;
          const next = structuredClone(current);
          for (const [path, value] of Object.entries(update.$set)) writePath(next, path, value);
          for (const path of Object.keys(update.$unset)) writePath(next, path, undefined);
          this.#records.set(id, next);
          applied++;
        }
        return applied;
      },
    };
  }
}

function writePath(record: Raw, path: string, value: unknown): void {
  const parts = path.split('.');
  let holder = record;
  for (const part of parts.slice(0, -1)) {
    if (typeof holder[part] !== 'object' || holder[part] === null) holder[part] = {};
    holder = holder[part] as Raw;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete holder[last];
  else holder[last] = value;
}
