// The attachments store contract on memory and GridFS (FerretDB), plain and encrypted: streams in and out
// byte for byte, and a failed upload leaves nothing behind.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import type { AttachmentStore } from '../../src/contracts/attachments.js';
import { createKeyRing } from '../../src/pii/key-ring.js';
import { EncryptedAttachmentStore } from '../../stores/encrypted-attachments.js';
import { MemoryAttachmentStore } from '../../stores/memory/attachments.js';
import { MongoAttachmentStore } from '../../stores/mongodb/attachments.js';
import { contractSuite, type BackendContext, type Implementation } from './harness.js';

/** What a store keeps of every file, complete or not, read from its backend directly. */
type Leftovers = () => Promise<number>;
/** Everything the backend holds, as one buffer per stored chunk or file (to look for plaintext). */
type RawBytes = () => Promise<Buffer>;
const leftoversOf = new WeakMap<AttachmentStore, Leftovers>();
const rawOf = new WeakMap<AttachmentStore, RawBytes>();

const plain: Implementation<AttachmentStore>[] = [
  {
    name: 'memory',
    async create() {
      const store = new MemoryAttachmentStore();
      leftoversOf.set(store, async () => store.fileCount);
      rawOf.set(store, async () => {
        const parts: Buffer[] = [];
        for (const meta of await store.list('r1')) {
          for await (const chunk of (await store.open('r1', meta.fileId))!) parts.push(Buffer.from(chunk));
        }
        return Buffer.concat(parts);
      });
      return { store };
    },
  },
  {
    name: 'mongodb (GridFS)',
    async create(context: BackendContext) {
      const connection = await context.mongo();
      const bucketName = context.name;
      const store = new MongoAttachmentStore({ connection, bucketName, chunkSizeBytes: 64 * 1024 });
      await store.init();
      const db = connection.db!;
      leftoversOf.set(
        store,
        async () =>
          (await db.collection(`${bucketName}.files`).countDocuments()) +
          (await db.collection(`${bucketName}.chunks`).countDocuments()),
      );
      rawOf.set(store, async () => {
        const chunks = await db.collection(`${bucketName}.chunks`).find().sort({ files_id: 1, n: 1 }).toArray();
        return Buffer.concat(chunks.map((chunk) => Buffer.from((chunk.data as { buffer: Uint8Array }).buffer)));
      });
      return {
        store,
        async cleanup() {
          await db.dropCollection(`${bucketName}.files`).catch(() => false);
          await db.dropCollection(`${bucketName}.chunks`).catch(() => false);
          await db.dropCollection(`${bucketName}.pending`).catch(() => false);
        },
      };
    },
  },
];

const encrypted: Implementation<AttachmentStore>[] = plain.map((implementation) => ({
  name: `${implementation.name}, encrypted`,
  async create(context) {
    const inner = await implementation.create(context);
    const keys = createKeyRing([{ version: 1, key: randomBytes(32) }]);
    const store = new EncryptedAttachmentStore({ store: inner.store, keys, chunkSize: 16 * 1024 });
    leftoversOf.set(store, leftoversOf.get(inner.store)!);
    rawOf.set(store, rawOf.get(inner.store)!);
    return { store, ...(inner.cleanup ? { cleanup: inner.cleanup } : {}) };
  },
}));

/** `bytes` as a stream of uneven parts, as a network would deliver them. */
async function* parts(bytes: Buffer, size = 40_009): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function* failingAfter(bytes: Buffer, error: Error): AsyncGenerator<Buffer> {
  yield* parts(bytes);
  throw error;
}

async function read(content: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  expect(content).to.not.equal(undefined);
  const chunks: Buffer[] = [];
  for await (const chunk of content!) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

contractSuite('attachments', [...plain, ...encrypted], (store) => {
  it('round-trips a large multi-chunk file byte for byte, with its size and hash', async function () {
    const bytes = randomBytes(1_000_003);
    const meta = await store().put({ recordId: 'r1', filename: 'scan.pdf', mimeType: 'application/pdf' }, parts(bytes));
    expect(meta).to.include({ recordId: 'r1', filename: 'scan.pdf', mimeType: 'application/pdf', size: bytes.length });
    expect(meta.sha256).to.equal(sha256(bytes));
    expect(meta.fileId).to.be.a('string').and.not.be.empty;
    const copy = await read(await store().open('r1', meta.fileId));
    expect(copy.equals(bytes)).to.equal(true);
    expect((await store().list('r1')).map((file) => [file.fileId, file.size, file.sha256])).to.deep.equal([
      [meta.fileId, bytes.length, meta.sha256],
    ]);
    expect(await store().get('r1', meta.fileId)).to.deep.include({ size: bytes.length, filename: 'scan.pdf' });
  });

  it('stores empty files and files of exactly one chunk', async function () {
    for (const size of [0, 16 * 1024, 64 * 1024]) {
      const bytes = randomBytes(size);
      const meta = await store().put({ recordId: 'r1', filename: `f${size}`, mimeType: 'text/plain' }, parts(bytes));
      expect(meta.size).to.equal(size);
      expect((await read(await store().open('r1', meta.fileId))).equals(bytes), String(size)).to.equal(true);
    }
  });

  it('keeps files per record, and answers nothing for unknown or malformed ids', async function () {
    const meta = await store().put(
      { recordId: 'r1', filename: 'a.txt', mimeType: 'text/plain' },
      parts(Buffer.from('hi')),
    );
    expect(await store().get('r2', meta.fileId)).to.equal(undefined);
    expect(await store().open('r2', meta.fileId)).to.equal(undefined);
    expect(await store().update('r2', meta.fileId, { filename: 'x' })).to.equal(undefined);
    expect(await store().remove('r2', meta.fileId)).to.equal(false);
    expect(await store().list('r2')).to.deep.equal([]);
    for (const bad of ['nope', '0123456789abcdef01234567', { $ne: 1 } as unknown as string]) {
      expect(await store().get('r1', bad)).to.equal(undefined);
      expect(await store().remove('r1', bad)).to.equal(false);
    }
  });

  it('renames and retypes a file', async function () {
    const meta = await store().put(
      { recordId: 'r1', filename: 'a.txt', mimeType: 'text/plain' },
      parts(Buffer.from('x')),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await store().update('r1', meta.fileId, { filename: 'b.csv', mimeType: 'text/csv' });
    expect(updated).to.deep.include({ filename: 'b.csv', mimeType: 'text/csv', size: 1, sha256: meta.sha256 });
    expect(updated!.updatedAt.getTime()).to.be.greaterThan(meta.updatedAt.getTime());
    expect(await store().get('r1', meta.fileId)).to.deep.include({ filename: 'b.csv', mimeType: 'text/csv' });
  });

  it('deletes a file and every byte of it', async function () {
    const meta = await store().put(
      { recordId: 'r1', filename: 'a', mimeType: 'text/plain' },
      parts(randomBytes(300_000)),
    );
    expect(await store().remove('r1', meta.fileId)).to.equal(true);
    expect(await store().get('r1', meta.fileId)).to.equal(undefined);
    expect(await store().open('r1', meta.fileId)).to.equal(undefined);
    expect(await store().remove('r1', meta.fileId)).to.equal(false);
    expect(await leftoversOf.get(store())!()).to.equal(0);
  });

  it('leaves nothing of an upload whose content fails midway', async function () {
    const failure = new Error('client went away');
    let caught: unknown;
    await store()
      .put({ recordId: 'r1', filename: 'cut', mimeType: 'text/plain' }, failingAfter(randomBytes(500_000), failure))
      .catch((error) => (caught = error));
    expect(caught).to.equal(failure);
    expect(await store().list('r1')).to.deep.equal([]);
    expect(await leftoversOf.get(store())!()).to.equal(0);
  });
});

contractSuite('attachments, encrypted at rest', encrypted, (store) => {
  it('keeps no plaintext in the backend', async function () {
    const secret = Buffer.from('PATIENT RECORD 4111 1111 1111 1111 '.repeat(4000));
    const meta = await store().put({ recordId: 'r1', filename: 'x.txt', mimeType: 'text/plain' }, parts(secret));
    const raw = await rawOf.get(store())!();
    expect(raw.length).to.be.greaterThan(secret.length);
    expect(raw.includes(Buffer.from('PATIENT RECORD'))).to.equal(false);
    expect((await read(await store().open('r1', meta.fileId))).equals(secret)).to.equal(true);
  });
});
