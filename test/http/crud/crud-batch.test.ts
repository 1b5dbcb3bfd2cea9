// POST /<resource>/batch: every problem at once, all or nothing, permissions and audit per record.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { requestContext } from '../../../middleware/request-context.js';
import { Guard, policy, rules } from '../../../src/abac/index.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import type { Principal } from '../../../src/auth/principal.js';
import { createHistory } from '../../../src/audit/history.js';
import { ConfigError } from '../../../src/errors.js';
import { matchAll } from '../../../src/filter/index.js';
import { createMasker } from '../../../src/pii/engine.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { backends, buildApp, permissions, schema, type TestApp } from './app.js';

async function stored(test: TestApp): Promise<number> {
  return test.router.store.count(matchAll);
}

for (const backend of backends) {
  describe(`crudRouter POST /batch (${backend})`, function () {
    this.timeout(30_000);
    let test: TestApp;
    beforeEach(async () => {
      test = await buildApp(backend, { maxBatchRecords: 5 });
    });
    afterEach(() => test.cleanup());

    it('creates every record and answers them in order', async () => {
      const response = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ name: 'Ann', age: 30 }, { name: 'Ben' }, { name: 'Cid', tags: ['x'] }] })
        .expect(201);
      const records = response.body.records as Record<string, unknown>[];
      expect(records.map((record) => record.name)).to.deep.equal(['Ann', 'Ben', 'Cid']);
      expect(new Set(records.map((record) => record.id)).size).to.equal(3);
      for (const record of records) {
        expect(record).to.include.keys('createdAt', 'updatedAt');
        const read = await request(test.app)
          .get(`/people/${String(record.id)}`)
          .expect(200);
        expect(read.body.name).to.equal(record.name);
      }
    });

    it('writes nothing when one record is bad, and names every problem with its index and field', async () => {
      const response = await request(test.app)
        .post('/people/batch')
        .send({
          records: [
            { name: 'Good' },
            { age: 20 },
            { name: 'Also good' },
            { name: 'Bad', age: -4, status: 'weird', nope: 1 },
            'not a record',
          ],
        })
        .expect(400)
        .expect('Content-Type', /application\/problem\+json/);
      expect(response.body.code).to.equal('validation.fields');
      const named = (response.body.errors as { index: number; field: string }[])
        .map(({ index, field }) => `${index}:${field}`)
        .sort();
      expect(named).to.deep.equal(['1:name', '3:age', '3:nope', '3:status', '4:(record)']);
      expect(await stored(test)).to.equal(0);
    });

    it('refuses bodies that are not a list of records, and batches over the limit', async () => {
      for (const body of [[{ name: 'a' }], { records: {} }, { records: [] }, { records: [{ name: 'a' }], x: 1 }]) {
        const response = await request(test.app).post('/people/batch').send(body).expect(400);
        expect(response.body.errors, JSON.stringify(body)).to.be.an('array').that.is.not.empty;
      }
      const tooMany = Array.from({ length: 6 }, (_, i) => ({ name: `n${i}` }));
      const response = await request(test.app).post('/people/batch').send({ records: tooMany }).expect(400);
      expect(response.body.code).to.equal('validation.batch_size');
      expect(await stored(test)).to.equal(0);
    });

    it('applies the caller’s permissions to each record: hidden fields, record filters, endpoints', async () => {
      test.as(permissions({ excludeFields: ['secret'], filters: [{ country: 'NO' }] }));
      const hidden = await request(test.app)
        .post('/people/batch')
        .send({
          records: [
            { name: 'a', country: 'NO' },
            { name: 'b', country: 'NO', secret: 's' },
          ],
        })
        .expect(400);
      expect(hidden.body.errors).to.deep.equal([
        {
          index: 1,
          field: 'secret',
          code: 'validation.unknown_field',
          message: 'Record 1: "secret" is not a field of this resource.',
        },
      ]);
      const outside = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ name: 'a', country: 'NO' }, { name: 'b', country: 'SE' }, { name: 'c' }] })
        .expect(403);
      expect(outside.body.code).to.equal('forbidden.record_scope');
      expect(outside.body.errors.map((problem: { index: number }) => problem.index)).to.deep.equal([1, 2]);
      expect(await stored(test)).to.equal(0);
      await request(test.app)
        .post('/people/batch')
        .send({ records: [{ name: 'a', country: 'NO' }] })
        .expect(201);

      // The batch is an endpoint of its own: a grant of POST /people does not open it.
      test.as(permissions({ allEndpoints: false, endpoints: [{ method: 'POST', path: '^/people$' }] }));
      await request(test.app).post('/people').send({ name: 'single' }).expect(201);
      const endpoint = await request(test.app)
        .post('/people/batch')
        .send({ records: [{ name: 'x' }] })
        .expect(403);
      expect(endpoint.body.code).to.equal('forbidden.endpoint');
      expect(await stored(test)).to.equal(2);
    });
  });

  describe(`crudRouter POST /batch with a record-level ABAC guard (${backend})`, function () {
    this.timeout(30_000);
    const clerk: Principal = {
      id: 'clerk',
      kind: 'user',
      groups: [],
      attributes: { role: 'clerk', countries: ['DE'] },
    };
    const guard = new Guard({
      policies: [
        policy({
          uid: 'clerks-create-people-of-their-countries',
          effect: 'allow',
          subjects: [{ role: rules.Eq('clerk') }],
          actions: [rules.Eq('people:create')],
          resources: [{ country: rules.InSubject('countries') }],
        }),
      ],
    });
    let test: TestApp;
    before(async () => {
      test = await buildApp(backend, { guard }, (app) =>
        app.use((req, _res, next) => {
          contextOf(req).principal = clerk;
          next();
        }),
      );
    });
    after(() => test.cleanup());

    it('decides per record and stores nothing when one is not allowed', async () => {
      const response = await request(test.app)
        .post('/people/batch')
        .send({
          records: [
            { name: 'a', country: 'DE' },
            { name: 'b', country: 'US' },
          ],
        })
        .expect(403);
      expect(response.body.errors.map((problem: { index: number }) => problem.index)).to.deep.equal([1]);
      expect(await stored(test)).to.equal(0);
      await request(test.app)
        .post('/people/batch')
        .send({
          records: [
            { name: 'a', country: 'DE' },
            { name: 'b', country: 'DE' },
          ],
        })
        .expect(201);
      expect(await stored(test)).to.equal(2);
    });
  });
}

describe('crudRouter POST /batch audit events', function () {
  it('records one masked CREATE event per record, so each record’s history starts with its batch', async () => {
    const audit = new MemoryAuditStore();
    const pipeline = await createAuditPipeline({ store: audit, masker: createMasker({ keys: ['email'] }) });
    const app = express();
    app.use(requestContext(), express.json(), auditTrail({ pipeline }));
    app.use(
      '/people',
      crudRouter({
        resource: 'people',
        store: new MemoryRecordStore({ schema }),
        history: createHistory(audit),
        timestamps: false,
      }),
    );
    app.use(errorHandler());
    const response = await request(app)
      .post('/people/batch')
      .send({ records: [{ name: 'Ann', email: 'ann@example.com' }, { name: 'Ben' }] })
      .expect(201);
    await request(app)
      .post('/people/batch')
      .send({ records: [{ name: 'Cid' }, {}] })
      .expect(400);
    await pipeline.flush();
    const ids = (response.body.records as { id: string }[]).map((record) => record.id);
    const events = (await audit.list({ limit: 100, order: 'asc' })).events;
    expect(events.map((event) => [event.action, event.resourceId ?? null, event.outcome, event.status])).to.deep.equal([
      ['CREATE', ids[0], 'allowed', 201],
      ['CREATE', ids[1], 'allowed', 201],
      ['CREATE', null, 'failed', 400],
    ]);
    expect(events[0]!.requestId).to.equal(events[1]!.requestId);
    expect(events[1]!.changes).to.deep.equal({ after: { name: 'Ben' } });
    expect(events[1]!.body).to.deep.equal({ name: 'Ben' });
    expect(events[0]!.data).to.deep.include({ batch: { index: 0, size: 2 } });
    expect(JSON.stringify(events)).to.not.include('ann@example.com');
    const history = await request(app).get(`/people/${ids[0]}/history`).expect(200);
    expect(history.body.items.map((entry: { action: string }) => entry.action)).to.deep.equal(['CREATE']);
    await pipeline.close();
  });

  it('refuses a maxBatchRecords that is not a positive integer', () => {
    const store = new MemoryRecordStore({ schema });
    for (const maxBatchRecords of [0, 1.5, '10'])
      expect(() => crudRouter({ resource: 'people', store, maxBatchRecords } as never)).to.throw(
        ConfigError,
        /maxBatchRecords/,
      );
  });
});
