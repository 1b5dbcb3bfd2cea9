// Audit events of the attachment routes: the documented action for allowed and refused requests alike, and
// never the file name (a PATCH body or the upload's Content-Disposition), which is often personal data.
import { expect } from 'chai';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { createAuditPipeline, type AuditPipeline } from '../../../src/audit/pipeline.js';
import { ForbiddenError } from '../../../src/errors.js';
import { createMasker } from '../../../src/pii/engine.js';
import { MemoryAttachmentStore } from '../../../stores/memory/attachments.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { requestContext } from '../../../middleware/request-context.js';
import { buildApp, type TestApp } from './app.js';

const NAME = 'Hans-Mueller-passport-C01X00T47.pdf';

describe('crudRouter attachment audit events', function () {
  let test: TestApp;
  let audit: MemoryAuditStore;
  let pipeline: AuditPipeline;
  const denied = new Set<string>();
  beforeEach(async () => {
    audit = new MemoryAuditStore();
    pipeline = await createAuditPipeline({ store: audit, masker: createMasker({ keys: [] }) });
    denied.clear();
    test = await buildApp(
      'memory',
      {
        attachments: { store: new MemoryAttachmentStore(), types: ['application/pdf'] },
        authorize: (action) => (_req: Request, _res: Response, next: NextFunction) =>
          next(denied.has(action) ? new ForbiddenError(`No ${action}.`) : undefined),
      },
      (app) => app.use(requestContext(), express.json(), auditTrail({ pipeline })),
    );
  });
  afterEach(async () => {
    await pipeline.close();
    await test.cleanup();
  });

  it('names every event by its attachment action, refused or not, and never carries the file name', async () => {
    const id = (await request(test.app).post('/people').send({ name: 'Hans', country: 'DE' }).expect(201)).body.id;
    const base = `/people/${id}/attachments`;
    const upload = () =>
      request(test.app)
        .post(base)
        .set('Content-Type', 'application/pdf')
        .set('Content-Disposition', `attachment; filename="${NAME}"`)
        .send(Buffer.from('%PDF-1.7'));
    const fileId = String((await upload().expect(201)).body.fileId);
    const path = `${base}/${fileId}`;
    await request(test.app).get(base).expect(200);
    await request(test.app).get(path).expect(200);
    await request(test.app).patch(path).send({ filename: NAME }).expect(200);
    await request(test.app).patch(path).send({ filename: NAME, other: 1 }).expect(400);
    denied.add('people:update');
    await upload().expect(403);
    await request(test.app).patch(path).send({ filename: NAME }).expect(403);
    await request(test.app).delete(path).expect(403);
    denied.add('people:read');
    await request(test.app).get(base).expect(403);
    await request(test.app).get(path).expect(403);
    denied.clear();
    await request(test.app).delete(path).expect(204);
    await pipeline.flush();
    const events = (await audit.list({ limit: 100, order: 'asc' })).events.filter((event) =>
      event.path?.includes('/attachments'),
    );
    expect(events.map((event) => [event.action, event.status])).to.deep.equal([
      ['ATTACHMENT_ADD', 201],
      ['ATTACHMENT_LIST', 200],
      ['ATTACHMENT_GET', 200],
      ['ATTACHMENT_UPDATE', 200],
      ['ATTACHMENT_UPDATE', 400],
      ['ATTACHMENT_ADD', 403],
      ['ATTACHMENT_UPDATE', 403],
      ['ATTACHMENT_DELETE', 403],
      ['ATTACHMENT_LIST', 403],
      ['ATTACHMENT_GET', 403],
      ['ATTACHMENT_DELETE', 204],
    ]);
    for (const event of events) {
      expect(event.resource).to.equal('people');
      expect(event.resourceId).to.equal(id);
      expect(event.body).to.equal(undefined);
    }
    expect(JSON.stringify(events)).to.not.include('Hans-Mueller');
    const added = await audit.list({ limit: 100, order: 'asc', where: { action: 'ATTACHMENT_ADD' } });
    expect(added.events.map((event) => event.status)).to.deep.equal([201, 403]);
  });
});
