// A RecordStore decorator that encrypts configured fields on write and decrypts them on read.
import type { FilterNode } from '../src/filter/ast.js';
import {
  DECRYPTION_ERROR_FIELD,
  type NewRecord,
  type PreparedRecord,
  type RecordQuery,
  type RecordStore,
  type StoredRecord,
} from '../src/contracts/records.js';
import { ValidationError } from '../src/errors.js';
import { problemOf, type FieldEncryption } from '../src/pii/field-encryption.js';
import type { BlindIndexer } from '../src/pii/blind-index.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';

export interface EncryptedRecordStoreOptions {
  /** The store that keeps the ciphertext (declare the blind-index and version fields as its extra paths). */
  store: RecordStore;
  /** The field-encryption codec (key ring, encrypted fields, blind-index key). */
  encryption: FieldEncryption;
  /** Where undecryptable records are reported (without plaintext or key material). Default: nowhere. */
  logger?: Logger;
}

export { DECRYPTION_ERROR_FIELD };

/**
 * Encrypts on insert and replace (AES-256-GCM, blind index beside the ciphertext) and decrypts on every
 * read, so routers and filters see plaintext while the backing store never does. Equality search goes
 * through the blind index, which `crudRouter` reads from the store's `blindIndex`. A record that
 * cannot be decrypted is still returned, its encrypted fields `null` and `_decryptionError` set to a code,
 * so one bad record never breaks a list.
 */
export class EncryptedRecordStore implements RecordStore {
  readonly #inner: RecordStore;
  readonly #encryption: FieldEncryption;
  readonly #derivedFields: readonly string[];
  readonly #logger: Logger;

  constructor(options: EncryptedRecordStoreOptions) {
    if (!options?.store) throw new TypeError('EncryptedRecordStore: options.store is required');
    if (!options.encryption) throw new TypeError('EncryptedRecordStore: options.encryption is required');
    this.#inner = options.store;
    this.#encryption = options.encryption;
    this.#derivedFields = options.encryption.derivedFields;
    this.#logger = options.logger ?? silentLogger;
  }

  get backend() {
    return this.#inner.backend;
  }
  get schema() {
    return this.#inner.schema;
  }
  get idType() {
    return this.#inner.idType;
  }
  /** The encryption's blind indexes: a `crudRouter` over this store searches encrypted fields through them. */
  get blindIndex(): BlindIndexer {
    return this.#encryption;
  }

  init(): Promise<void> {
    return this.#inner.init?.() ?? Promise.resolve();
  }

  newId(): string {
    return this.#inner.newId();
  }

  prepare(record: Record<string, unknown>): Promise<PreparedRecord> {
    return this.#inner.prepare(record);
  }

  async find(query: RecordQuery): Promise<StoredRecord[]> {
    // Fields the caller may not see are dropped undecrypted: less work, and less plaintext in memory.
    const omitted = query.omit?.filter((path) => this.#encryption.isEncrypted(path));
    const omit = omitted && omitted.length > 0 ? new Set(omitted) : undefined;
    // The inner store may leave out the derived fields (blind indexes, key version) as well: then the
    // records need no second copy to strip them. Either way they are stripped below.
    const inner = { ...query, omit: [...(query.omit ?? []), ...this.#derivedFields] };
    return (await this.#inner.find(inner)).map((record) => this.#decrypt(record, omit));
  }

  count(where: FilterNode): Promise<number> {
    return this.#inner.count(where);
  }

  async distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]> {
    if (this.#encryption.isEncrypted(field)) {
      throw new ValidationError(`Field ${field} is encrypted: its distinct values cannot be listed.`, {
        errors: [{ field, message: 'is encrypted' }],
      });
    }
    return this.#inner.distinct(field, where, limit);
  }

  async get(id: string, where?: FilterNode): Promise<StoredRecord | undefined> {
    const record = await this.#inner.get(id, where);
    return record && this.#decrypt(record);
  }

  async insert(id: string, record: Record<string, unknown>): Promise<StoredRecord> {
    return this.#decrypt(await this.#inner.insert(id, this.#encryption.encryptRecord(this.#plain(record))));
  }

  async insertMany(records: readonly NewRecord[]): Promise<StoredRecord[]> {
    const encrypted = records.map(({ id, record }) => ({
      id,
      record: this.#encryption.encryptRecord(this.#plain(record)),
    }));
    return (await this.#inner.insertMany(encrypted)).map((stored) => this.#decrypt(stored));
  }

  async replace(id: string, expectedVersion: number, record: Record<string, unknown>) {
    const stored = await this.#inner.replace(id, expectedVersion, this.#encryption.encryptRecord(this.#plain(record)));
    return stored && this.#decrypt(stored);
  }

  remove(id: string, expectedVersion?: number): Promise<boolean> {
    return this.#inner.remove(id, expectedVersion);
  }

  close(): Promise<void> {
    return this.#inner.close?.() ?? Promise.resolve();
  }

  /** Drops derived fields a client may have sent, so it cannot plant a blind index or version. */
  #plain(record: Record<string, unknown>): Record<string, unknown> {
    const copy = { ...record };
    delete copy[DECRYPTION_ERROR_FIELD];
    return this.#encryption.stripDerived(copy);
  }

  #decrypt(stored: StoredRecord, omit?: ReadonlySet<string>): StoredRecord {
    try {
      return this.#encryption.decryptRecord(stored, omit) as StoredRecord;
    } catch (error) {
      const problem = problemOf(error, stored.id);
      this.#logger.warn(
        { id: stored.id, field: problem.field, code: problem.code, err: errorForLog(error).name },
        'undecryptable record',
      );
      const masked: Record<string, unknown> = this.#encryption.stripDerived({ ...stored });
      for (const field of this.#encryptedPaths(masked)) masked[field] = null;
      masked[DECRYPTION_ERROR_FIELD] = problem.code;
      return masked as StoredRecord;
    }
  }

  #encryptedPaths(record: Record<string, unknown>): string[] {
    return Object.keys(record).filter((key) => this.#encryption.isEncrypted(key));
  }
}
