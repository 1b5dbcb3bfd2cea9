// In-memory attachments: each file kept as the chunks it arrived in, visible only once every byte is in.
import { createHash } from 'node:crypto';
import type {
  AttachmentChanges,
  AttachmentMeta,
  AttachmentStore,
  NewAttachment,
} from '../../src/contracts/attachments.js';
import { randomId } from '../id.js';

interface StoredFile {
  meta: AttachmentMeta;
  chunks: Buffer[];
}

function copyMeta(meta: AttachmentMeta): AttachmentMeta {
  return {
    ...meta,
    createdAt: new Date(meta.createdAt),
    updatedAt: new Date(meta.updatedAt),
    ...(meta.extra ? { extra: structuredClone(meta.extra) } : {}),
  };
}

/** The embedded default behind `crudRouter({ attachments })`: files live as long as the process. */
export class MemoryAttachmentStore implements AttachmentStore {
  readonly backend = 'memory' as const;
  readonly #files = new Map<string, StoredFile>();

  async put(file: NewAttachment, content: AsyncIterable<Uint8Array>): Promise<AttachmentMeta> {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let size = 0;
    // A failing `content` throws out of this loop before anything is kept.
    for await (const part of content) {
      const chunk = Buffer.from(part);
      chunks.push(chunk);
      hash.update(chunk);
      size += chunk.length;
    }
    const now = new Date();
    const extra = file.extra?.();
    const meta: AttachmentMeta = {
      fileId: randomId('file_'),
      recordId: file.recordId,
      filename: file.filename,
      mimeType: file.mimeType,
      size,
      sha256: hash.digest('hex'),
      createdAt: now,
      updatedAt: now,
      ...(extra ? { extra: structuredClone(extra) } : {}),
    };
    this.#files.set(meta.fileId, { meta, chunks });
    return copyMeta(meta);
  }

  #file(recordId: string, fileId: string): StoredFile | undefined {
    const file = typeof fileId === 'string' ? this.#files.get(fileId) : undefined;
    return file && file.meta.recordId === recordId ? file : undefined;
  }

  async list(recordId: string): Promise<AttachmentMeta[]> {
    const found: AttachmentMeta[] = [];
    for (const file of this.#files.values()) if (file.meta.recordId === recordId) found.push(copyMeta(file.meta));
    return found;
  }

  async get(recordId: string, fileId: string): Promise<AttachmentMeta | undefined> {
    const file = this.#file(recordId, fileId);
    return file && copyMeta(file.meta);
  }

  async open(recordId: string, fileId: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const file = this.#file(recordId, fileId);
    if (!file) return undefined;
    const chunks = file.chunks;
    return (async function* () {
      for (const chunk of chunks) yield Buffer.from(chunk);
    })();
  }

  async update(recordId: string, fileId: string, changes: AttachmentChanges): Promise<AttachmentMeta | undefined> {
    const file = this.#file(recordId, fileId);
    if (!file) return undefined;
    if (changes.filename !== undefined) file.meta.filename = changes.filename;
    if (changes.mimeType !== undefined) file.meta.mimeType = changes.mimeType;
    file.meta.updatedAt = new Date();
    return copyMeta(file.meta);
  }

  async remove(recordId: string, fileId: string): Promise<boolean> {
    return this.#file(recordId, fileId) !== undefined && this.#files.delete(fileId);
  }

  /** Files kept, complete or not: for tests that check nothing of a failed upload remains. */
  get fileCount(): number {
    return this.#files.size;
  }
}
