// An AttachmentStore decorator that encrypts each file's bytes on the way in and decrypts them on the way out.
import { createHash } from 'node:crypto';
import type {
  AttachmentChanges,
  AttachmentMeta,
  AttachmentStore,
  NewAttachment,
} from '../src/contracts/attachments.js';
import type { KeyRing } from '../src/pii/key-ring.js';
import { decryptStream, encryptStream, STREAM_CHUNK_BYTES } from '../src/pii/stream-cipher.js';

export interface EncryptedAttachmentStoreOptions {
  /** The store that keeps the ciphertext. */
  store: AttachmentStore;
  /** The field-encryption key ring (`ENCRYPTION_KEYS`; `createFieldEncryption(...).ring`). */
  keys: KeyRing;
  /** Plaintext bytes per authenticated chunk. Default 64 KiB. */
  chunkSize?: number;
}

// Kept in the inner store's `extra`: the facts of the plaintext, which the inner store never sees.
interface PlainFacts {
  plainSize: number;
  plainSha256: string;
  keyVersion: number;
}

function factsOf(meta: AttachmentMeta): PlainFacts | undefined {
  const facts = meta.extra?.encryption as Partial<PlainFacts> | undefined;
  return typeof facts?.plainSize === 'number' && typeof facts.plainSha256 === 'string'
    ? (facts as PlainFacts)
    : undefined;
}

/**
 * Streams each file through AES-256-GCM in authenticated chunks (`src/pii/stream-cipher.ts`) with a key derived
 * per file from the ring's current key, bound to the record id; the inner store keeps only ciphertext. Sizes and
 * hashes it answers are of the plaintext. A download yields no byte of a chunk before the chunk is verified; a
 * file that fails (tampered, truncated, key missing) throws `DecryptionError` while it is read.
 */
export class EncryptedAttachmentStore implements AttachmentStore {
  readonly encrypted = true;
  readonly #inner: AttachmentStore;
  readonly #keys: KeyRing;
  readonly #chunkSize: number;

  constructor(options: EncryptedAttachmentStoreOptions) {
    if (!options?.store) throw new TypeError('EncryptedAttachmentStore: options.store is required');
    if (typeof options.keys?.key !== 'function')
      throw new TypeError('EncryptedAttachmentStore: options.keys is required');
    this.#inner = options.store;
    this.#keys = options.keys;
    this.#chunkSize = options.chunkSize ?? STREAM_CHUNK_BYTES;
  }

  get backend() {
    return this.#inner.backend;
  }

  init(): Promise<void> {
    return this.#inner.init?.() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.#inner.close?.() ?? Promise.resolve();
  }

  async put(file: NewAttachment, content: AsyncIterable<Uint8Array>): Promise<AttachmentMeta> {
    const hash = createHash('sha256');
    let size = 0;
    async function* measured() {
      for await (const part of content) {
        hash.update(part);
        size += part.byteLength;
        yield part;
      }
    }
    const keyVersion = this.#keys.current;
    const stored = await this.#inner.put(
      {
        recordId: file.recordId,
        filename: file.filename,
        mimeType: file.mimeType,
        extra: () => {
          const facts: PlainFacts = { plainSize: size, plainSha256: hash.digest('hex'), keyVersion };
          return { ...file.extra?.(), encryption: facts };
        },
      },
      encryptStream(measured(), this.#keys, { chunkSize: this.#chunkSize, context: file.recordId }),
    );
    return this.#plain(stored);
  }

  #plain(meta: AttachmentMeta): AttachmentMeta {
    const facts = factsOf(meta);
    const { encryption: _facts, ...rest } = meta.extra ?? {};
    const { extra: _extra, ...fields } = meta;
    return {
      ...fields,
      size: facts?.plainSize ?? meta.size,
      sha256: facts?.plainSha256 ?? meta.sha256,
      ...(Object.keys(rest).length > 0 ? { extra: rest } : {}),
    };
  }

  async list(recordId: string): Promise<AttachmentMeta[]> {
    return (await this.#inner.list(recordId)).map((meta) => this.#plain(meta));
  }

  async get(recordId: string, fileId: string): Promise<AttachmentMeta | undefined> {
    const meta = await this.#inner.get(recordId, fileId);
    return meta && this.#plain(meta);
  }

  async open(recordId: string, fileId: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const content = await this.#inner.open(recordId, fileId);
    return content && decryptStream(content, this.#keys, { context: recordId });
  }

  async update(recordId: string, fileId: string, changes: AttachmentChanges): Promise<AttachmentMeta | undefined> {
    const meta = await this.#inner.update(recordId, fileId, changes);
    return meta && this.#plain(meta);
  }

  remove(recordId: string, fileId: string): Promise<boolean> {
    return this.#inner.remove(recordId, fileId);
  }
}
