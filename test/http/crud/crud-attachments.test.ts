// /:id/attachments over HTTP on memory and GridFS (FerretDB): byte-for-byte round trips, encryption at rest,
// the record's permissions, and bad or interrupted uploads that leave nothing behind.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response, NextFunction } from 'express';
import request from 'supertest';
import type { AttachmentStore } from '../../../src/contracts/attachments.js';
import { ConfigError, ForbiddenError } from '../../../src/errors.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { EncryptedAttachmentStore } from '../../../stores/encrypted-attachments.js';
import { EncryptedRecordStore } from '../../../stores/encrypted-records.js';
import { MemoryAttachmentStore } from '../../../stores/memory/attachments.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { MongoAttachmentStore } from '../../../stores/mongodb/attachments.js';
import { openApiDocument } from '../../../middleware/openapi/document.js';
import { sharedMongo, uniqueName } from '../../support/connections.js';
import { openApiErrors } from '../../support/openapi.js';
import { backends, buildApp, permissions, schema, type Backend, type TestApp } from './app.js';

const MAX = 3 * 1024 * 1024;

interface Files {
  store: AttachmentStore;
  /** Every file and chunk the backend holds, complete or not. */
  leftovers(): Promise<number>;
  /** All stored bytes, for looking for plaintext (GridFS; the memory store is read through its own open()). */
  raw?(): Promise<Buffer>;
  cleanup(): Promise<void>;
}

async function filesOn(backend: Backend): Promise<Files> {
  if (backend === 'memory') {
    const store = new MemoryAttachmentStore();
    return {
      store,
      leftovers: async () => store.fileCount,
      cleanup: async () => undefined,
    };
  }
  const connection = await sharedMongo();
  const bucketName = uniqueName('att_http');
  const store = new MongoAttachmentStore({ connection, bucketName, chunkSizeBytes: 64 * 1024 });
  await store.init();
  const db = connection.db!;
  return {
    store,
    leftovers: async () =>
      (await db.collection(`${bucketName}.files`).countDocuments()) +
      (await db.collection(`${bucketName}.chunks`).countDocuments()),
    async raw() {
      const chunks = await db.collection(`${bucketName}.chunks`).find().toArray();
      return Buffer.concat(chunks.map((chunk) => Buffer.from((chunk.data as { buffer: Uint8Array }).buffer)));
    },
    async cleanup() {
      await db.dropCollection(`${bucketName}.files`).catch(() => false);
      await db.dropCollection(`${bucketName}.chunks`).catch(() => false);
    },
  };
}

/** supertest's parser for a binary body (its type names superagent's response, an IncomingMessage here). */
function binary(res: unknown, callback: (error: Error | null, body: Buffer) => void): void {
  const stream = res as IncomingMessage;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const backend of backends) {
  describe(`crudRouter attachments (${backend})`, function () {
    this.timeout(30_000);
    let test: TestApp;
    let files: Files;
    let recordId: string;
    const denied = new Set<string>();
    beforeEach(async () => {
      files = await filesOn(backend);
      denied.clear();
      test = await buildApp(backend, {
        attachments: { store: files.store, maxBytes: MAX, types: ['application/pdf', 'text/*'] },
        authorize: (action) => (_req: Request, _res: Response, next: NextFunction) =>
          next(denied.has(action) ? new ForbiddenError(`No ${action}.`) : undefined),
      });
      recordId = (await request(test.app).post('/people').send({ name: 'Ann', country: 'NO' }).expect(201)).body.id;
    });
    afterEach(async () => {
      await test.cleanup();
      await files.cleanup();
    });

    const upload = (bytes: Buffer, type = 'application/pdf', name = 'scan.pdf') =>
      request(test.app)
        .post(`/people/${recordId}/attachments`)
        .set('Content-Type', type)
        .set('Content-Disposition', `attachment; filename="${name}"`)
        .send(bytes);

    it('adds, lists, downloads byte for byte, renames and deletes a multi-chunk file', async () => {
      const bytes = randomBytes(MAX - 12_345);
      const added = await upload(bytes).expect(201);
      expect(added.body).to.include({ filename: 'scan.pdf', mimeType: 'application/pdf', size: bytes.length });
      const fileId = String(added.body.fileId);
      expect(added.headers.location).to.equal(`/people/${recordId}/attachments/${fileId}`);
      const listed = await request(test.app).get(`/people/${recordId}/attachments`).expect(200);
      expect(listed.body.items.map((item: { fileId: string }) => item.fileId)).to.deep.equal([fileId]);
      const downloaded = await request(test.app)
        .get(`/people/${recordId}/attachments/${fileId}`)
        .buffer(true)
        .parse(binary)
        .expect(200)
        .expect('Content-Type', 'application/pdf')
        .expect('Content-Disposition', 'attachment; filename=scan.pdf');
      expect((downloaded.body as Buffer).equals(bytes)).to.equal(true);
      const renamed = await request(test.app)
        .patch(`/people/${recordId}/attachments/${fileId}`)
        .send({ filename: 'a/../contract.pdf' })
        .expect(200);
      expect(renamed.body.filename).to.equal('contract.pdf');
      const refused = await request(test.app)
        .patch(`/people/${recordId}/attachments/${fileId}`)
        .send({ size: 1, mimeType: 'application/x-msdownload' })
        .expect(415);
      expect(refused.body.code).to.equal('unsupported_media_type.attachment');
      await request(test.app).delete(`/people/${recordId}/attachments/${fileId}`).expect(204);
      const gone = await request(test.app).get(`/people/${recordId}/attachments/${fileId}`).expect(404);
      expect(gone.body.code).to.equal('not_found.attachment');
      expect(await files.leftovers()).to.equal(0);
    });

    it('refuses bad uploads with a clear 4xx and keeps nothing of them', async () => {
      const tooLarge = await upload(randomBytes(MAX + 1)).expect(413);
      expect(tooLarge.body.code).to.equal('payload_too_large.attachment');
      const wrongType = await upload(Buffer.from('MZ...'), 'application/x-msdownload', 'setup.exe').expect(415);
      expect(wrongType.body.code).to.equal('unsupported_media_type.attachment');
      const unnamed = await request(test.app)
        .post(`/people/${recordId}/attachments`)
        .set('Content-Type', 'text/plain')
        .send('hello')
        .expect(400);
      expect(unnamed.body.code).to.equal('validation.filename');
      const noRecord = await request(test.app)
        .post('/people/nope/attachments')
        .set('Content-Type', 'text/plain')
        .set('Content-Disposition', 'attachment; filename="a.txt"')
        .send('hello')
        .expect(404);
      expect(noRecord.body.code).to.equal('not_found.record');
      const gzipped = await upload(gzipSync(Buffer.from('hello')), 'text/plain', 'a.txt')
        .set('Content-Encoding', 'gzip')
        .expect(415);
      expect(gzipped.body.code).to.equal('unsupported_media_type.attachment');
      expect(gzipped.body.detail).to.include('gzip');
      expect(await files.leftovers()).to.equal(0);
    });

    it('reads a plain filename sent as raw UTF-8, keeps a quoted pair, and refuses a name given twice', async () => {
      const named = (disposition: string) =>
        request(test.app)
          .post(`/people/${recordId}/attachments`)
          .set('Content-Type', 'text/plain')
          // Node sends a header string byte for byte (Latin-1): this is how curl sends UTF-8 typed in a shell.
          .set('Content-Disposition', Buffer.from(disposition, 'utf8').toString('latin1'))
          .send('hello');
      expect((await named('attachment; filename="été ✓.txt"').expect(201)).body.filename).to.equal('été ✓.txt');
      const long = `${'é'.repeat(200)}.txt`;
      expect((await named(`attachment; filename="${long}"`).expect(201)).body.filename).to.equal(long);
      expect((await named('attachment; filename="a\\"b.txt"').expect(201)).body.filename).to.equal('a"b.txt');
      for (const twice of [
        'attachment; filename="a.txt"; filename="b.exe"',
        "attachment; filename*=UTF-8''a.txt; filename*=UTF-8''b.exe",
      ]) {
        expect((await named(twice).expect(400)).body.code, twice).to.equal('validation.filename');
      }
    });

    it('removes bidirectional controls from file names, on upload and rename', async () => {
      const added = await request(test.app)
        .post(`/people/${recordId}/attachments`)
        .set('Content-Type', 'application/pdf')
        .set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent('invoice\u202efdp.exe')}`)
        .send(Buffer.from('%PDF-1.7'))
        .expect(201);
      expect(added.body.filename).to.equal('invoicefdp.exe');
      const path = `/people/${recordId}/attachments/${String(added.body.fileId)}`;
      const renamed = await request(test.app).patch(path).send({ filename: '\u2066scan\u2069\u200f.pdf' }).expect(200);
      expect(renamed.body.filename).to.equal('scan.pdf');
      await request(test.app).patch(path).send({ filename: '\u202e\u202a' }).expect(400);
    });

    it('refuses a chunked upload once it passes the limit, leaving nothing', async () => {
      const server = test.app.listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const { port } = server.address() as AddressInfo;
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            {
              port,
              host: '127.0.0.1',
              method: 'POST',
              path: `/people/${recordId}/attachments`,
              headers: { 'Content-Type': 'text/plain', 'Content-Disposition': 'attachment; filename="big.txt"' },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          const piece = Buffer.alloc(256 * 1024, 'a');
          let sent = 0;
          const pump = () => {
            while (sent <= MAX + piece.length) {
              sent += piece.length;
              if (!req.write(piece)) return void req.once('drain', pump);
            }
            req.end();
          };
          pump();
        });
        expect(status).to.equal(413);
        await until(async () => (await files.leftovers()) === 0, 'the partial file to be removed');
      } finally {
        server.close();
      }
    });

    it('deletes a record’s files with it, and an upload that outlives its record', async () => {
      await upload(Buffer.from('%PDF-1.7 a')).expect(201);
      await request(test.app).delete(`/people/${recordId}?force=true`).expect(204);
      expect(await files.leftovers()).to.equal(0);
      recordId = (await request(test.app).post('/people').send({ name: 'Ben', country: 'NO' }).expect(201)).body.id;
      const server = test.app.listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const { port } = server.address() as AddressInfo;
        const req = httpRequest({
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: `/people/${recordId}/attachments`,
          headers: {
            'Content-Type': 'application/pdf',
            'Content-Disposition': 'attachment; filename="late.pdf"',
            'Content-Length': '150000',
          },
        });
        const answered = new Promise<IncomingMessage>((resolve, reject) => {
          req.on('response', resolve);
          req.on('error', reject);
        });
        req.write(randomBytes(100_000));
        // GridFS shows the chunks written so far; the memory store keeps nothing before the end, so wait a while.
        if (backend === 'mongodb') await until(async () => (await files.leftovers()) > 0, 'the upload to start');
        else await new Promise((resolve) => setTimeout(resolve, 300));
        await request(test.app).delete(`/people/${recordId}?force=true`).expect(204);
        req.end(randomBytes(50_000));
        const response = await answered;
        response.resume();
        expect(response.statusCode).to.equal(404);
        await until(async () => (await files.leftovers()) === 0, 'the orphaned file to be removed');
      } finally {
        server.close();
      }
    });

    it('keeps the files of a trashed record for its restore, and purges them with it', async () => {
      const soft = await buildApp(backend, { softDelete: true, attachments: { store: files.store } });
      try {
        const id = (await request(soft.app).post('/people').send({ name: 'Cy', country: 'NO' }).expect(201)).body.id;
        await request(soft.app)
          .post(`/people/${id}/attachments`)
          .set('Content-Type', 'text/plain')
          .set('Content-Disposition', 'attachment; filename="a.txt"')
          .send('hello')
          .expect(201);
        await request(soft.app).delete(`/people/${id}`).expect(204);
        await request(soft.app).get(`/people/${id}/attachments`).expect(404);
        await request(soft.app).post(`/people/trash/${id}/restore`).expect(200);
        expect((await request(soft.app).get(`/people/${id}/attachments`).expect(200)).body.items).to.have.length(1);
        await request(soft.app).delete(`/people/${id}`).expect(204);
        await request(soft.app).delete(`/people/trash/${id}`).expect(204);
        expect(await files.leftovers()).to.equal(0);
      } finally {
        await soft.cleanup();
      }
    });

    it('leaves no partial file when the client destroys the socket mid-body', async () => {
      const server = test.app.listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const { port } = server.address() as AddressInfo;
        const req = httpRequest({
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: `/people/${recordId}/attachments`,
          headers: {
            'Content-Type': 'application/pdf',
            'Content-Disposition': 'attachment; filename="cut.pdf"',
            'Content-Length': String(2 * 1024 * 1024),
          },
        });
        req.on('error', () => undefined);
        req.write(randomBytes(1024 * 1024));
        if (backend === 'mongodb') {
          // The server is storing chunks of it: the clean-up below has something to remove.
          await until(async () => (await files.leftovers()) > 0, 'chunks of the upload to be stored');
        } else await new Promise((resolve) => setTimeout(resolve, 200));
        req.destroy();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await until(async () => (await files.leftovers()) === 0, 'the partial file to be removed');
        const listed = await request(test.app).get(`/people/${recordId}/attachments`).expect(200);
        expect(listed.body.items).to.deep.equal([]);
      } finally {
        server.close();
      }
    });

    it('lets the record’s permissions decide who may touch its files', async () => {
      const added = await upload(Buffer.from('%PDF-1.7 hello')).expect(201);
      const path = `/people/${recordId}/attachments/${String(added.body.fileId)}`;
      // Outside the caller's record filters: the record, and so its files, do not exist for them.
      test.as(permissions({ filters: [{ country: 'SE' }] }));
      for (const call of [
        request(test.app).get(`/people/${recordId}/attachments`),
        request(test.app).get(path),
        request(test.app).delete(path),
        upload(Buffer.from('x')),
      ]) {
        const response = await call.expect(404);
        expect(response.body.code).to.equal('not_found.record');
      }
      // Readers may list and download, not add, rename or delete.
      test.as(undefined);
      denied.add('people:update');
      await request(test.app).get(`/people/${recordId}/attachments`).expect(200);
      await request(test.app).get(path).expect(200);
      await upload(Buffer.from('x')).expect(403);
      await request(test.app).patch(path).send({ filename: 'x.pdf' }).expect(403);
      await request(test.app).delete(path).expect(403);
      denied.add('people:read');
      await request(test.app).get(path).expect(403);
      // The endpoint grants apply to the attachment paths like to any other.
      denied.clear();
      test.as(permissions({ allEndpoints: false, endpoints: [{ method: 'GET', path: '^/people/[^/]+$' }] }));
      expect((await request(test.app).get(path).expect(403)).body.code).to.equal('forbidden.endpoint');
      test.as(undefined);
      expect(await files.store.list(recordId)).to.have.length(1);
    });
  });

  describe(`crudRouter attachments of an encrypted resource (${backend})`, function () {
    this.timeout(30_000);
    const encryption = createFieldEncryption({ keys: `1:${randomBytes(32).toString('base64')}`, fields: ['secret'] });

    it('refuses an attachment store that would keep the files in clear', () => {
      const store = new EncryptedRecordStore({
        store: new MemoryRecordStore({ schema, extraPaths: encryption.derivedFields }),
        encryption,
      });
      expect(() =>
        crudRouter({ resource: 'people', store, attachments: { store: new MemoryAttachmentStore() } }),
      ).to.throw(ConfigError, /EncryptedAttachmentStore/);
    });

    it('keeps files encrypted at rest and returns them byte for byte', async () => {
      const files = await filesOn(backend);
      const inner = files.store;
      const store = new EncryptedAttachmentStore({ store: inner, keys: encryption.ring });
      const test = await buildApp(backend, { encryption, attachments: { store, maxBytes: MAX } });
      try {
        const id = (await request(test.app).post('/people').send({ name: 'Ann', secret: 's' }).expect(201)).body.id;
        const text = Buffer.from('Diagnosis: confidential. '.repeat(40_000));
        const added = await request(test.app)
          .post(`/people/${id}/attachments`)
          .set('Content-Type', 'text/plain')
          .set('Content-Disposition', 'attachment; filename="notes.txt"')
          .send(text)
          .expect(201);
        expect(added.body.size).to.equal(text.length);
        const raw =
          backend === 'memory'
            ? Buffer.concat(
                await (async () => {
                  const parts: Buffer[] = [];
                  for await (const chunk of (await inner.open(id, String(added.body.fileId)))!)
                    parts.push(Buffer.from(chunk));
                  return parts;
                })(),
              )
            : await files.raw!();
        expect(raw.length).to.be.greaterThan(text.length);
        expect(raw.includes(Buffer.from('confidential'))).to.equal(false);
        const downloaded = await request(test.app)
          .get(`/people/${id}/attachments/${String(added.body.fileId)}`)
          .buffer(true)
          .parse(binary)
          .expect(200);
        expect((downloaded.body as Buffer).equals(text)).to.equal(true);
      } finally {
        await test.cleanup();
        await files.cleanup();
      }
    });
  });
}

describe('crudRouter attachments in OpenAPI', function () {
  it('describes the five routes in a valid document', async function () {
    const router = crudRouter({
      resource: 'people',
      store: new MemoryRecordStore({ schema }),
      attachments: { store: new MemoryAttachmentStore() },
    });
    const document = openApiDocument({ info: { title: 'Test', version: '1' }, mounts: { '/people': router } });
    expect(await openApiErrors(document)).to.deep.equal([]);
    expect(document.paths['/people/{id}/attachments']).to.have.keys('parameters', 'get', 'post');
    expect(document.paths['/people/{id}/attachments/{fileId}']).to.have.keys('parameters', 'get', 'patch', 'delete');
  });
});
