// The attachments store contract: files attached to records, stored and read back as streams of bytes.
import type { ManagedStore } from './lifecycle.js';

/** A stored file's description. `size` and `sha256` are of the bytes as the store received them. */
export interface AttachmentMeta {
  fileId: string;
  /** The record the file is attached to. */
  recordId: string;
  filename: string;
  mimeType: string;
  size: number;
  /** SHA-256 of the bytes, lower-case hex. */
  sha256: string;
  createdAt: Date;
  updatedAt: Date;
  /** What `NewAttachment.extra` returned (e.g. an encryption header's facts); stores keep it as given. */
  extra?: Record<string, unknown>;
}

export interface NewAttachment {
  recordId: string;
  filename: string;
  mimeType: string;
  /** Called once every byte is stored, before `put` resolves: its result is kept as the file's `extra`. */
  extra?: () => Record<string, unknown>;
}

/** What `update` may change. */
export interface AttachmentChanges {
  filename?: string;
  mimeType?: string;
}

/**
 * Files attached to records, streamed in and out: a store keeps no more of a file in memory than it must
 * (the memory store keeps the file itself, a chunk at a time). Metadata a store returns is the caller's own.
 */
export interface AttachmentStore extends ManagedStore {
  readonly backend: 'memory' | 'mongodb';
  /** True when the store encrypts what it keeps (`EncryptedAttachmentStore`). */
  readonly encrypted?: boolean;
  /**
   * Stores `content` as a new file of `file.recordId`. It resolves once every byte is stored and the file is
   * visible; when `content` fails (a client that went away, a size limit), or the store does, it rejects
   * with that error and nothing of the file remains, nor is it ever listed.
   */
  put(file: NewAttachment, content: AsyncIterable<Uint8Array>): Promise<AttachmentMeta>;
  /** The record's files, oldest first. */
  list(recordId: string): Promise<AttachmentMeta[]>;
  get(recordId: string, fileId: string): Promise<AttachmentMeta | undefined>;
  /** The file's bytes, in order; undefined when the record has no such file. */
  open(recordId: string, fileId: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Renames or retypes a file, setting `updatedAt`; undefined when there is no such file. */
  update(recordId: string, fileId: string, changes: AttachmentChanges): Promise<AttachmentMeta | undefined>;
  /** Deletes a file and its bytes; true when it existed. */
  remove(recordId: string, fileId: string): Promise<boolean>;
}
