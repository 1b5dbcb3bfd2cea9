// crudRouter over a ResidentRecordStore, on memory and on MongoDB (a database per country): every route names
// its country, touches only that country's store, refuses cross-country queries unless fanned out, moves
// records write-then-delete with an audit event, and masks audit events in the request.
import { expect } from 'chai';
import express, { type Express } from 'express';
import request from 'supertest';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter, type CrudRouter, type CrudRouterOptions } from '../../../middleware/crud-router.js';
import { openApiDocument } from '../../../middleware/openapi/document.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { requestContext } from '../../../middleware/request-context.js';
import { createAuditPipeline, type AuditPipeline } from '../../../src/audit/pipeline.js';
import type { EffectivePermissions } from '../../../src/auth/principal.js';
import { matchAll } from '../../../src/filter/index.js';
import { createMasker } from '../../../src/pii/engine.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { MemoryAttachmentStore } from '../../../stores/memory/attachments.js';
import { ResidentRecordStore } from '../../../stores/resident-records.js';
import {
  closeMonitoredMongo,
  countriesCalled,
  countryStores,
  residencyBackends,
  type CountryStores,
} from '../../support/residency.js';
import { permissions, schema } from './app.js';

interface ResidentApp {
  app: Express;
  router: CrudRouter;
  countries: CountryStores;
  audit: MemoryAuditStore;
  pipeline: AuditPipeline;
  as(permissions: EffectivePermissions | undefined): void;
}

async function residentApp(backend: 'memory' | 'mongodb', options: Partial<CrudRouterOptions> = {}) {
  const countries = await countryStores(backend, schema);
  const audit = new MemoryAuditStore();
  // The pipeline masks each event as the request ends, before it is buffered, stored, queued or logged.
  const pipeline = await createAuditPipeline({
    store: audit,
    masker: createMasker({ keys: ['email'] }),
    flushInterval: 0,
  });
  let current: EffectivePermissions | undefined;
  const app = express();
  app.use(requestContext());
  app.use(auditTrail({ pipeline }));
  app.use((req, _res, next) => {
    if (current) contextOf(req).permissions = current;
    next();
  });
  const router = crudRouter({
    resource: 'people',
    store: new ResidentRecordStore({ stores: countries.stores }),
    masker: createMasker({ keys: ['email'] }),
    cursorSecret: 'residency-http-tests'.repeat(2),
    ...options,
  });
  app.use('/people', router);
  app.use(errorHandler());
  return {
    app,
    router,
    countries,
    audit,
    pipeline,
    as(value: EffectivePermissions | undefined) {
      current = value;
    },
  } satisfies ResidentApp;
}

function expectProblem(res: request.Response, status: number, code: string, field = 'country'): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  expect(res.body.code).to.equal(code);
  expect(res.body.errors?.map((problem: { field: string }) => problem.field)).to.include(field);
}

for (const backend of residencyBackends) {
  describe(`crudRouter over a ResidentRecordStore (${backend})`, function () {
    let t: ResidentApp;
    let deId: string;

    beforeEach(async function () {
      t = await residentApp(backend);
      const created = await request(t.app)
        .post('/people')
        .send({ name: 'Anna', country: 'de', email: 'anna@example.de' })
        .expect(201);
      deId = String(created.body.id);
      await request(t.app).post('/people?country=us').send({ name: 'Bob', email: 'bob@example.com' }).expect(201);
    });
    afterEach(async function () {
      await t.pipeline.close();
      await t.countries.cleanup();
    });
    after(async function () {
      await closeMonitoredMongo();
    });

    it('stores each record in its country (from the body, or the declared ?country=)', async function () {
      expect((await t.countries.raw.de.get(deId))?.email).to.equal('anna@example.de');
      expect(await t.countries.raw.us.get(deId)).to.equal(undefined);
      expect(await t.countries.raw['*'].get(deId)).to.equal(undefined);
      const listed = await request(t.app).get('/people?country=us').expect(200);
      expect(
        listed.body.items.map((item: { name: string; country: string }) => [item.name, item.country]),
      ).to.deep.equal([['Bob', 'us']]);
    });

    it('answers a list, a path filter, a count and unique values for us from the us store alone', async function () {
      t.countries.reset();
      await request(t.app).get('/people?country=us&count=true').expect(200);
      await request(t.app).get('/people/country/us').expect(200);
      await request(t.app).get('/people/unique/name?country=us').expect(200);
      await request(t.app).post('/people/search/name?country=us').send(['Anna', 'Bob']).expect(200);
      expect(countriesCalled(t.countries.calls)).to.deep.equal(new Set(['us']));
      if (backend === 'mongodb') expect(t.countries.serverSaw()).to.deep.equal(new Set(['us']));
    });

    it('never lets ?country=us reach a de record by its id, on any route', async function () {
      t.countries.reset();
      const misses = [
        await request(t.app).get(`/people/${deId}?country=us`),
        await request(t.app).patch(`/people/${deId}?country=us`).send({ name: 'Mallory' }),
        await request(t.app).delete(`/people/${deId}?country=us&force=true`),
        await request(t.app).post(`/people/${deId}/move?country=us`).send({ country: 'fr' }),
      ];
      expect(misses.map((res) => res.status)).to.deep.equal([404, 404, 404, 404]);
      expect(countriesCalled(t.countries.calls)).to.not.include('de');
      expect((await t.countries.raw.de.get(deId))?.name).to.equal('Anna');
      const own = await request(t.app).get(`/people/${deId}?country=de`).expect(200);
      expect(own.body.name).to.equal('Anna');
    });

    it('refuses a missing, unknown or ambiguous country with a 400 naming the parameter', async function () {
      t.countries.reset();
      expectProblem(await request(t.app).get('/people'), 400, 'residency.country_required');
      expectProblem(await request(t.app).get('/people?country__in=["de","us"]'), 400, 'residency.country_required');
      expectProblem(await request(t.app).get(`/people/${deId}`), 400, 'residency.country_required');
      expectProblem(await request(t.app).get('/people?country=xx'), 400, 'residency.unknown_country');
      expectProblem(await request(t.app).get(`/people/${deId}?country=DE`), 400, 'residency.unknown_country');
      expectProblem(
        await request(t.app).get(`/people/${deId}?country=de&country=us`),
        400,
        'residency.country_ambiguous',
      );
      expectProblem(await request(t.app).post('/people').send({ name: 'Eve' }), 400, 'residency.country_required');
      expectProblem(
        await request(t.app).post('/people?country=de').send({ name: 'Eve', country: 'us' }),
        400,
        'residency.country_mismatch',
      );
      expectProblem(
        await request(t.app).patch(`/people/${deId}?country=de`).send({ country: 'us' }),
        400,
        'residency.country_changed',
      );
      expect(t.countries.calls.filter((call) => /insert|replace|remove/.test(call))).to.deep.equal([]);
    });

    it('moves a record write-then-delete, audited with country codes only', async function () {
      t.countries.reset();
      const moved = await request(t.app).post(`/people/${deId}/move?country=de`).send({ country: 'us' }).expect(200);
      expect(moved.body).to.include({ id: deId, country: 'us', name: 'Anna' });
      expect(moved.headers.location).to.equal(`/people/${deId}?country=us`);
      const writes = t.countries.calls.filter((call) => /\.(insert|remove)$/.test(call));
      expect(writes).to.deep.equal(['us.insert', 'de.remove']);
      expect(await t.countries.raw.de.get(deId)).to.equal(undefined);
      expect((await t.countries.raw.us.get(deId))?.email).to.equal('anna@example.de');
      await request(t.app).get(`/people/${deId}?country=us`).expect(200);
      await request(t.app).get(`/people/${deId}?country=de`).expect(404);
      await t.pipeline.flush();
      const events = (await t.audit.list({ limit: 100, order: 'asc' })).events;
      const move = events.find((event) => event.action === 'MOVE');
      expect(move).to.include({ resource: 'people', resourceId: deId });
      expect(move!.changes).to.deep.equal({ before: { country: 'de' }, after: { country: 'us' } });
    });

    it('moves a record between two countries that share the * store, seen by the new country only', async function () {
      const fr = await request(t.app).post('/people?country=fr').send({ name: 'Chloé' }).expect(201);
      const id = String(fr.body.id);
      const moved = await request(t.app).post(`/people/${id}/move?country=fr`).send({ country: 'it' }).expect(200);
      expect(moved.body).to.include({ id, country: 'it', name: 'Chloé' });
      expect((await t.countries.raw['*'].get(id))?.country).to.equal('it');
      await request(t.app).get(`/people/${id}?country=it`).expect(200);
      await request(t.app).get(`/people/${id}?country=fr`).expect(404);
      const stale = await request(t.app).post(`/people/${id}/move?country=fr`).send({ country: 'es' });
      expect(stale.status).to.equal(404);
    });

    it('refuses to remove the country field by a merge-patch null, keeping the record where it is', async function () {
      expectProblem(
        await request(t.app).patch(`/people/${deId}?country=de`).send({ country: null }),
        400,
        'residency.country_changed',
      );
      expect((await t.countries.raw.de.get(deId))?.country).to.equal('de');
      const same = await request(t.app).patch(`/people/${deId}?country=de`).send({ country: 'de', name: 'Anne' });
      expect(same.status).to.equal(200);
    });

    it('serves attachments of a record in its declared country, and none through another', async function () {
      const files = new MemoryAttachmentStore();
      const withFiles = await residentApp(backend, { attachments: { store: files, types: ['text/*'] } });
      try {
        const created = await request(withFiles.app).post('/people?country=de').send({ name: 'Dora' }).expect(201);
        const id = String(created.body.id);
        expectProblem(await request(withFiles.app).get(`/people/${id}/attachments`), 400, 'residency.country_required');
        const added = await request(withFiles.app)
          .post(`/people/${id}/attachments?country=de`)
          .set('Content-Type', 'text/plain')
          .set('Content-Disposition', 'attachment; filename="a.txt"')
          .send(Buffer.from('hello'));
        expect(added.status, JSON.stringify(added.body)).to.equal(201);
        const listed = await request(withFiles.app).get(`/people/${id}/attachments?country=de`).expect(200);
        const fileId = String(added.body.fileId);
        expect(listed.body.items.map((item: { fileId: string }) => item.fileId)).to.deep.equal([fileId]);
        const file = await request(withFiles.app).get(`/people/${id}/attachments/${fileId}?country=de`).expect(200);
        expect(file.text ?? file.body.toString()).to.equal('hello');
        await request(withFiles.app).get(`/people/${id}/attachments?country=us`).expect(404);
      } finally {
        await withFiles.pipeline.close();
        await withFiles.countries.cleanup();
      }
    });

    it('refuses a move the caller may not make: out of its records, or of the country field', async function () {
      t.as(permissions({ filters: [{ country: 'de' }] }));
      const out = await request(t.app).post(`/people/${deId}/move?country=de`).send({ country: 'us' });
      expect(out.status).to.equal(403);
      t.as(permissions({ updateFieldsRestricted: ['country'] }));
      const field = await request(t.app).post(`/people/${deId}/move?country=de`).send({ country: 'us' });
      expect(field.status).to.equal(403);
      t.as(undefined);
      expect((await t.countries.raw.de.get(deId))?.country).to.equal('de');
      expect(await t.countries.raw.us.get(deId)).to.equal(undefined);
    });

    it('writes a batch record by record to each country, and nothing when one names no known country', async function () {
      t.countries.reset();
      const bad = await request(t.app)
        .post('/people/batch')
        .send({ records: [{ name: 'Carl', country: 'de' }, { name: 'Dora', country: 'xx' }, { name: 'Emil' }] });
      expect(bad.status).to.equal(400);
      expect(
        bad.body.errors.map((problem: { index: number; field: string }) => [problem.index, problem.field]),
      ).to.deep.equal([
        [1, 'country'],
        [2, 'country'],
      ]);
      expect(t.countries.calls.filter((call) => /insert/.test(call))).to.deep.equal([]);
      const good = await request(t.app)
        .post('/people/batch?country=us')
        .send({ records: [{ name: 'Carl', country: 'us' }, { name: 'Dora' }, { name: 'Emil', country: 'us' }] })
        .expect(201);
      const ids: string[] = good.body.records.map((record: { id: string }) => record.id);
      for (const id of ids) expect((await t.countries.raw.us.get(id))?.country).to.equal('us');
      const mixed = await request(t.app)
        .post('/people/batch')
        .send({
          records: [
            { name: 'Finn', country: 'de' },
            { name: 'Gina', country: 'fr' },
          ],
        })
        .expect(201);
      const [finn, gina] = mixed.body.records as { id: string }[];
      expect((await t.countries.raw.de.get(finn!.id))?.name).to.equal('Finn');
      expect((await t.countries.raw['*'].get(gina!.id))?.name).to.equal('Gina');
      expect(await t.countries.raw.de.get(gina!.id)).to.equal(undefined);
    });

    it('stores no record of a batch when a later country fails', async function () {
      t.countries.failNext('us', 'insertMany');
      const res = await request(t.app)
        .post('/people/batch')
        .send({
          records: [
            { name: 'Hana', country: 'de' },
            { name: 'Ivo', country: 'us' },
          ],
        });
      expect(res.status).to.equal(503);
      const names = async (country: 'de' | 'us') =>
        (
          await t.countries.raw[country].find({ where: matchAll, sort: [{ field: 'id', direction: 1 }], limit: 10 })
        ).map((record) => record.name);
      expect(await names('de')).to.deep.equal(['Anna']);
      expect(await names('us')).to.deep.equal(['Bob']);
    });

    it('documents the country every route needs, and each residency problem a route answers', async function () {
      const full = await residentApp(backend, {
        softDelete: true,
        allowReplace: true,
        history: async () => [],
        attachments: { store: new MemoryAttachmentStore(), types: ['text/*'] },
      });
      try {
        const document = openApiDocument({ info: { title: 't', version: '1' }, mounts: { '/people': full.router } });
        const country = (parameters: unknown[] | undefined) =>
          (parameters as { name: string; in: string; required?: boolean }[] | undefined)?.find(
            (parameter) => parameter.name === 'country' && parameter.in === 'query',
          );
        const onePerRecord = Object.keys(document.paths).filter((path) => path.includes('{id}'));
        expect(onePerRecord).to.include.members([
          '/people/{id}',
          '/people/{id}/move',
          '/people/{id}/history',
          '/people/trash/{id}',
          '/people/trash/{id}/restore',
          '/people/{id}/attachments',
          '/people/{id}/attachments/{fileId}',
        ]);
        for (const path of onePerRecord) {
          expect(country(document.paths[path]!.parameters), path).to.deep.include({ required: true });
        }
        expect(country(document.paths['/people']!.post!.parameters), 'POST /people').to.deep.include({
          required: false,
        });
        // Asked without their country, the routes answer a residency problem their description lists.
        const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;
        let answered = 0;
        for (const path of onePerRecord) {
          for (const method of methods) {
            const operation = document.paths[path]![method];
            if (!operation) continue;
            const url = path.replace('/people', '').replace('{id}', deId).replace('{fileId}', 'f1');
            const res = await request(full.app)[method](`/people${url}`).send({ name: 'X' });
            if (res.status !== 400 || !String(res.body.code).startsWith('residency.')) continue;
            answered++;
            const listed = (operation.responses['400'] as { 'x-problem-codes'?: string[] } | undefined)?.[
              'x-problem-codes'
            ];
            expect(listed, `${method.toUpperCase()} ${path}`).to.include(res.body.code);
          }
        }
        expect(answered).to.be.greaterThan(8);
        const create = await request(full.app).post('/people?country=us').send({ name: 'Y', country: 'de' });
        expect(create.status).to.equal(400);
        const createCodes = (document.paths['/people']!.post!.responses['400'] as { 'x-problem-codes': string[] })[
          'x-problem-codes'
        ];
        expect(createCodes).to.include(create.body.code);
        // A batch names its records' countries as a create does.
        const batch = document.paths['/people/batch']!.post!;
        expect(country(batch.parameters), 'POST /people/batch').to.deep.include({ required: false });
        const batchCodes = (batch.responses['400'] as { 'x-problem-codes': string[] })['x-problem-codes'];
        for (const [url, records] of [
          ['/people/batch', [{ name: 'Z' }]],
          ['/people/batch?country=zz', [{ name: 'Z' }]],
          ['/people/batch?country=us', [{ name: 'Z', country: 'de' }]],
        ] as const) {
          const res = await request(full.app).post(url).send({ records });
          expect(res.status, url).to.equal(400);
          const codes = [res.body.code, ...(res.body.errors ?? []).map((problem: { code?: string }) => problem.code)];
          const residency = codes.filter((code) => String(code).startsWith('residency.'));
          expect(residency, url).to.not.deep.equal([]);
          for (const code of residency) expect(batchCodes, `${url} ${code}`).to.include(code);
        }
      } finally {
        await full.pipeline.close();
        await full.countries.cleanup();
      }
    });

    it('masks PII in audit events: body, query and changes', async function () {
      // Refused (a masked field is no filter), and audited with its query all the same.
      await request(t.app).get('/people?country=de&email=anna@example.de').expect(400);
      await request(t.app).patch(`/people/${deId}?country=de`).send({ email: 'anna@example.org' }).expect(200);
      await t.pipeline.flush();
      const text = JSON.stringify((await t.audit.list({ limit: 100 })).events);
      expect(text).to.contain('CREATE');
      expect(text).not.to.contain('anna@example.de');
      expect(text).not.to.contain('bob@example.com');
      expect(text).not.to.contain('anna@example.org');
    });
  });

  describe(`crudRouter over a ResidentRecordStore with fanOut (${backend})`, function () {
    let t: ResidentApp;
    afterEach(async function () {
      await t.pipeline.close();
      await t.countries.cleanup();
    });

    it('lists across countries page by page, each record once in order', async function () {
      t = await residentApp(backend, { fanOut: true });
      const names: string[] = [];
      for (const [index, country] of ['de', 'us', 'fr', 'de', 'it', 'us', 'de', 'jp'].entries()) {
        const name = `p${index}`;
        names.push(name);
        await request(t.app)
          .post('/people')
          .send({ name, country, balance: (index * 7) % 5 })
          .expect(201);
      }
      const walked: { name: string; balance: number }[] = [];
      let url: string | null = '/people?sort=-balance,name&limit=3';
      while (url) {
        const res: request.Response = await request(t.app).get(url).expect(200);
        walked.push(...res.body.items);
        url = res.body.nextCursor ? `/people?sort=-balance,name&limit=3&cursor=${res.body.nextCursor}` : null;
      }
      const expected = names
        .map((name, index) => ({ name, balance: (index * 7) % 5 }))
        .sort((a, b) => b.balance - a.balance || a.name.localeCompare(b.name));
      expect(walked.map((item) => item.name)).to.deep.equal(expected.map((item) => item.name));
      const counted = await request(t.app).get('/people?count=true&country__in=["de","jp"]').expect(200);
      expect(counted.body.count).to.equal(4);
    });
  });
}
