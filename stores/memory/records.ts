// In-memory record collection: the embedded default behind CRUD routers, with MongoDB's query semantics.
import type { NewRecord, PreparedRecord, RecordQuery, RecordStore, StoredRecord } from '../../src/contracts/records.js';
import { ConflictError } from '../../src/errors.js';
import type { FilterNode } from '../../src/filter/ast.js';
import { compileSchema, readPath, toPredicate, type CompiledSchema, type SchemaInput } from '../../src/filter/index.js';
import { checkRecord } from '../../src/filter/record-rules.js';
import { randomId, validateIdPrefix } from '../id.js';
import { compareForSort, recordComparator } from '../record-order.js';
import { copyData } from './copy.js';

export interface MemoryRecordStoreOptions {
  /** The fields of the records, with types and rules (required, enum, min, max, lengths, pattern). */
  schema: SchemaInput | CompiledSchema;
  /** Prefix of generated ids, e.g. `acc_`. Default none. */
  idPrefix?: string;
  /** Paths accepted without a declaration (e.g. blind-index fields written by encryption). Default none. */
  extraPaths?: readonly string[];
}

export class MemoryRecordStore implements RecordStore {
  readonly backend = 'memory' as const;
  readonly idType = 'string' as const;
  readonly schema: CompiledSchema;
  readonly #records = new Map<string, StoredRecord>();
  readonly #prefix: string;
  readonly #extra: ReadonlySet<string>;

  constructor(options: MemoryRecordStoreOptions) {
    if (!options?.schema) throw new TypeError('MemoryRecordStore: options.schema is required');
    this.schema = compileSchema(options.schema);
    this.#prefix = validateIdPrefix(options.idPrefix, 'MemoryRecordStore');
    this.#extra = new Set(options.extraPaths ?? []);
  }

  newId(): string {
    return randomId(this.#prefix);
  }

  async prepare(record: Record<string, unknown>): Promise<PreparedRecord> {
    return checkRecord(this.schema, record, this.#extra);
  }

  async find(query: RecordQuery): Promise<StoredRecord[]> {
    const matches = toPredicate(query.where);
    const found: StoredRecord[] = [];
    for (const record of this.#records.values()) if (matches(record)) found.push(record);
    found.sort(recordComparator(query.sort));
    const start = query.skip ?? 0;
    const omit = topLevelOmissions(query.omit);
    return found.slice(start, start + query.limit).map((record) => copyData(record, omit));
  }

  async count(where: FilterNode): Promise<number> {
    const matches = toPredicate(where);
    let total = 0;
    for (const record of this.#records.values()) if (matches(record)) total++;
    return total;
  }

  async distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]> {
    const matches = toPredicate(where);
    const segments = field.split('.');
    const seen: unknown[] = [];
    const keys = new Set<unknown>();
    const add = (value: unknown) => {
      if (typeof value === 'symbol' || value === undefined) return;
      const key = value instanceof Date ? `d:${value.getTime()}` : value;
      if (keys.has(key)) return;
      keys.add(key);
      seen.push(value);
    };
    for (const record of this.#records.values()) {
      if (!matches(record)) continue;
      const value = readPath(record, segments);
      if (Array.isArray(value)) value.forEach(add);
      else add(value);
    }
    return seen
      .sort(compareForSort)
      .slice(0, limit)
      .map((value) => copyData(value));
  }

  async get(id: string, where?: FilterNode): Promise<StoredRecord | undefined> {
    if (typeof id !== 'string') return undefined;
    const record = this.#records.get(id);
    if (!record || (where && !toPredicate(where)(record))) return undefined;
    return copyData(record);
  }

  async insert(id: string, record: Record<string, unknown>): Promise<StoredRecord> {
    if (this.#records.has(id)) throw new ConflictError('A record with this id already exists.');
    const stored = { ...copyData(record), id, _version: 1 } as StoredRecord;
    this.#records.set(id, stored);
    return copyData(stored);
  }

  /** Atomic: every id is checked before the first record is stored, and nothing awaits in between. */
  async insertMany(records: readonly NewRecord[]): Promise<StoredRecord[]> {
    const ids = new Set<string>();
    for (const { id } of records) {
      if (this.#records.has(id) || ids.has(id)) throw new ConflictError('A record with this id already exists.');
      ids.add(id);
    }
    const stored = records.map(({ id, record }) => ({ ...copyData(record), id, _version: 1 }) as StoredRecord);
    for (const record of stored) this.#records.set(record.id, record);
    return stored.map((record) => copyData(record));
  }

  async replace(
    id: string,
    expectedVersion: number,
    record: Record<string, unknown>,
  ): Promise<StoredRecord | undefined> {
    const current = this.#records.get(id);
    if (!current || current._version !== expectedVersion) return undefined;
    const stored = { ...copyData(record), id, _version: expectedVersion + 1 } as StoredRecord;
    this.#records.set(id, stored);
    return copyData(stored);
  }

  async remove(id: string, expectedVersion?: number): Promise<boolean> {
    const current = this.#records.get(id);
    if (!current || (expectedVersion !== undefined && current._version !== expectedVersion)) return false;
    return this.#records.delete(id);
  }
}

/**
 * The query's omitted fields that are whole top-level fields; dotted paths, and the store's own `id` and
 * `_version`, are left to the caller.
 */
function topLevelOmissions(omit: readonly string[] | undefined): ReadonlySet<string> | undefined {
  const top = omit?.filter((path) => !path.includes('.') && path !== 'id' && path !== '_version');
  return top && top.length > 0 ? new Set(top) : undefined;
}
