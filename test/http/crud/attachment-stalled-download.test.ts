// A download whose client stops reading: the server closes the connection after its idle timeout and the
// route lets go of the file (its reader is closed) instead of waiting for a 'drain' that never comes.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import request from 'supertest';
import type { AttachmentStore } from '../../../src/contracts/attachments.js';
import { createHttpServer } from '../../../middleware/http-server.js';
import { MemoryAttachmentStore } from '../../../stores/memory/attachments.js';
import { buildApp, type TestApp } from './app.js';

const SIZE = 24 * 1024 * 1024;

describe('crudRouter attachments: a download the client stops reading', function () {
  this.timeout(20_000);
  let test: TestApp;
  let server: Server;
  let readersOpen = 0;
  let readersClosed = 0;

  before(async function () {
    const files = new MemoryAttachmentStore();
    // The memory store, counting the file readers the route opens and closes.
    const watched: AttachmentStore = {
      backend: files.backend,
      put: (file, content) => files.put(file, content),
      list: (recordId) => files.list(recordId),
      get: (recordId, fileId) => files.get(recordId, fileId),
      update: (recordId, fileId, changes) => files.update(recordId, fileId, changes),
      remove: (recordId, fileId) => files.remove(recordId, fileId),
      async open(recordId, fileId) {
        const content = await files.open(recordId, fileId);
        if (!content) return undefined;
        readersOpen++;
        return (async function* () {
          try {
            yield* content;
          } finally {
            readersClosed++;
          }
        })();
      },
    };
    test = await buildApp('memory', { attachments: { store: watched, maxBytes: SIZE } });
    server = createHttpServer(test.app, {
      requestTimeoutMs: 5000,
      headersTimeoutMs: 5000,
      maxConnections: 10,
      idleTimeoutMs: 1000,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await test.cleanup();
  });

  it('closes the connection within the idle timeout and closes the file reader', async function () {
    const recordId = (await request(test.app).post('/people').send({ name: 'Ann', country: 'NO' }).expect(201)).body
      .id as string;
    const fileId = (
      await request(test.app)
        .post(`/people/${recordId}/attachments`)
        .set('Content-Type', 'application/pdf')
        .set('Content-Disposition', 'attachment; filename="big.pdf"')
        .send(randomBytes(SIZE))
        .expect(201)
    ).body.fileId as string;

    const port = (server.address() as AddressInfo).port;
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    let received = 0;
    // Takes in the first bytes, then never reads again.
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
      client.pause();
    });
    await new Promise((resolve) => client.once('connect', resolve));
    client.write(`GET /people/${recordId}/attachments/${fileId} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const started = Date.now();
    while (readersClosed === 0 && Date.now() - started < 6000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    client.destroy();
    expect(received).to.be.above(0).and.below(SIZE);
    expect(readersOpen).to.equal(1);
    expect(readersClosed, 'the route still holds the file reader').to.equal(1);
    expect(Date.now() - started).to.be.below(4000);
  });
});
