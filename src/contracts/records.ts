// The records store contract: the collection behind a CRUD router (an in-memory collection or a mongoose model).
import type { FieldProblem } from '../errors.js';
import type { FilterNode, SortKey } from '../filter/ast.js';
import type { CompiledSchema } from '../filter/schema.js';
import type { ManagedStore } from './lifecycle.js';
import type { BlindIndexer } from '../pii/blind-index.js';

/** Stored on every record: incremented by each write, the basis of `ETag` / `If-Match`. */
export const VERSION_FIELD = '_version';
/** Set when a record is in the trash (soft-deleted); absent otherwise. */
export const DELETED_FIELD = '_deletedAt';
/**
 * Set by a store that reads a record it cannot decrypt (wrong key, tampered data): the code of the problem.
 * The record's encrypted fields are then `null`; the CRUD routers list such records under `errors` and refuse
 * to update them.
 */
export const DECRYPTION_ERROR_FIELD = '_decryptionError';

/** A record as stores return it: the public `id`, its version and its fields (dates as `Date`). */
export interface StoredRecord {
  id: string;
  _version: number;
  _deletedAt?: Date;
  [field: string]: unknown;
}

export interface RecordQuery {
  /** The typed filter (see `src/filter`); each store compiles it to its own form. */
  where: FilterNode;
  /** Sort keys; the last is the id, so the order is total. */
  sort: readonly SortKey[];
  limit: number;
  skip?: number;
  /**
   * Fields the caller may not see (dotted paths). A store may leave them out of its results and need not
   * decrypt them; the CRUD router removes them from responses either way. Default none.
   */
  omit?: readonly string[];
}

/** A write's input after the store's own schema rules: values cast to their types, problems listed. */
export interface PreparedRecord {
  record: Record<string, unknown>;
  problems: FieldProblem[];
}

/** One record of `insertMany`: its new id and its fields (as `prepare` returned them). */
export interface NewRecord {
  id: string;
  record: Record<string, unknown>;
}

/**
 * Records a store returns are read-only to their callers (a store may hand out frozen or shared objects);
 * what a caller sends to `insert` or `replace` stays the caller's, so a store keeps its own copy.
 */
export interface RecordStore extends ManagedStore {
  readonly backend: 'memory' | 'mongodb';
  /** Field names and types (from the memory declaration or the mongoose schema). */
  readonly schema: CompiledSchema;
  /** How ids look: strings (with an optional prefix) or ObjectIds as 24-hex strings. */
  readonly idType: 'string' | 'objectId';
  /** The blind indexes of fields this store keeps encrypted (`EncryptedRecordStore`), for equality search. */
  readonly blindIndex?: BlindIndexer;
  /** A new unique id. */
  newId(): string;
  /** Applies the schema's own rules to a full record (no id, no internal fields); never throws for bad data. */
  prepare(record: Record<string, unknown>): Promise<PreparedRecord>;
  find(query: RecordQuery): Promise<StoredRecord[]>;
  count(where: FilterNode): Promise<number>;
  /** Distinct values of `field` among matching records (array fields contribute their elements), at most `limit`. */
  distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]>;
  /** The record with `id` when it also matches `where`. */
  get(id: string, where?: FilterNode): Promise<StoredRecord | undefined>;
  /** Inserts a new record with version 1; a duplicate id is a `ConflictError`. */
  insert(id: string, record: Record<string, unknown>): Promise<StoredRecord>;
  /**
   * Inserts new records with version 1, all or nothing: when one cannot be inserted (a duplicate id is a
   * `ConflictError`, an outage a `StoreUnavailableError`), none of them stays stored. Returns the stored
   * records in the order given. How each backend keeps the promise (atomically, in a transaction, or by
   * deleting what it inserted) is documented with the backend; see docs/crud.md "Batch writes".
   */
  insertMany(records: readonly NewRecord[]): Promise<StoredRecord[]>;
  /**
   * Replaces the record if its version is still `expectedVersion`, storing version + 1.
   * Returns undefined when the record is gone or was changed meanwhile.
   */
  replace(id: string, expectedVersion: number, record: Record<string, unknown>): Promise<StoredRecord | undefined>;
  /** Deletes the record (at `expectedVersion` when given); true when it was deleted. */
  remove(id: string, expectedVersion?: number): Promise<boolean>;
}
