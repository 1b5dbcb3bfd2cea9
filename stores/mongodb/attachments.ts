// Attachments in MongoDB GridFS (the driver's GridFSBucket): bytes in `<bucket>.chunks`, one `<bucket>.files`
// document per file whose `metadata` holds the record, name, type, hash and whether the upload completed, and
// one `<bucket>.pending` document per upload in progress, so that one a crash cut short can be found.
import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { systemClock, type Clock } from '../../src/clock.js';
import { integerOption } from '../../src/options.js';
import type {
  AttachmentChanges,
  AttachmentMeta,
  AttachmentStore,
  NewAttachment,
} from '../../src/contracts/attachments.js';
import { mongoCall } from './errors.js';

const { GridFSBucket, ObjectId } = mongoose.mongo;
type ObjectIdType = InstanceType<typeof ObjectId>;

export interface MongoAttachmentStoreOptions {
  /** A connected mongoose connection; the store never opens or closes it. */
  connection: Connection;
  /** GridFS bucket name: collections `<bucket>.files` and `<bucket>.chunks`. Default `portcullis_attachments`. */
  bucketName?: string;
  /** Bytes per GridFS chunk document. Default 255 KiB (GridFS's own default). */
  chunkSizeBytes?: number;
  /**
   * An upload still unfinished this long after it began is taken as abandoned (its process died) and deleted
   * by a sweep that uploads start at most once an hour; 0 leaves it to `sweepIncomplete()`. Default 24 h.
   */
  abandonedAfterMs?: number;
  now?: Clock;
}

const SWEEP_EVERY = 3_600_000;

interface FileMetadata {
  recordId: string;
  filename: string;
  mimeType: string;
  /** False until every chunk is written and the hash recorded: such files are never listed or read. */
  complete: boolean;
  sha256?: string;
  createdAt: Date;
  updatedAt: Date;
  extra?: Record<string, unknown>;
}

interface FileDocument {
  _id: ObjectIdType;
  length: number;
  metadata: FileMetadata;
}

const FILE_ID = /^[0-9a-f]{24}$/;

/**
 * GridFS works on FerretDB v1 as on MongoDB (the contract suite runs on it). An upload streams through
 * the driver's upload stream chunk by chunk; if it fails, the chunks written so far are deleted. A file is
 * marked complete only after its last chunk and `files` document are written, so a crash mid-upload leaves
 * an incomplete file that no route lists or reads (`sweepIncomplete()` deletes such files).
 */
export class MongoAttachmentStore implements AttachmentStore {
  readonly backend = 'mongodb' as const;
  readonly #connection: Connection;
  readonly #bucketName: string;
  readonly #chunkSize: number;
  readonly #abandonedAfterMs: number;
  readonly #now: Clock;
  #lastSweep = -Infinity;

  constructor(options: MongoAttachmentStoreOptions) {
    if (!options?.connection) throw new TypeError('MongoAttachmentStore: options.connection is required');
    this.#connection = options.connection;
    this.#bucketName = options.bucketName ?? 'portcullis_attachments';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.#bucketName)) {
      throw new TypeError('MongoAttachmentStore: bucketName must be 1-64 letters, digits, "_" or "-"');
    }
    this.#chunkSize = options.chunkSizeBytes ?? 255 * 1024;
    if (!Number.isSafeInteger(this.#chunkSize) || this.#chunkSize < 1024 || this.#chunkSize > 15 * 1024 * 1024) {
      throw new TypeError('MongoAttachmentStore: chunkSizeBytes must be an integer from 1024 to 15 MiB');
    }
    this.#abandonedAfterMs = integerOption('abandonedAfterMs', options.abandonedAfterMs, {
      fallback: 86_400_000,
      min: 0,
    });
    this.#now = options.now ?? systemClock;
  }

  get #db() {
    const db = this.#connection.db;
    if (!db) throw new TypeError('MongoAttachmentStore: the connection is not open');
    return db;
  }

  // One bucket: it remembers that it has checked GridFS's indexes.
  #bucketInstance: InstanceType<typeof GridFSBucket> | undefined;
  get #bucket() {
    this.#bucketInstance ??= new GridFSBucket(this.#db, {
      bucketName: this.#bucketName,
      chunkSizeBytes: this.#chunkSize,
    });
    return this.#bucketInstance;
  }

  get #files() {
    return this.#db.collection<FileDocument>(`${this.#bucketName}.files`);
  }

  get #chunks() {
    return this.#db.collection(`${this.#bucketName}.chunks`);
  }

  // GridFS writes a file's document only after its last chunk: without this marker, the chunks of an upload
  // whose process died would be in no document at all, and never found again.
  get #pending() {
    return this.#db.collection<{ _id: ObjectIdType; createdAt: Date }>(`${this.#bucketName}.pending`);
  }

  async init(): Promise<void> {
    await mongoCall(async () => {
      // GridFS's own indexes (chunks by file and position) are created by the driver at the first upload.
      await this.#files.createIndex({ 'metadata.recordId': 1, uploadDate: 1 }, { name: 'pc_record' });
      await this.#pending.createIndex({ createdAt: 1 }, { name: 'pc_created' });
    });
  }

  async put(file: NewAttachment, content: AsyncIterable<Uint8Array>): Promise<AttachmentMeta> {
    this.#sweepIfDue();
    const id = new ObjectId();
    const now = new Date(this.#now());
    await mongoCall(() => this.#pending.insertOne({ _id: id, createdAt: now }));
    const metadata: FileMetadata = {
      recordId: file.recordId,
      filename: file.filename,
      mimeType: file.mimeType,
      complete: false,
      createdAt: now,
      updatedAt: now,
    };
    const hash = createHash('sha256');
    const upload = this.#bucket.openUploadStream(id.toHexString(), { id, metadata });
    // Failures arrive through the write callbacks below; abort() also emits one, after the fact.
    upload.on('error', () => undefined);
    try {
      await mongoCall(async () => {
        for await (const part of content) {
          hash.update(part);
          // Each write is awaited until the driver has stored what it filled, so when `content` fails no
          // chunk insert is still in flight and the clean-up below deletes everything written.
          await new Promise<void>((resolve, reject) =>
            upload.write(part, (error) => (error ? reject(error) : resolve())),
          );
        }
        await new Promise<void>((resolve, reject) => {
          upload.once('error', reject);
          upload.end(() => resolve());
        });
      });
      const sha256 = hash.digest('hex');
      const extra = file.extra?.();
      const done = await mongoCall(() =>
        this.#files.updateOne(
          { _id: id },
          {
            $set: {
              'metadata.complete': true,
              'metadata.sha256': sha256,
              ...(extra ? { 'metadata.extra': extra } : {}),
            },
          },
        ),
      );
      if (done.matchedCount !== 1) throw new Error('the uploaded file document is missing');
      // A marker left by a failure here is harmless: a sweep keeps complete files.
      await this.#pending.deleteOne({ _id: id }).catch(() => undefined);
      return { ...this.#meta({ _id: id, length: upload.length, metadata }), sha256, ...(extra ? { extra } : {}) };
    } catch (error) {
      await upload.abort().catch(() => undefined);
      await this.#discard(id);
      throw error;
    }
  }

  /** Deletes whatever an upload wrote; best effort (an outage leaves an incomplete file, never listed). */
  async #discard(id: ObjectIdType): Promise<void> {
    await this.#chunks.deleteMany({ files_id: id }).catch(() => undefined);
    await this.#files.deleteOne({ _id: id }).catch(() => undefined);
    await this.#pending.deleteOne({ _id: id }).catch(() => undefined);
  }

  #meta(document: Pick<FileDocument, '_id' | 'length' | 'metadata'>): AttachmentMeta {
    const { metadata } = document;
    return {
      fileId: document._id.toHexString(),
      recordId: metadata.recordId,
      filename: metadata.filename,
      mimeType: metadata.mimeType,
      size: document.length,
      sha256: metadata.sha256 ?? '',
      createdAt: metadata.createdAt,
      updatedAt: metadata.updatedAt,
      ...(metadata.extra ? { extra: metadata.extra } : {}),
    };
  }

  #filter(recordId: string, fileId: string) {
    return { _id: new ObjectId(fileId), 'metadata.recordId': recordId, 'metadata.complete': true };
  }

  async list(recordId: string): Promise<AttachmentMeta[]> {
    const documents = await mongoCall(() =>
      this.#files
        .find({ 'metadata.recordId': String(recordId), 'metadata.complete': true })
        .sort({ uploadDate: 1, _id: 1 })
        .toArray(),
    );
    return documents.map((document) => this.#meta(document));
  }

  async get(recordId: string, fileId: string): Promise<AttachmentMeta | undefined> {
    if (typeof fileId !== 'string' || !FILE_ID.test(fileId)) return undefined;
    const document = await mongoCall(() => this.#files.findOne(this.#filter(String(recordId), fileId)));
    return document ? this.#meta(document) : undefined;
  }

  async open(recordId: string, fileId: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    if (!(await this.get(recordId, fileId))) return undefined;
    return this.#bucket.openDownloadStream(new ObjectId(fileId));
  }

  async update(recordId: string, fileId: string, changes: AttachmentChanges): Promise<AttachmentMeta | undefined> {
    if (typeof fileId !== 'string' || !FILE_ID.test(fileId)) return undefined;
    const set: Record<string, unknown> = { 'metadata.updatedAt': new Date() };
    if (changes.filename !== undefined) set['metadata.filename'] = changes.filename;
    if (changes.mimeType !== undefined) set['metadata.mimeType'] = changes.mimeType;
    const result = await mongoCall(() => this.#files.updateOne(this.#filter(String(recordId), fileId), { $set: set }));
    return result.matchedCount === 1 ? this.get(recordId, fileId) : undefined;
  }

  async remove(recordId: string, fileId: string): Promise<boolean> {
    if (typeof fileId !== 'string' || !FILE_ID.test(fileId)) return false;
    // The files document first: once it is gone the file is gone for every reader, whatever happens next.
    const result = await mongoCall(() => this.#files.deleteOne(this.#filter(String(recordId), fileId)));
    if (result.deletedCount !== 1) return false;
    await mongoCall(() => this.#chunks.deleteMany({ files_id: new ObjectId(fileId) }));
    return true;
  }

  /**
   * Deletes what every upload begun before `before` and never completed left (a process that died
   * mid-upload): its chunks, and its file document if it got one. Returns how many uploads it deleted.
   */
  async sweepIncomplete(before: Date): Promise<number> {
    const pending = await mongoCall(() =>
      this.#pending.find({ createdAt: { $lt: before } }, { projection: { _id: 1 } }).toArray(),
    );
    // Files of the earlier form, written before uploads left a marker.
    const unmarked = await mongoCall(() =>
      this.#files
        .find({ 'metadata.complete': false, 'metadata.createdAt': { $lt: before } }, { projection: { _id: 1 } })
        .toArray(),
    );
    const ids = new Map([...pending, ...unmarked].map(({ _id }) => [_id.toHexString(), _id]));
    const complete = new Set(
      (
        await mongoCall(() =>
          this.#files
            .find({ _id: { $in: [...ids.values()] }, 'metadata.complete': true }, { projection: { _id: 1 } })
            .toArray(),
        )
      ).map(({ _id }) => _id.toHexString()),
    );
    let deleted = 0;
    for (const [key, id] of ids) {
      if (complete.has(key)) await mongoCall(() => this.#pending.deleteOne({ _id: id }));
      else {
        await this.#discard(id);
        deleted++;
      }
    }
    return deleted;
  }

  // In the background: an upload never waits for, nor fails by, another's clean-up.
  #sweepIfDue(): void {
    const now = this.#now();
    if (this.#abandonedAfterMs === 0 || now - this.#lastSweep < SWEEP_EVERY) return;
    this.#lastSweep = now;
    void this.sweepIncomplete(new Date(now - this.#abandonedAfterMs)).catch(() => undefined);
  }
}
