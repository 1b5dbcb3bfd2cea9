// auditTrail({ durability: 'acknowledged' }): a change is answered only once its event is durable.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createAuditPipeline, type AuditPipeline } from '../../../src/audit/pipeline.js';
import type { AuditEvent } from '../../../src/audit/event.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { auditTrail, type AuditDurability } from '../../../middleware/audit-trail.js';
import { requestContext } from '../../../middleware/request-context.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { ConfigError } from '../../../src/errors.js';

/** A memory audit store whose writes wait for the test (or fail) when told to. */
class HeldStore extends MemoryAuditStore {
  hold: Promise<void> | undefined;
  failing = false;
  override async write(events: readonly AuditEvent[]): Promise<void> {
    await this.hold;
    if (this.failing) throw new Error('store down');
    return super.write(events);
  }
}

function appWith(pipeline: AuditPipeline, durability: AuditDurability) {
  const app = express();
  app.use(requestContext(), express.json(), auditTrail({ pipeline, durability }));
  app.post(
    '/things',
    (req, res) =>
      void res
        .status(201)
        .set('ETag', '"v1"')
        .json({ id: 't1', ...req.body }),
  );
  app.get('/things', (_req, res) => void res.json([]));
  app.use(errorHandler());
  return app;
}

describe('auditTrail() acknowledged durability', function () {
  let store: HeldStore;
  let pipeline: AuditPipeline;
  let release: () => void;

  beforeEach(async function () {
    store = new HeldStore();
    // A long flush interval: in acknowledged mode a change must not wait for it.
    pipeline = await createAuditPipeline({ store, flushInterval: 60_000, maxWait: 300, writeTimeout: 5_000 });
  });
  afterEach(async function () {
    release?.();
    store.failing = false;
    await pipeline.close();
  });

  it('answers a change only after its event is stored, and without waiting for the flush interval', async function () {
    store.hold = new Promise<void>((resolve) => (release = resolve));
    const app = appWith(pipeline, 'acknowledged');
    let answered = false;
    const pending = request(app)
      .post('/things')
      .set('x-request-id', 'req-ack-1')
      .send({ name: 'n' })
      .then((response) => {
        answered = true;
        return response;
      });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(answered, 'answered before its event was stored').to.equal(false);
    expect((await store.list({ limit: 10 })).events).to.have.length(0);
    release();
    const response = await pending;
    expect(response.status).to.equal(201);
    expect(response.body).to.deep.equal({ id: 't1', name: 'n' });
    const stored = (await store.list({ limit: 10 })).events;
    expect(stored.map((event) => [event.requestId, event.status])).to.deep.equal([['req-ack-1', 201]]);
  });

  it('does not hold reads', async function () {
    store.hold = new Promise<void>((resolve) => (release = resolve));
    const app = appWith(pipeline, 'acknowledged');
    const started = Date.now();
    await request(app).get('/things').expect(200);
    expect(Date.now() - started).to.be.below(250);
  });

  it('answers 503 problem+json when the event cannot be made durable within maxWait', async function () {
    store.failing = true;
    const app = appWith(pipeline, 'acknowledged');
    const response = await request(app).post('/things').send({ name: 'n' });
    expect(response.status).to.equal(503);
    expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(response.headers.etag).to.equal(undefined);
    expect(response.body).to.include({ status: 503, code: 'store_unavailable' });
  });

  it('in async mode answers at once and stores the event later', async function () {
    store.hold = new Promise<void>((resolve) => (release = resolve));
    const app = appWith(pipeline, 'async');
    await request(app).post('/things').send({ name: 'n' }).expect(201);
    expect((await store.list({ limit: 10 })).events).to.have.length(0);
  });

  it('refuses an unknown durability at creation, naming the option', function () {
    expect(() => auditTrail({ pipeline, durability: 'fsync' as AuditDurability }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/durability/);
  });
});
