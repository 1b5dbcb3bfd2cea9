// MongoDB policy store: one document per policy with its index keys, so candidates are narrowed on the
// server for every checker; a change log, whose unique ids are the revisions, tells other processes what changed.
import type { Connection, mongo } from 'mongoose';
import type { CheckerName } from '../../src/abac/checkers.js';
import type { Inquiry } from '../../src/abac/inquiry.js';
import type { Policy } from '../../src/abac/policy.js';
import { escapeRegex } from '../../src/abac/regex-syntax.js';
import type {
  AddManyOptions,
  PolicyChange,
  PolicyChangeFeed,
  PolicyMigrations,
  PolicyStore,
} from '../../src/contracts/policies.js';
import { ConfigError, ConflictError, NotFoundError } from '../../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../../src/logger.js';
import { MigrationLog, type Migration } from './migrations.js';
import { PolicySnapshot } from './policy-snapshot.js';
import { isDuplicateKey, mongoCall, onlyDuplicateKeys } from './errors.js';
import {
  alreadyStored,
  asPolicy,
  indexKeysOf,
  lookupFor,
  ParsedPolicyCache,
  rawStringsOf,
  serializePolicy,
  validateBatch,
  validateList,
  validatePage,
  type IndexKeys,
} from '../policy-documents.js';

export interface MongoPolicyStoreOptions {
  /** A connected mongoose connection; the store never opens or closes it. */
  connection: Connection;
  /** Collection name. Default `portcullis_policies` (plus `_changes` and `_migrations`). */
  collection?: string;
  /** How often subscribers poll the change log when they poll (see `changeFeed`). Default 250 ms. */
  pollIntervalMs?: number;
  /**
   * How subscribers learn of changes. `auto` (default): a change stream on the change log where the server
   * offers them (a replica set or a sharded cluster; asked once with `hello`), else polling (a standalone
   * server, FerretDB). `poll`: always poll.
   */
  changeFeed?: 'auto' | 'poll';
  /**
   * Whether full loads (`retrieveAll`, a mirror's start and reloads) keep and use a packed copy of every
   * policy in `<collection>_snapshot`, brought up to date from the change log: a few large documents to
   * read instead of one per policy. Write policies only through a store (or `portcullis policies import`):
   * an edit made to the collection by hand is in no change log, so neither other processes nor the
   * snapshot learn of it (delete the `_snapshot` collection after one). Default true.
   */
  snapshot?: boolean;
  logger?: Logger;
}

interface PolicyDocument {
  _id: string;
  /** The policy in Portcullis JSON (a string: attribute names may contain `.` or `$`). */
  doc: string;
  type: 'rule' | 'string';
  effect: 'allow' | 'deny';
  ix: IndexKeys;
  raw: Record<string, string[]>;
}

interface ChangeDocument {
  _id: number;
  /** Empty for a `reset`. */
  uid: string;
  /** `reset`: many policies changed at once (`addMany`); subscribers reload. */
  kind: 'add' | 'update' | 'delete' | 'reset';
  at: Date;
  /** The policy's JSON as written by an `add` or `update` (absent in entries of earlier versions). */
  doc?: string;
}

const FIELD_INDEXES = (mode: string): IndexSpec[] =>
  ['actions', 'resources', 'subjects'].map((field) => ({
    key: { [`ix.${mode}.${field}`]: 1 as const },
    name: `ix_${mode}_${field}`,
  }));

interface IndexSpec {
  key: Record<string, 1>;
  name: string;
}

/** Versioned, reversible: each `up` creates indexes, its `down` drops exactly those. */
const MIGRATIONS: Migration<MongoPolicyStore>[] = [
  {
    version: 1,
    description: 'index keys of rule-based policies',
    up: (store) => store.createIndexes(FIELD_INDEXES('rule')),
    down: (store) => store.dropIndexes(FIELD_INDEXES('rule').map((index) => index.name)),
  },
  {
    version: 2,
    description: 'index keys of string-based policies (regex and exact checkers) and the policy type',
    up: (store) =>
      store.createIndexes([...FIELD_INDEXES('regex'), ...FIELD_INDEXES('exact'), { key: { type: 1 }, name: 'type' }]),
    down: (store) =>
      store.dropIndexes(
        [...FIELD_INDEXES('regex'), ...FIELD_INDEXES('exact')].map((index) => index.name).concat('type'),
      ),
  },
  {
    version: 3,
    // Rules now follow vakt's Python equality (`Eq(1)` also under `true`) and the exact checker drops tags
    // wrapping a string whole: keys written before would miss such policies. Down keeps the (wider) keys.
    description: "index keys recomputed for vakt's equality (true == 1) and whole-tag exact strings",
    up: (store) => store.reindex(),
    down: async () => {},
  },
];

const CHANGE_RETENTION_MS = 60 * 60 * 1000;
// Documents per insertMany of addMany: one round trip each, well under the 16 MB message limit.
const BULK_BATCH = 1000;
// Concurrent writers that each lose the race for a revision this many times get the error (a 503 or 500).
const MAX_REVISION_CLAIMS = 64;

export class MongoPolicyStore implements PolicyStore, PolicyChangeFeed, PolicyMigrations {
  readonly backend = 'mongodb' as const;
  readonly #connection: Connection;
  readonly #name: string;
  readonly #pollIntervalMs: number;
  readonly #logger: Logger;
  readonly #parsed = new ParsedPolicyCache();
  readonly #changeFeed: 'auto' | 'poll';
  readonly #snapshot: PolicySnapshot | undefined;
  #feedKind: Promise<'changeStream' | 'poll'> | undefined;
  #writes = 0;

  constructor(options: MongoPolicyStoreOptions) {
    if (!options?.connection) throw new TypeError('MongoPolicyStore: options.connection is required');
    this.#connection = options.connection;
    this.#name = options.collection ?? 'portcullis_policies';
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
    this.#logger = options.logger ?? silentLogger;
    const feed = options.changeFeed ?? 'auto';
    if (feed !== 'auto' && feed !== 'poll') {
      throw new ConfigError('changeFeed', `must be "auto" or "poll", got ${JSON.stringify(feed)}`);
    }
    this.#changeFeed = feed;
    const snapshot = options.snapshot ?? true;
    if (typeof snapshot !== 'boolean') {
      throw new ConfigError('snapshot', `must be true or false, got ${JSON.stringify(snapshot)}`);
    }
    this.#snapshot = snapshot
      ? new PolicySnapshot(
          this.#connection.collection(`${this.#name}_snapshot`),
          this.#connection.collection(`${this.#name}_changes`),
        )
      : undefined;
  }

  /**
   * The change feed subscribers get on this server: `changeStream` on a replica set or sharded cluster
   * (unless `changeFeed: 'poll'`), `poll` otherwise.
   */
  async changeFeedKind(): Promise<'changeStream' | 'poll'> {
    if (this.#changeFeed === 'poll') return 'poll';
    this.#feedKind ??= mongoCall(() => this.#connection.db!.admin().command({ hello: 1 })).then(
      (hello) => (typeof hello.setName === 'string' || hello.msg === 'isdbgrid' ? 'changeStream' : 'poll'),
      (error: unknown) => {
        this.#feedKind = undefined;
        throw error;
      },
    );
    return this.#feedKind;
  }

  get #policies() {
    return this.#connection.collection<PolicyDocument>(this.#name);
  }
  get #changes() {
    return this.#connection.collection<ChangeDocument>(`${this.#name}_changes`);
  }
  get #migrations() {
    return new MigrationLog(this.#connection, `${this.#name}_migrations`, MIGRATIONS);
  }

  /** Applies pending migrations (creates the indexes). */
  async init(): Promise<void> {
    await this.migrateUp();
  }

  appliedMigrations(): Promise<number[]> {
    return this.#migrations.applied();
  }

  migrateUp(target = Infinity): Promise<number[]> {
    return this.#migrations.up(this, target);
  }

  migrateDown(target = 0): Promise<number[]> {
    return this.#migrations.down(this, target);
  }

  /** @internal used by migrations. */
  async createIndexes(indexes: IndexSpec[]): Promise<void> {
    await mongoCall(async () => {
      for (const index of indexes) await this.#policies.createIndex(index.key, { name: index.name });
    });
  }

  /** @internal used by migrations: recomputes the index keys of every stored policy. */
  async reindex(batchSize = 500): Promise<void> {
    for await (const documents of this.#pages(batchSize)) {
      await mongoCall(() =>
        this.#policies.bulkWrite(
          documents.map((document) => ({
            updateOne: {
              filter: { _id: document._id },
              update: { $set: { ix: indexKeysOf(this.#parsed.parse(document.doc)) } },
            },
          })),
        ),
      );
    }
  }

  /**
   * Every stored policy document (its id and JSON), in uid order, `size` at a time: one query whose cursor
   * hands over a page per batch. A query per page, even keyed on `_id`, was a full scan per page on
   * FerretDB (quadratic: 10 000 policies took 19 s to read, 100 000 would take half an hour).
   */
  async *#pages(size: number): AsyncIterable<Pick<PolicyDocument, '_id' | 'doc'>[]> {
    const cursor = this.#policies
      .find({}, { projection: { doc: 1 } })
      .sort({ _id: 1 })
      .batchSize(size);
    try {
      let page: Pick<PolicyDocument, '_id' | 'doc'>[] = [];
      for (;;) {
        const document = await mongoCall(() => cursor.next());
        if (document === null) break;
        page.push(document);
        if (page.length < size) continue;
        yield page;
        page = [];
      }
      if (page.length > 0) yield page;
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** @internal used by migrations. */
  async dropIndexes(names: string[]): Promise<void> {
    const existing = new Set(
      (await mongoCall(() => this.#policies.indexes().catch(() => []))).map((index) => index.name),
    );
    await mongoCall(async () => {
      for (const name of names) if (existing.has(name)) await this.#policies.dropIndex(name);
    });
  }

  async add(input: Policy): Promise<void> {
    const policy = asPolicy(input);
    const document = this.#document(policy);
    try {
      await mongoCall(() => this.#policies.insertOne(document));
    } catch (error) {
      if (isDuplicateKey(error)) throw new ConflictError(`A policy with uid "${policy.uid}" already exists.`);
      throw error;
    }
    await this.#logChange(policy.uid, 'add', document.doc);
  }

  /** Unordered `insertMany` per batch; one change (a `reset`) logged for the whole call. */
  async addMany(input: Iterable<unknown>, options: AddManyOptions = {}): Promise<number> {
    const policies = validateList(input);
    const existing: string[] = [];
    let added = 0;
    try {
      for (let start = 0; start < policies.length; start += BULK_BATCH) {
        const documents = policies.slice(start, start + BULK_BATCH).map((policy) => this.#document(policy));
        try {
          added += (await mongoCall(() => this.#policies.insertMany(documents, { ordered: false }))).insertedCount;
        } catch (error) {
          if (!onlyDuplicateKeys(error)) throw error;
          const { insertedCount, writeErrors } = error as { insertedCount?: number; writeErrors?: unknown };
          const failed = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as { index: number }[];
          for (const writeError of failed) existing.push(documents[writeError.index]!._id);
          added += insertedCount ?? documents.length - failed.length;
        }
        options.onProgress?.(Math.min(start + BULK_BATCH, policies.length), policies.length);
      }
    } finally {
      // Also after a failure part-way: subscribers must reload what was written before it.
      if (added > 0) await this.#logChange('', 'reset');
    }
    if (existing.length > 0) throw alreadyStored(existing, added);
    return added;
  }

  async get(uid: string): Promise<Policy | undefined> {
    if (typeof uid !== 'string') return undefined;
    const document = await mongoCall(() => this.#policies.findOne({ _id: uid }, { projection: { doc: 1 } }));
    return document ? this.#parsed.parse(document.doc) : undefined;
  }

  async getAll(limit: number, offset = 0): Promise<Policy[]> {
    const page = validatePage(limit, offset);
    const documents = await mongoCall(() =>
      this.#policies
        .find({}, { projection: { doc: 1 } })
        .sort({ _id: 1 })
        .skip(page.offset)
        .limit(page.limit)
        .toArray(),
    );
    return documents.map((document) => this.#parsed.parse(document.doc));
  }

  async *retrieveAll(batchSize = 1000): AsyncIterable<Policy[]> {
    const size = validateBatch(batchSize);
    const snapshot = await this.#snapshot?.load(async (uids) => {
      const documents = await mongoCall(() =>
        this.#policies.find({ _id: { $in: uids } }, { projection: { doc: 1 } }).toArray(),
      );
      return documents.map((document) => this.#parsed.parse(document.doc, false));
    });
    if (snapshot) {
      for (let start = 0; start < snapshot.length; start += size) yield snapshot.slice(start, start + size);
      return;
    }
    // Read before the documents: every change up to it is in what follows (a document is written before
    // its change is logged), later ones are replayed from the log when the snapshot is read.
    const revision = this.#snapshot ? await this.#currentRevision() : 0;
    const texts: string[] = [];
    for await (const documents of this.#pages(size)) {
      if (this.#snapshot) for (const document of documents) texts.push(document.doc);
      yield documents.map((document) => this.#parsed.parse(document.doc, false));
    }
    // Only after a complete read (a caller that stops early never gets here).
    await this.#snapshot?.save(revision, texts).catch((error: unknown) => {
      this.#logger.warn({ err: errorForLog(error) }, 'abac: could not save the policy snapshot');
    });
  }

  async update(input: Policy): Promise<void> {
    const policy = asPolicy(input);
    const { _id, ...fields } = this.#document(policy);
    const result = await mongoCall(() => this.#policies.replaceOne({ _id }, fields));
    if (result.matchedCount === 0) throw new NotFoundError(`No policy with uid "${policy.uid}".`);
    await this.#logChange(policy.uid, 'update', fields.doc);
  }

  async delete(uid: string): Promise<boolean> {
    if (typeof uid !== 'string') return false;
    const result = await mongoCall(() => this.#policies.deleteOne({ _id: uid }));
    if (result.deletedCount === 0) return false;
    await this.#logChange(uid, 'delete');
    return true;
  }

  async findForInquiry(inquiry: Inquiry, checker: CheckerName = 'rules'): Promise<Policy[]> {
    const lookup = lookupFor(inquiry, checker);
    if (lookup.impossible) return [];
    const filter: Record<string, unknown> = { type: lookup.type };
    for (const [field, keys] of Object.entries(lookup.keys)) filter[`ix.${lookup.mode}.${field}`] = { $in: keys };
    for (const [field, value] of Object.entries(lookup.fuzzy)) {
      filter[`raw.${field}`] = { $regex: escapeRegex(value) };
    }
    const documents = await mongoCall(() => this.#policies.find(filter, { projection: { doc: 1 } }).toArray());
    return documents.map((document) => this.#parsed.parse(document.doc));
  }

  /**
   * Reports every change logged from now on: through a change stream on the change log where the server
   * has them, else by polling it (see `changeFeedKind()`).
   */
  async subscribe(listener: (change: PolicyChange) => void, onGap?: () => void): Promise<() => Promise<void>> {
    const kind = await this.changeFeedKind();
    this.#logger.info({ feed: kind, collection: `${this.#name}_changes` }, 'abac: following policy changes');
    return kind === 'changeStream' ? this.#watch(listener, onGap) : this.#poll(listener, onGap);
  }

  /**
   * A change stream of the inserts into the change log. The driver resumes by itself after a resumable
   * error; any other error (the oplog no longer holds the resume point...) reopens the stream after
   * `onGap`, since changes may have been missed.
   */
  async #watch(listener: (change: PolicyChange) => void, onGap?: () => void): Promise<() => Promise<void>> {
    let stopped = false;
    let stream: mongo.ChangeStream<ChangeDocument> | undefined;
    let reopen: NodeJS.Timeout | undefined;
    const open = async (): Promise<void> => {
      const current = this.#changes.watch([{ $match: { operationType: 'insert' } }]);
      stream = current;
      current.on('change', (event) => {
        const change = (event as { fullDocument?: ChangeDocument }).fullDocument;
        if (change) listener(toPolicyChange(change));
      });
      // The stream sees what is written after its first answer (which gives it a resume token): wait for
      // that, so that no change made once subscribe() has resolved is missed.
      await new Promise<void>((resolve, reject) => {
        current.once('resumeTokenChanged', () => resolve());
        current.once('error', reject);
      });
      current.on('error', (error: unknown) => {
        if (stopped) return;
        this.#logger.warn({ err: errorForLog(error) }, 'abac: policy change stream failed; reopening');
        void current.close().catch(() => undefined);
        reopen = setTimeout(() => {
          if (stopped) return;
          onGap?.();
          open().catch((failure: unknown) => current.emit('error', failure as Error));
        }, this.#pollIntervalMs);
        reopen.unref?.();
      });
    };
    await mongoCall(open);
    return async () => {
      stopped = true;
      clearTimeout(reopen);
      await stream?.close().catch(() => undefined);
    };
  }

  /**
   * Polls the revision counter and reports each logged change once. A change log trimmed past what this
   * subscriber saw triggers `onGap`.
   */
  async #poll(listener: (change: PolicyChange) => void, onGap?: () => void): Promise<() => Promise<void>> {
    const WINDOW = 50;
    let last = await this.#currentRevision();
    // Changes already logged when subscribing are the baseline, not news.
    const seen = new Set(
      (await mongoCall(() => this.#changes.find({ _id: { $gt: Math.max(0, last - WINDOW) } }).toArray())).map(
        (change) => change._id,
      ),
    );
    let stopped = false;
    let quiet = 0;
    let running: Promise<void> = Promise.resolve();
    const poll = async () => {
      const revision = await this.#currentRevision();
      // Keep reading the log for a few polls after a change: a revision may be logged after a later one.
      if (revision === last && ++quiet > 4) return;
      if (revision !== last) quiet = 0;
      // Re-read a window below `last`: a writer may log revision n after another logged n + 1.
      const changes = await mongoCall(() =>
        this.#changes
          .find({ _id: { $gt: Math.max(0, last - WINDOW) } })
          .sort({ _id: 1 })
          .toArray(),
      );
      if (revision > last && changes.length === 0) onGap?.();
      for (const change of changes) {
        if (seen.has(change._id)) continue;
        seen.add(change._id);
        listener(toPolicyChange(change));
      }
      last = Math.max(last, revision);
      for (const id of seen) if (id <= last - 2 * WINDOW) seen.delete(id);
    };
    const timer = setInterval(() => {
      running = running.then(poll).catch((error: unknown) => {
        if (!stopped) this.#logger.warn({ err: errorForLog(error) }, 'abac: policy change poll failed');
      });
    }, this.#pollIntervalMs);
    timer.unref?.();
    return async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    };
  }

  #document(policy: Policy): PolicyDocument {
    return {
      _id: policy.uid,
      doc: serializePolicy(policy),
      type: policy.type,
      effect: policy.effect,
      ix: indexKeysOf(policy),
      raw: rawStringsOf(policy),
    };
  }

  /** The newest logged change; the log always keeps it, so revisions never go back. */
  async #currentRevision(): Promise<number> {
    const newest = await mongoCall(() =>
      this.#changes
        .find({}, { projection: { _id: 1 } })
        .sort({ _id: -1 })
        .limit(1)
        .toArray(),
    );
    return newest[0]?._id ?? 0;
  }

  /**
   * Logs a change under the next free revision, claimed by inserting it: the unique `_id` makes the claim
   * atomic on every server. A counter document bumped with `findOneAndUpdate` + `$inc` handed the same
   * value to concurrent writers on FerretDB, and the second insert of that revision failed the write.
   */
  async #logChange(uid: string, kind: ChangeDocument['kind'], doc?: string): Promise<void> {
    const at = new Date();
    for (let attempt = 0; ; attempt++) {
      const rev = (await this.#currentRevision()) + 1;
      try {
        await mongoCall(() => this.#changes.insertOne({ _id: rev, uid, kind, at, ...(doc !== undefined && { doc }) }));
        break;
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= MAX_REVISION_CLAIMS) throw error;
        // Another writer took this revision: back off a little so that a crowd does not collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    if (++this.#writes % 100 === 0) {
      const newest = await this.#currentRevision();
      const cutoff = new Date(at.getTime() - CHANGE_RETENTION_MS);
      await mongoCall(() => this.#changes.deleteMany({ at: { $lt: cutoff }, _id: { $lt: newest } }));
    }
  }
}

function toPolicyChange(change: ChangeDocument): PolicyChange {
  return change.kind === 'reset'
    ? { kind: 'reset', revision: change._id }
    : { kind: change.kind, uid: change.uid, revision: change._id };
}
