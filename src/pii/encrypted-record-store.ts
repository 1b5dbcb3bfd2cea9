// A RecordStore wrapper that encrypts fields on write and decrypts on read: field encryption for the CRUD routers.
import type { FilterNode } from '../filter/ast.js';
import type { PreparedRecord, RecordQuery, RecordStore, StoredRecord } from '../contracts/records.js';
import type { DecryptionProblem, FieldEncryption } from './field-encryption.js';
import { problemOf } from './field-encryption.js';

/** Where a record that could not be decrypted keeps its problems (a symbol: never serialized). */
export const recordDecryptionProblems = Symbol.for('portcullis.recordDecryptionProblems');

export interface EncryptedRecordStoreOptions {
  /** Told about every record that could not be decrypted (no plaintext or key material in it). Default: nothing. */
  onDecryptionError?: (problem: DecryptionProblem) => void;
}

/**
 * Wraps any `RecordStore` (memory or MongoDB) so the encrypted fields of `encryption` are stored as ciphertext
 * with their blind indexes and version. The inner store must accept the derived fields: pass
 * `extraPaths: encryption.derivedFields` to `MemoryRecordStore` / `MongoRecordStore`. Give the CRUD router
 * `blindIndex: encryption` so equality search works. A record that cannot be decrypted is still listed,
 * without the unreadable fields, and reported through `onDecryptionError`.
 */
export function encryptedRecordStore(
  inner: RecordStore,
  encryption: FieldEncryption,
  options: EncryptedRecordStoreOptions = {},
): RecordStore {
  const report = options.onDecryptionError;
  const open = (stored: StoredRecord): StoredRecord => {
    try {
      return encryption.decryptRecord(stored);
    } catch {
      // Decrypt field by field: keep what reads, drop what does not.
      const problems: DecryptionProblem[] = [];
      let out: Record<string, unknown> = encryption.stripDerived(stored);
      for (const path of encryption.paths) {
        const value = readTop(out, path);
        if (value === undefined) continue;
        try {
          out = withPath(out, path, encryption.decryptValue(path, value));
        } catch (error) {
          problems.push(problemOf(error, stored.id));
          out = withoutPath(out, path);
        }
      }
      for (const problem of problems) report?.(problem);
      Object.defineProperty(out, recordDecryptionProblems, { value: problems, enumerable: false });
      return out as StoredRecord;
    }
  };
  const wrapper: RecordStore = {
    backend: inner.backend,
    schema: inner.schema,
    idType: inner.idType,
    newId: () => inner.newId(),
    prepare: (record): Promise<PreparedRecord> => inner.prepare(record),
    find: async (query: RecordQuery) => (await inner.find(query)).map(open),
    count: (where: FilterNode) => inner.count(where),
    async distinct(field, where, limit) {
      const values = await inner.distinct(field, where, limit);
      if (!encryption.isEncrypted(field)) return values;
      // Ciphertexts are all different: decrypt, then deduplicate the plaintexts.
      const plain = new Map<string, unknown>();
      for (const value of values) {
        try {
          const decrypted = encryption.decryptValue(field, value);
          plain.set(JSON.stringify(decrypted), decrypted);
        } catch (error) {
          report?.(problemOf(error));
        }
      }
      return [...plain.values()].slice(0, limit);
    },
    get: async (id: string, where?: FilterNode) => {
      const stored = await inner.get(id, where);
      return stored ? open(stored) : undefined;
    },
    insert: async (id: string, record: Record<string, unknown>) =>
      open(await inner.insert(id, encryption.encryptRecord(record))),
    replace: async (id: string, expectedVersion: number, record: Record<string, unknown>) => {
      const stored = await inner.replace(id, expectedVersion, encryption.encryptRecord(record));
      return stored ? open(stored) : undefined;
    },
    remove: (id: string, expectedVersion?: number) => inner.remove(id, expectedVersion),
  };
  if (inner.init) wrapper.init = () => inner.init!();
  if (inner.close) wrapper.close = () => inner.close!();
  return wrapper;
}

function readTop(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function withoutPath(record: Record<string, unknown>, path: string): Record<string, unknown> {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  if (!Object.hasOwn(record, head)) return record;
  const copy = { ...record };
  if (rest.length === 0) delete copy[head];
  else if (typeof copy[head] === 'object' && copy[head] !== null) {
    copy[head] = withoutPath(copy[head] as Record<string, unknown>, rest.join('.'));
  }
  return copy;
}

function withPath(record: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  const copy = { ...record };
  copy[head] =
    rest.length === 0 ? value : withPath((copy[head] as Record<string, unknown>) ?? {}, rest.join('.'), value);
  return copy;
}
