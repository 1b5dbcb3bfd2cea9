// MongoDB record store over a mongoose model: the declared rules and mongoose validate, mongoose casts, the
// driver reads and writes.
import type { Collection, Filter } from 'mongodb';
import { Types } from 'mongoose';
import type { NewRecord, PreparedRecord, RecordQuery, RecordStore, StoredRecord } from '../../src/contracts/records.js';
import { ConfigError, ConflictError, StoreUnavailableError, type FieldProblem } from '../../src/errors.js';
import type { FilterNode } from '../../src/filter/ast.js';
import {
  compileSchema,
  toMongoFilter,
  toMongoSort,
  type CompiledSchema,
  type MongoCompileOptions,
  type SchemaInput,
} from '../../src/filter/index.js';
import { checkRecord } from '../../src/filter/record-rules.js';
import { isDuplicateKey, mongoCall } from './errors.js';
import { randomId, validateIdPrefix } from '../id.js';
import { MigrationLog, type Migration } from './migrations.js';
import { checkFieldsOfModel, fieldsOfModel, idTypeOfModel, type AnyModel } from './records-schema.js';

export interface MongoRecordStoreOptions {
  /** A mongoose model on a connected connection; its schema validates writes and types filters. */
  model: AnyModel;
  /** Prefix of generated ids (string `_id` models only), e.g. `acc_`. Default none. */
  idPrefix?: string;
  /** Paths accepted without being in the mongoose schema (e.g. blind-index fields). Default none. */
  extraPaths?: readonly string[];
  /**
   * The field declaration the query compiler uses (types, `filterable`, `sortable`), the same object a
   * memory store takes, so both backends refuse and allow the same filters and sorts. Each field must be a
   * path of the model with the same type. Default: the declaration of a `mongooseSchemaFor` schema, else
   * the model's scalar paths, all filterable and sortable.
   */
  schema?: SchemaInput | CompiledSchema;
  /**
   * The secondary indexes `init()` builds (migration 1), each ending with `_id` as the sort tie-breaker.
   * `'declared'` (default): `{ <field>: 1, _id: 1 }` for every filterable or sortable scalar field of the
   * declaration and every extra path (blind indexes), which serves equality and range filters on the
   * field and `sort=field` and `sort=-field`. A list: those compound keys instead, fields in order, `-`
   * for descending (`[['country', '-balance'], ['status']]` serves `country=…&sort=-balance`). `'none'`:
   * only `_id`. Indexes named `pc_…` that the plan no longer lists are dropped at `init()`.
   */
  indexes?: 'declared' | 'none' | readonly (string | readonly string[])[];
}

export interface RecordIndex {
  name: string;
  key: Record<string, 1 | -1>;
}

interface MongoDocument {
  _id: string | Types.ObjectId;
  [field: string]: unknown;
}

// Migration 1 builds the index plan; as the plan follows the configuration, init() also brings an applied
// migration 1 up to date with the current plan (creating is idempotent; only `pc_` indexes are dropped).
const MIGRATIONS: Migration<MongoRecordStore>[] = [
  {
    version: 1,
    description: 'indexes for the declared filters and sorts, with the _id tie-breaker',
    up: (store) => store.syncIndexes(),
    down: (store) => store.syncIndexes([]),
  },
];

/**
 * A problem mongoose found that the declaration does not describe (a model's own validator), in the store's
 * wording: mongoose's messages quote the submitted value and name mongoose, which clients never see.
 */
function mongooseProblem(path: string, problem: { kind?: string; name?: string }): FieldProblem {
  if (problem.name === 'CastError') {
    return {
      field: path,
      code: 'validation.type',
      message: `"${path}" must be a ${String(problem.kind).toLowerCase()}.`,
    };
  }
  if (problem.kind === 'required') {
    return { field: path, code: 'validation.required', message: `"${path}" is required.` };
  }
  return { field: path, code: `validation.${problem.kind ?? 'invalid'}`, message: `"${path}" is not valid.` };
}

export class MongoRecordStore implements RecordStore {
  readonly backend = 'mongodb' as const;
  readonly schema: CompiledSchema;
  readonly idType: 'string' | 'objectId';
  readonly #model: AnyModel;
  readonly #prefix: string;
  readonly #extra: ReadonlySet<string>;
  readonly #compile: MongoCompileOptions;
  readonly #migrations: MigrationLog<MongoRecordStore>;
  /** The indexes `init()` builds (see the `indexes` option). */
  readonly indexPlan: readonly RecordIndex[];
  #transactions: Promise<boolean> | undefined;

  constructor(options: MongoRecordStoreOptions) {
    if (typeof options?.model?.collection?.collectionName !== 'string') {
      throw new TypeError('MongoRecordStore: options.model must be a mongoose model');
    }
    this.#model = options.model;
    this.schema =
      options.schema === undefined
        ? fieldsOfModel(options.model)
        : checkFieldsOfModel(compileSchema(options.schema), options.model, 'MongoRecordStore.schema');
    this.idType = idTypeOfModel(options.model);
    this.#prefix = validateIdPrefix(options.idPrefix, 'MongoRecordStore');
    if (this.#prefix && this.idType === 'objectId') {
      throw new TypeError('MongoRecordStore: idPrefix needs a model whose _id is a String');
    }
    this.#extra = new Set(options.extraPaths ?? []);
    this.#compile = {
      objectId: (hex) => new Types.ObjectId(hex),
      fieldName: (field) => (field === 'id' ? '_id' : field),
    };
    this.indexPlan = indexPlanOf(options.indexes ?? 'declared', this.schema, this.#extra);
    const collection = options.model.collection.collectionName;
    this.#migrations = new MigrationLog(options.model.db, `${collection}_migrations`, MIGRATIONS);
  }

  /** Applies pending migrations and brings the indexes to the current plan. */
  async init(): Promise<void> {
    const done = await this.migrateUp();
    if (!done.includes(1) && (await this.appliedMigrations()).includes(1)) await this.syncIndexes();
  }

  appliedMigrations(): Promise<number[]> {
    return this.#migrations.applied();
  }

  migrateUp(target?: number): Promise<number[]> {
    return this.#migrations.up(this, target);
  }

  migrateDown(target?: number): Promise<number[]> {
    return this.#migrations.down(this, target);
  }

  /** @internal used by migrations: creates the plan's indexes and drops `pc_` indexes not in it. */
  async syncIndexes(plan: readonly RecordIndex[] = this.indexPlan): Promise<void> {
    await mongoCall(async () => {
      const wanted = new Set(plan.map((index) => index.name));
      // listIndexes fails on a collection that does not exist yet (MongoDB 26 NamespaceNotFound).
      const existing = await this.#collection.indexes().catch((error: { code?: unknown }) => {
        if (error?.code === 26) return [];
        throw error;
      });
      for (const index of existing) {
        if (index.name?.startsWith('pc_') && !wanted.has(index.name)) await this.#collection.dropIndex(index.name);
      }
      for (const index of plan) await this.#collection.createIndex(index.key, { name: index.name });
    });
  }

  get #collection(): Collection<MongoDocument> {
    return this.#model.collection as unknown as Collection<MongoDocument>;
  }

  #id(id: string): string | Types.ObjectId {
    return this.idType === 'objectId' ? new Types.ObjectId(id) : id;
  }

  #validId(id: unknown): id is string {
    return typeof id === 'string' && (this.idType === 'string' || /^[0-9a-fA-F]{24}$/.test(id));
  }

  #filter(where: FilterNode): Filter<MongoDocument> {
    return toMongoFilter(where, this.#compile) as Filter<MongoDocument>;
  }

  newId(): string {
    return this.idType === 'objectId' ? new Types.ObjectId().toHexString() : randomId(this.#prefix);
  }

  async prepare(record: Record<string, unknown>): Promise<PreparedRecord> {
    const problems: FieldProblem[] = [];
    const extras: Record<string, unknown> = {};
    const schema = this.#model.schema;
    const walk = (input: Record<string, unknown>, prefix: string) => {
      for (const [key, value] of Object.entries(input)) {
        const path = prefix ? `${prefix}.${key}` : key;
        if (this.#extra.has(path)) {
          extras[path] = value;
          continue;
        }
        const kind = path === '_id' ? 'reserved' : schema.pathType(path);
        if (kind === 'nested' && value === null) continue;
        if (kind === 'nested' && typeof value === 'object' && !Array.isArray(value)) {
          walk(value as Record<string, unknown>, path);
        } else if (kind !== 'real') {
          problems.push({
            field: path,
            code: 'validation.unknown_field',
            message: `"${path}" is not a field of this resource.`,
          });
        }
      }
    };
    walk(record, '');
    const document = new this.#model(record);
    let error: { errors?: Record<string, { kind?: string; name?: string; message?: string }> } | undefined;
    try {
      await document.validate();
    } catch (caught) {
      if (typeof caught !== 'object' || caught === null || !('errors' in caught)) throw caught;
      error = caught as typeof error;
    }
    // The declared rules are checked as the memory store checks them, so both backends answer one problem in
    // one wording; mongoose then only casts and runs a model's own validators. Unknown fields are judged on the
    // mongoose schema above: a model may hold paths (mixed, subdocuments) the declaration has no form for.
    const declared = checkRecord(this.schema, record, this.#extra).problems;
    for (const problem of declared) if (problem.code !== 'validation.unknown_field') problems.push(problem);
    for (const [path, problem] of Object.entries(error?.errors ?? {})) {
      if (problems.some((p) => p.field === path || p.field.startsWith(`${path}.`))) continue;
      problems.push(mongooseProblem(path, problem));
    }
    const typed = document.toObject({ depopulate: true, versionKey: false, virtuals: false }) as Record<
      string,
      unknown
    >;
    delete typed._id;
    for (const [path, value] of Object.entries(extras)) typed[path] = value;
    return { record: typed, problems };
  }

  #toRecord(document: MongoDocument): StoredRecord {
    const { _id, ...fields } = document;
    const id = this.idType === 'objectId' ? (_id as Types.ObjectId).toHexString() : String(_id);
    return { ...fields, id } as StoredRecord;
  }

  #toDocument(id: string, record: Record<string, unknown>, version: number): MongoDocument {
    const { id: _ignored, ...fields } = record;
    return { ...fields, _id: this.#id(id), _version: version };
  }

  async find(query: RecordQuery): Promise<StoredRecord[]> {
    const documents = await mongoCall(() => {
      let cursor = this.#collection.find(this.#filter(query.where)).sort(toMongoSort(query.sort, this.#compile));
      if (query.skip) cursor = cursor.skip(query.skip);
      return cursor.limit(query.limit).toArray();
    });
    return (documents as MongoDocument[]).map((document) => this.#toRecord(document));
  }

  async count(where: FilterNode): Promise<number> {
    return mongoCall(() => this.#collection.countDocuments(this.#filter(where)));
  }

  async distinct(field: string, where: FilterNode, limit: number): Promise<unknown[]> {
    const name = field === 'id' ? '_id' : field;
    const values: unknown[] = await mongoCall(() => this.#collection.distinct(name, this.#filter(where)));
    return values.slice(0, limit).map((value) => (value instanceof Types.ObjectId ? value.toHexString() : value));
  }

  async get(id: string, where?: FilterNode): Promise<StoredRecord | undefined> {
    if (!this.#validId(id)) return undefined;
    const byId: Filter<MongoDocument> = { _id: this.#id(id) };
    const filter: Filter<MongoDocument> = where ? { $and: [byId, this.#filter(where)] } : byId;
    const document = await mongoCall(() => this.#collection.findOne(filter));
    return document ? this.#toRecord(document as MongoDocument) : undefined;
  }

  async insert(id: string, record: Record<string, unknown>): Promise<StoredRecord> {
    const document = this.#toDocument(id, record, 1);
    await mongoCall(async () => {
      try {
        await this.#collection.insertOne(document);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('A record with this id already exists.');
        throw error;
      }
    });
    return this.#toRecord(document);
  }

  /**
   * All or nothing: in one transaction on a replica set or sharded cluster; elsewhere (a standalone server,
   * FerretDB v1, neither of which has transactions) by compensation: an ordered insert, and on failure a
   * delete of the records it inserted. Compensation leaves a window in which other readers may see records
   * of a batch that then fails, and a crash (or an outage) between the insert and the delete leaves them
   * stored; docs/crud.md "Batch writes" says so.
   */
  async insertMany(records: readonly NewRecord[]): Promise<StoredRecord[]> {
    if (records.length === 0) return [];
    const documents = records.map(({ id, record }) => this.#toDocument(id, record, 1));
    const conflict = (error: unknown) =>
      isDuplicateKey(error) ? new ConflictError('A record with this id already exists.') : error;
    if (await this.#hasTransactions()) {
      await mongoCall(async () => {
        const session = this.#model.db.getClient().startSession();
        try {
          await session.withTransaction(() => this.#collection.insertMany(documents, { session, ordered: true }));
        } catch (error) {
          throw conflict(error);
        } finally {
          await session.endSession();
        }
      });
    } else {
      try {
        await mongoCall(() => this.#collection.insertMany(documents, { ordered: true }));
      } catch (error) {
        // An ordered insert stops at its first write error: the documents before it are in. After any other
        // failure it is unknown how far it got; every id is new (the contract), so deleting them all is safe.
        const failedAt = firstWriteErrorIndex(error) ?? documents.length;
        const inserted = documents.slice(0, failedAt).map((document) => document._id);
        if (inserted.length > 0) {
          try {
            await mongoCall(() => this.#collection.deleteMany({ _id: { $in: inserted } } as Filter<MongoDocument>));
          } catch (cleanup) {
            throw new StoreUnavailableError('mongodb', { cause: cleanup });
          }
        }
        throw conflict(error);
      }
    }
    return documents.map((document) => this.#toRecord(document));
  }

  /** Transactions need a replica set or a sharded cluster (`hello` names a set, or is answered by mongos). */
  #hasTransactions(): Promise<boolean> {
    this.#transactions ??= mongoCall(async () => {
      const hello = (await this.#model.db.db!.admin().command({ hello: 1 })) as { setName?: unknown; msg?: unknown };
      return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
    }).catch((error: unknown) => {
      this.#transactions = undefined;
      throw error;
    });
    return this.#transactions;
  }

  async replace(
    id: string,
    expectedVersion: number,
    record: Record<string, unknown>,
  ): Promise<StoredRecord | undefined> {
    if (!this.#validId(id)) return undefined;
    const document = this.#toDocument(id, record, expectedVersion + 1);
    const result = await mongoCall(() =>
      this.#collection.replaceOne({ _id: this.#id(id), _version: expectedVersion }, document),
    );
    return result.matchedCount === 1 ? this.#toRecord(document) : undefined;
  }

  async remove(id: string, expectedVersion?: number): Promise<boolean> {
    if (!this.#validId(id)) return false;
    const filter: Filter<MongoDocument> = { _id: this.#id(id) };
    if (expectedVersion !== undefined) filter._version = expectedVersion;
    const result = await mongoCall(() => this.#collection.deleteOne(filter));
    return result.deletedCount === 1;
  }
}

/** The index of the first failed document of an ordered bulk insert, when the error says. */
function firstWriteErrorIndex(error: unknown): number | undefined {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  const indexes = list
    .map((writeError) => (writeError as { index?: unknown }).index)
    .filter((index): index is number => typeof index === 'number');
  return indexes.length > 0 ? Math.min(...indexes) : undefined;
}

function indexPlanOf(
  option: 'declared' | 'none' | readonly (string | readonly string[])[],
  schema: CompiledSchema,
  extra: ReadonlySet<string>,
): RecordIndex[] {
  let keys: string[][];
  if (option === 'none') keys = [];
  else if (option === 'declared') {
    keys = [...schema.fields.values()]
      .filter((field) => field.filterable || field.sortable)
      .map((field) => [field.path])
      .concat([...extra].map((path) => [path]));
  } else if (Array.isArray(option)) {
    keys = option.map((entry, index) => {
      const fields = typeof entry === 'string' ? [entry] : [...(entry as readonly string[])];
      if (fields.length === 0 || fields.some((field) => typeof field !== 'string' || !/^-?[\w.]+$/.test(field))) {
        throw new ConfigError(`MongoRecordStore.indexes[${index}]`, 'must be a field name or a non-empty list of them');
      }
      for (const field of fields) {
        const path = field.replace(/^-/, '');
        if (!schema.fields.has(path) && !extra.has(path)) {
          throw new ConfigError(`MongoRecordStore.indexes[${index}]`, `names "${path}", which is not a declared field`);
        }
      }
      return fields;
    });
  } else {
    throw new ConfigError('MongoRecordStore.indexes', "must be 'declared', 'none' or a list of field lists");
  }
  return keys.map((fields) => {
    const key: Record<string, 1 | -1> = {};
    for (const field of fields) key[field.replace(/^-/, '')] = field.startsWith('-') ? -1 : 1;
    // The tie-breaker runs the way the last key does, as the query compiler sorts.
    key._id = fields.at(-1)!.startsWith('-') ? -1 : 1;
    return { name: `pc_${fields.map((field) => field.replace(/^-/, 'desc_').replace(/\./g, '_')).join('_')}_id`, key };
  });
}
