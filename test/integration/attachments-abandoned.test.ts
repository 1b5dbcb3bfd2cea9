// GridFS uploads cut short by a dead process: GridFS writes a file's document only after its last chunk, so
// such an upload leaves chunks that no file names. The store marks each upload while it runs, and a sweep
// (by hand, or started by uploads once the upload is old enough) deletes what abandoned ones left, never a
// complete file.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { ConfigError } from '../../src/errors.js';
import { MongoAttachmentStore } from '../../stores/mongodb/attachments.js';
import { sharedMongo, uniqueName } from '../support/connections.js';

/** Content that delivers `bytes`, then waits until `cut()` ends it with an error: an upload in progress. */
function stalled(bytes: Buffer) {
  let cut!: (error: Error) => void;
  const stop = new Promise<never>((_, reject) => (cut = reject));
  async function* content() {
    yield bytes;
    await stop;
  }
  return { content: content(), cut: () => cut(new Error('the process died')) };
}

async function* once(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text);
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('MongoAttachmentStore: abandoned uploads (real server)', function () {
  this.timeout(30_000);
  let connection: Connection;
  let bucketName: string;
  const count = (suffix: string) => connection.db!.collection(`${bucketName}.${suffix}`).countDocuments();

  beforeEach(async function () {
    connection = await sharedMongo();
    bucketName = uniqueName('abandoned');
  });
  afterEach(async function () {
    for (const suffix of ['files', 'chunks', 'pending']) {
      await connection.dropCollection(`${bucketName}.${suffix}`).catch(() => false);
    }
  });

  it('sweepIncomplete deletes the chunks of an upload that never got its file document', async function () {
    const store = new MongoAttachmentStore({ connection, bucketName, chunkSizeBytes: 1024, abandonedAfterMs: 0 });
    await store.init();
    const kept = await store.put(
      { recordId: 'r1', filename: 'kept.txt', mimeType: 'text/plain' },
      once('a complete file'),
    );
    const upload = stalled(randomBytes(5000));
    const failed = store
      .put({ recordId: 'r1', filename: 'cut.bin', mimeType: 'application/octet-stream' }, upload.content)
      .catch((error: Error) => error);
    // 5 000 bytes in 1 KiB chunks: 4 written, the rest waits for more; plus the complete file's one.
    await until('chunks of the stalled upload', async () => (await count('chunks')) === 5);
    expect(await count('files')).to.equal(1); // only the complete file has a document
    expect(await store.sweepIncomplete(new Date(Date.now() + 60_000))).to.equal(1);
    expect(await count('chunks')).to.equal(1); // the complete file's one chunk
    expect(await count('pending')).to.equal(0);
    expect(await store.list('r1')).to.have.length(1);
    upload.cut();
    expect(await failed).to.be.instanceOf(Error);
    const content = await store.open('r1', kept.fileId);
    const parts: Buffer[] = [];
    for await (const part of content!) parts.push(Buffer.from(part));
    expect(Buffer.concat(parts).toString()).to.equal('a complete file');
  });

  it('never deletes a complete file whose upload marker outlived it', async function () {
    const store = new MongoAttachmentStore({ connection, bucketName, abandonedAfterMs: 0 });
    await store.init();
    const kept = await store.put({ recordId: 'r1', filename: 'kept.txt', mimeType: 'text/plain' }, once('still here'));
    // As if the marker's deletion had failed after the file completed.
    const { ObjectId } = (await import('mongoose')).default.mongo;
    await connection.db!.collection(`${bucketName}.pending`).insertOne({
      _id: new ObjectId(kept.fileId),
      createdAt: new Date(0),
    });
    expect(await store.sweepIncomplete(new Date())).to.equal(0);
    expect(await count('pending')).to.equal(0);
    expect((await store.list('r1')).map((file) => file.fileId)).to.deep.equal([kept.fileId]);
  });

  it('uploads start the sweep by themselves once an upload is older than abandonedAfterMs', async function () {
    let now = Date.parse('2026-06-01T00:00:00Z');
    const store = new MongoAttachmentStore({
      connection,
      bucketName,
      chunkSizeBytes: 1024,
      abandonedAfterMs: 60_000,
      now: () => now,
    });
    await store.init();
    const upload = stalled(randomBytes(5000));
    const failed = store
      .put({ recordId: 'r1', filename: 'cut.bin', mimeType: 'application/octet-stream' }, upload.content)
      .catch((error: Error) => error);
    await until('chunks of the stalled upload', async () => (await count('chunks')) >= 4);
    // A minute later the stalled upload is not old enough yet; an hour later it is abandoned.
    now += 30_000;
    await store.put({ recordId: 'r2', filename: 'a.txt', mimeType: 'text/plain' }, once('a'));
    expect(await count('chunks')).to.equal(5); // 4 of the stalled upload, 1 of a.txt
    now += 3_600_000;
    await store.put({ recordId: 'r2', filename: 'b.txt', mimeType: 'text/plain' }, once('b'));
    await until('the sweep', async () => (await count('chunks')) === 2 && (await count('pending')) === 0);
    expect((await store.list('r2')).map((file) => file.filename).sort()).to.deep.equal(['a.txt', 'b.txt']);
    upload.cut();
    await failed;
  });

  it('refuses a bad abandonedAfterMs, naming it', function () {
    for (const bad of [-1, 1.5, 'soon']) {
      expect(() => new MongoAttachmentStore({ connection, bucketName, abandonedAfterMs: bad as number }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.includes('abandonedAfterMs');
    }
  });
});
