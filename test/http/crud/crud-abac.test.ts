// crudRouter with a guard: list, count, unique, search and get return exactly the records guard.decide
// allows, inside the store query ("analysts read accounts whose country is one of their own countries").
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../../middleware/error-handler.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { Guard, policy, rules } from '../../../src/abac/index.js';
import type { Principal } from '../../../src/auth/principal.js';
import { contextOf } from '../../../middleware/context.js';
import { subjectOf } from '../../../middleware/authorize.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { ConfigError } from '../../../src/errors.js';
import { backends, buildApp, schema, type TestApp } from './app.js';

const analyst = (countries: unknown[]): Principal => ({
  id: 'ana',
  kind: 'user',
  groups: [],
  attributes: { role: 'analyst', countries },
});
const admin: Principal = { id: 'root', kind: 'user', groups: [], attributes: { role: 'admin' } };

const policies = [
  policy({
    uid: 'admins-do-anything',
    effect: 'allow',
    subjects: [{ role: rules.Eq('admin') }],
    actions: [rules.Any()],
    resources: [rules.Any()],
  }),
  policy({
    uid: 'analysts-read-accounts-of-their-countries',
    effect: 'allow',
    subjects: [{ role: rules.Eq('analyst') }],
    actions: [rules.In('people:list', 'people:read')],
    resources: [{ country: rules.InSubject('countries') }],
  }),
  policy({
    uid: 'closed-accounts-are-admin-only',
    effect: 'deny',
    subjects: [{ role: rules.NotEq('admin') }],
    actions: [rules.Any()],
    resources: [{ status: rules.Eq('closed') }],
  }),
];

const COUNTRIES = ['DE', 'FR', 'US', 'IT'];
const STATUSES = ['new', 'active', 'closed'];

for (const backend of backends) {
  describe(`crudRouter with a guard: record-level ABAC in the query (${backend})`, function () {
    this.timeout(30_000);
    let test: TestApp;
    let caller: Principal = admin;
    const guard = new Guard({ policies });
    const ids: string[] = [];

    before(async () => {
      test = await buildApp(backend, { guard }, (app) =>
        app.use((req, _res, next) => {
          contextOf(req).principal = caller;
          next();
        }),
      );
      caller = admin;
      for (let i = 0; i < 30; i++) {
        const body: Record<string, unknown> = { name: `p${i}`, status: STATUSES[i % 3] };
        // Some records have no country at all.
        if (i % 7 !== 6) body.country = COUNTRIES[i % 4];
        const response = await request(test.app).post('/people').send(body).expect(201);
        ids.push(response.body.id as string);
      }
    });
    after(() => test?.cleanup());

    /** The ids guard.decide allows `action` on, record by record, as the store holds them. */
    async function decidedIds(principal: Principal, action: string): Promise<string[]> {
      const all = await test.router.store.find({
        where: { kind: 'and', nodes: [] },
        sort: [{ field: 'id', direction: 1 }],
        limit: 1000,
      });
      const allowed: string[] = [];
      for (const record of all) {
        const decision = await guard.decide({
          subject: subjectOf(principal),
          action,
          resource: record,
          context: { ip: '127.0.0.1', time: Date.now() },
        });
        if (decision.allowed) allowed.push(record.id);
      }
      return allowed.sort();
    }

    it('lists, pages with cursors and counts exactly the records decide() allows', async () => {
      caller = analyst(['DE', 'FR']);
      const expected = await decidedIds(caller, 'people:list');
      expect(expected.length).to.be.within(5, 20);
      const seen: string[] = [];
      let url = '/people?limit=4&count=true';
      for (;;) {
        const response = await request(test.app).get(url).expect(200);
        expect(response.body.count).to.equal(expected.length);
        for (const item of response.body.items as { id: string; country?: string; status: string }[]) {
          expect(['DE', 'FR']).to.include(item.country);
          expect(item.status).to.not.equal('closed');
          seen.push(item.id);
        }
        if (!response.body.nextCursor) break;
        url = `/people?limit=4&count=true&cursor=${encodeURIComponent(response.body.nextCursor as string)}`;
      }
      expect(seen.sort()).to.deep.equal(expected);
    });

    it('ANDs with the caller’s own filters: count and items agree', async () => {
      caller = analyst(['DE', 'FR']);
      const response = await request(test.app).get('/people?country=FR&count=true&limit=100').expect(200);
      expect(response.body.count).to.equal(response.body.items.length);
      expect(response.body.items.every((item: { country: string }) => item.country === 'FR')).to.equal(true);
      const none = await request(test.app).get('/people?country=US&count=true').expect(200);
      expect(none.body).to.include({ count: 0 });
      expect(none.body.items).to.deep.equal([]);
    });

    it('unique values and search see only the allowed records', async () => {
      caller = analyst(['DE', 'FR']);
      const unique = await request(test.app).get('/people/unique/country').expect(200);
      expect([...(unique.body.values as string[])].sort()).to.deep.equal(['DE', 'FR']);
      const statuses = await request(test.app).get('/people/unique/status').expect(200);
      expect(statuses.body.values).to.not.include('closed');
      const search = await request(test.app).post('/people/search/country').send(['DE', 'US']).expect(200);
      expect(search.body.items.length).to.be.greaterThan(0);
      expect(search.body.items.every((item: { country: string }) => item.country === 'DE')).to.equal(true);
    });

    it('get by id answers 404 for a record the guard does not allow', async () => {
      caller = analyst(['DE', 'FR']);
      const allowed = await decidedIds(caller, 'people:read');
      for (const id of ids) {
        const response = await request(test.app).get(`/people/${id}`);
        expect(response.status, id).to.equal(allowed.includes(id) ? 200 : 404);
      }
    });

    it('another analyst’s countries give another set; none gives an empty list, not an error', async () => {
      caller = analyst(['US']);
      const us = await request(test.app).get('/people?count=true&limit=100').expect(200);
      expect(us.body.items.map((item: { id: string }) => item.id).sort()).to.deep.equal(
        await decidedIds(caller, 'people:list'),
      );
      caller = analyst([]);
      const empty = await request(test.app).get('/people?count=true').expect(200);
      expect(empty.body).to.deep.include({ items: [], count: 0 });
    });

    it('writes stay inside the records the guard allows (analysts may not update or create)', async () => {
      caller = analyst(['DE', 'FR']);
      const de = (await request(test.app).get('/people?country=DE&limit=1').expect(200)).body.items[0] as {
        id: string;
      };
      await request(test.app).patch(`/people/${de.id}`).send({ status: 'active' }).expect(404);
      const created = await request(test.app).post('/people').send({ name: 'x', country: 'DE' }).expect(403);
      expect(created.body.code).to.equal('forbidden.record_scope');
    });
  });
}

describe('crudRouter with a guard: refusals', () => {
  it('refuses a list whose policies have a rule with no filter form, with problem+json', async () => {
    const guard = new Guard({
      policies: [
        policy({
          uid: 'regex-on-a-field',
          effect: 'allow',
          subjects: [rules.Any()],
          actions: [rules.Any()],
          resources: [{ country: rules.RegexMatch('D') }],
        }),
      ],
    });
    const test = await buildApp('memory', { guard }, (app) =>
      app.use((req, _res, next) => {
        contextOf(req).principal = admin;
        next();
      }),
    );
    const response = await request(test.app).get('/people').expect(403);
    expect(response.headers['content-type']).to.match(/application\/problem\+json/);
    expect(response.body.code).to.equal('forbidden.unfilterable_policy');
    expect(response.body.detail).to.include('RegexMatch');
    expect(response.body.detail).to.not.include('regex-on-a-field');
    await test.cleanup();
  });

  it('refuses a condition on an encrypted field (ciphertext cannot be compared with policy values)', async () => {
    const guard = new Guard({
      policies: [
        policy({
          uid: 'by-national-id',
          effect: 'allow',
          subjects: [rules.Any()],
          actions: [rules.Any()],
          resources: [{ secret: rules.Eq('123456') }],
        }),
      ],
    });
    const encryption = createFieldEncryption({
      keys: `1:${randomBytes(32).toString('base64')}`,
      blindIndexKey: randomBytes(32),
      fields: [{ path: 'secret', searchable: true }],
    });
    const test = await buildApp('memory', { guard, encryption }, (app) =>
      app.use((req, _res, next) => {
        contextOf(req).principal = admin;
        next();
      }),
    );
    const response = await request(test.app).get('/people?count=true').expect(403);
    expect(response.body).to.include({ code: 'forbidden.unfilterable_policy' });
    expect(response.body.detail).to.include('encrypted field');
    await test.cleanup();
  });

  it('refuses a condition on an ObjectId field (MongoDB holds ObjectIds, decide() sees hex strings)', async () => {
    const guard = new Guard({
      policies: [
        policy({
          uid: 'owners',
          effect: 'allow',
          subjects: [rules.Any()],
          actions: [rules.Any()],
          resources: [{ owner: rules.SubjectMatch('id') }],
        }),
      ],
    });
    const app = express();
    app.use((req, _res, next) => {
      contextOf(req).principal = admin;
      next();
    });
    app.use(
      '/things',
      crudRouter({
        resource: 'things',
        store: new MemoryRecordStore({ schema: { name: 'string', owner: 'objectId' } }),
        guard,
      }),
    );
    app.use(errorHandler());
    const response = await request(app).get('/things').expect(403);
    expect(response.body).to.include({ code: 'forbidden.unfilterable_policy' });
  });

  it('answers 401 without a principal', async () => {
    const test = await buildApp('memory', { guard: new Guard({ policies }) });
    await request(test.app).get('/people').expect(401);
    await test.cleanup();
  });

  it('refuses a guard over a policy store at creation', () => {
    const policyStore = { findForInquiry: async () => [] } as never;
    const store = new MemoryRecordStore({ schema });
    expect(() => crudRouter({ resource: 'people', store, guard: new Guard({ policies: policyStore }) })).to.throw(
      ConfigError,
      /crudRouter.guard/,
    );
    expect(() => crudRouter({ resource: 'people', store, guard: {} as never })).to.throw(
      ConfigError,
      /crudRouter.guard/,
    );
  });
});
