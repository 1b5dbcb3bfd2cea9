// auditTrail() when the connection is gone before the event is built: a refused upload that closes the
// connection (413 with Connection: close, the client still sending) is recorded like any other request.
import { expect } from 'chai';
import express from 'express';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';

const LIMIT = 64 * 1024;

describe('auditTrail() on a request whose connection closes first', function () {
  this.timeout(20_000);

  it('records a refused chunked upload with its status and client address', async function () {
    const store = new MemoryAuditStore();
    const pipeline = await createAuditPipeline({ store, flushInterval: 0 });
    const app = express();
    app.use(auditTrail({ pipeline }));
    app.post('/uploads', (req, res) => {
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > LIMIT && !res.headersSent) {
          res.setHeader('Connection', 'close');
          res.status(413).end();
          req.destroy();
        }
      });
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { port, host: '127.0.0.1', method: 'POST', path: '/uploads', headers: { 'x-request-id': 'big-1' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', () => resolve(-1));
        const piece = Buffer.alloc(16 * 1024, 'a');
        let sent = 0;
        const pump = (): void => {
          while (sent <= LIMIT * 8) {
            sent += piece.length;
            if (!req.write(piece)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
        void reject;
      });
      expect([413, -1]).to.include(status);
      const deadline = Date.now() + 5_000;
      let events = (await store.list({ limit: 10, order: 'asc' })).events;
      while (events.length === 0 && Date.now() < deadline) {
        await pipeline.flush();
        await new Promise((resolve) => setTimeout(resolve, 20));
        events = (await store.list({ limit: 10, order: 'asc' })).events;
      }
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ method: 'POST', path: '/uploads', requestId: 'big-1' });
      expect(events[0]!.user?.sourceIp).to.equal('127.0.0.1');
    } finally {
      server.close();
      await pipeline.close();
    }
  });
});
