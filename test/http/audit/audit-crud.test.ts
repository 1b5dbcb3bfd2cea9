// auditTrail() with the real crudRouter and PII masking engine: one event per action, history through the trash.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { auditRouter } from '../../../middleware/audit-router.js';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { requestContext } from '../../../middleware/request-context.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import { createMasker } from '../../../src/pii/engine.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';

describe('auditTrail() with crudRouter and the masking engine', function () {
  it('records each CRUD action once, masks PII everywhere and rebuilds the history', async function () {
    const store = new MemoryAuditStore();
    const masker = createMasker({ keys: ['email', 'ssn'] });
    const pipeline = await createAuditPipeline({ store, masker, flushInterval: 0 });
    const app = express();
    app.use(requestContext());
    app.use(auditTrail({ pipeline }));
    app.use(
      '/people',
      crudRouter({
        resource: 'people',
        store: new MemoryRecordStore({ schema: { name: 'string', email: 'string', ssn: 'string', age: 'number' } }),
        history: pipeline.history,
        timestamps: false,
      }),
    );
    app.use('/audit', auditRouter({ store, masker }));
    app.use(errorHandler());

    const created = await request(app)
      .post('/people')
      .send({ name: 'Ann', email: 'ann@example.com', ssn: '123-45-6789', age: 30 })
      .expect(201);
    const id = String(created.body.id);
    await request(app).get(`/people/${id}`).expect(200);
    await request(app).get('/people?age__gte=18').expect(200);
    await request(app).patch(`/people/${id}`).send({ age: 31 }).expect(200);
    await request(app)
      .delete(`/people/${id}`)
      .expect((res) => expect(res.status).to.be.oneOf([200, 204]));
    await pipeline.flush();

    const events = (await store.list({ limit: 100, order: 'asc' })).events;
    expect(events.map((event) => [event.action, event.resource, event.resourceId ?? null])).to.deep.equal([
      ['CREATE', 'people', id],
      ['GET', 'people', id],
      ['LIST', 'people', null],
      ['UPDATE', 'people', id],
      ['DELETE', 'people', id],
    ]);
    const text = JSON.stringify(events);
    expect(text).not.to.contain('ann@example.com');
    expect(text).not.to.contain('123-45-6789');
    expect(events[3]!.changes).to.deep.equal({ before: { age: 30 }, after: { age: 31 } });

    const history = await request(app).get(`/audit/history/people/${id}`).expect(200);
    const states = history.body.items.map((entry: { action: string; state: Record<string, unknown> | null }) => [
      entry.action,
      entry.state && entry.state.age,
    ]);
    expect(states).to.deep.equal([
      ['DELETE', null],
      ['UPDATE', 31],
      ['CREATE', 30],
    ]);
    expect(JSON.stringify(history.body)).not.to.contain('ann@example.com');
    await pipeline.close();
  });
});
