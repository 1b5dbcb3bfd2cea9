// crudRouter over HTTP on both backends: create, read, list, update, replace, delete, trash, versions.
import { expect } from 'chai';
import request from 'supertest';
import { ForbiddenError } from '../../../src/errors.js';
import { backends, buildApp, type TestApp } from './app.js';

for (const backend of backends) {
  describe(`crudRouter basics (${backend})`, function () {
    let t: TestApp;
    beforeEach(async function () {
      t = await buildApp(backend, { allowReplace: true, idPrefix: 'ppl_' });
    });
    afterEach(async function () {
      await t.cleanup();
    });

    async function create(body: Record<string, unknown>) {
      const res = await request(t.app).post('/people').send(body).expect(201);
      return res;
    }

    it('creates with a prefixed id, Location, ETag and timestamps, then reads it back', async function () {
      const res = await create({ name: 'Ada', age: 36, tags: ['x'], address: { city: 'Oslo' } });
      expect(res.body.id).to.match(/^ppl_/);
      expect(res.headers.location).to.equal(`/people/${res.body.id}`);
      expect(res.headers.etag).to.equal('"1"');
      expect(res.body).to.include({ name: 'Ada', age: 36 });
      expect(res.body).to.not.have.property('_version');
      expect(Date.parse(res.body.createdAt)).to.be.a('number').and.not.NaN;
      const read = await request(t.app).get(`/people/${res.body.id}`).expect(200);
      expect(read.headers.etag).to.equal('"1"');
      expect(read.body).to.deep.include({ name: 'Ada', age: 36, address: { city: 'Oslo' } });
    });

    it('lists with filters, sort, cursor pages, count and projection', async function () {
      for (const [name, age] of [
        ['A', 30],
        ['B', 40],
        ['C', 50],
        ['D', 60],
        ['E', 70],
      ] as const)
        await create({ name, age });
      const first = await request(t.app)
        .get('/people?age__gte=40&sort=-age&limit=2&count=true&fields=name')
        .expect(200);
      expect(first.body.items).to.have.length(2);
      expect(first.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['E', 'D']);
      expect(Object.keys(first.body.items[0]).sort()).to.deep.equal(['id', 'name']);
      expect(first.body.count).to.equal(4);
      expect(first.body.nextCursor).to.be.a('string');
      const second = await request(t.app)
        .get(`/people?age__gte=40&sort=-age&limit=2&fields=name&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['C', 'B']);
      // The last page says so: no cursor after it.
      expect(second.body.nextCursor).to.equal(null);
      await request(t.app).get('/people?age__gte=40&sort=-age&limit=2&cursor=null').expect(400);
      const offset = await request(t.app).get('/people?sort=name&limit=2&offset=3').expect(200);
      expect(offset.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['D', 'E']);
      expect(offset.body.nextOffset).to.equal(null);
    });

    it('patches with merge semantics and bumps the ETag; If-Match guards against stale writes', async function () {
      const { body } = await create({ name: 'Ada', age: 36, email: 'a@x', address: { city: 'Oslo' } });
      const patched = await request(t.app)
        .patch(`/people/${body.id}`)
        .set('If-Match', '"1"')
        .send({ age: 37, email: null, address: { city: 'Rome' } })
        .expect(200);
      expect(patched.headers.etag).to.equal('"2"');
      expect(patched.body).to.include({ age: 37, name: 'Ada' });
      expect(patched.body).to.not.have.property('email');
      expect(patched.body.address).to.deep.equal({ city: 'Rome' });
      expect(patched.body.createdAt).to.equal(body.createdAt);
      const stale = await request(t.app)
        .patch(`/people/${body.id}`)
        .set('If-Match', '"1"')
        .send({ age: 1 })
        .expect(412);
      expect(stale.body.code).to.equal('precondition_failed');
      expect(stale.headers.etag).to.equal('"2"');
      await request(t.app).patch(`/people/${body.id}`).set('If-Match', '*').send({ age: 38 }).expect(200);
      await request(t.app).patch(`/people/${body.id}`).set('If-Match', 'W/"3"').send({ age: 39 }).expect(412);
    });

    it('replaces with PUT (fields not given are removed)', async function () {
      const { body } = await create({ name: 'Ada', age: 36, email: 'a@x' });
      const replaced = await request(t.app).put(`/people/${body.id}`).send({ name: 'Ada L.' }).expect(200);
      expect(replaced.body).to.include({ name: 'Ada L.' });
      expect(replaced.body).to.not.have.property('age');
      await request(t.app).put(`/people/${body.id}`).send({ age: 3 }).expect(400);
    });

    it('soft-deletes to the trash, lists, restores and purges', async function () {
      const { body } = await create({ name: 'Ada' });
      await request(t.app).delete(`/people/${body.id}`).expect(204);
      await request(t.app).get(`/people/${body.id}`).expect(404);
      expect((await request(t.app).get('/people').expect(200)).body.items).to.have.length(0);
      const trash = await request(t.app).get('/people/trash?name=Ada').expect(200);
      expect(trash.body.items).to.have.length(1);
      expect(trash.body.items[0].deletedAt).to.be.a('string');
      const restored = await request(t.app).post(`/people/trash/${body.id}/restore`).expect(200);
      expect(restored.body).to.not.have.property('deletedAt');
      await request(t.app).get(`/people/${body.id}`).expect(200);
      await request(t.app).post(`/people/trash/${body.id}/restore`).expect(404);
      await request(t.app).delete(`/people/${body.id}`).expect(204);
      await request(t.app).delete(`/people/trash/${body.id}`).expect(204);
      expect((await request(t.app).get('/people/trash').expect(200)).body.items).to.have.length(0);
      await request(t.app).delete(`/people/trash/${body.id}`).expect(404);
    });

    it('deletes for good with ?force=true, guarded by If-Match', async function () {
      const { body } = await create({ name: 'Ada' });
      await request(t.app).delete(`/people/${body.id}?force=true`).set('If-Match', '"7"').expect(412);
      await request(t.app).delete(`/people/${body.id}?force=true`).set('If-Match', '"1"').expect(204);
      expect((await request(t.app).get('/people/trash').expect(200)).body.items).to.have.length(0);
      await request(t.app).delete(`/people/${body.id}`).expect(404);
    });

    it('lists unique values and searches by key in chunks', async function () {
      for (const [name, country] of [
        ['A', 'NO'],
        ['B', 'SE'],
        ['C', 'NO'],
        ['D', 'DK'],
      ])
        await create({ name, country, tags: [country!.toLowerCase(), 'all'] });
      const unique = await request(t.app).get('/people/unique/country').expect(200);
      expect(unique.body.field).to.equal('country');
      expect(unique.body.values).to.have.members(['NO', 'SE', 'DK']);
      const tags = await request(t.app).get('/people/unique/tags?country__ne=DK').expect(200);
      expect(tags.body.values).to.have.members(['no', 'se', 'all']);
      const t2 = await buildApp(backend, { searchChunkSize: 2 });
      try {
        for (const name of ['A', 'B', 'C', 'D', 'E']) await request(t2.app).post('/people').send({ name }).expect(201);
        const found = await request(t2.app)
          .post('/people/search/name?sort=name')
          .send(['E', 'A', 'C', 'Z', 'A', 'D'])
          .expect(200);
        expect(found.body.items.map((i: { name: string }) => i.name).sort()).to.deep.equal(['A', 'C', 'D', 'E']);
        expect(found.body.truncated).to.equal(false);
      } finally {
        await t2.cleanup();
      }
    });

    it('filters by dynamic path parameters, which take precedence over the querystring', async function () {
      await create({ name: 'A', status: 'active', country: 'NO' });
      await create({ name: 'B', status: 'new', country: 'NO' });
      await create({ name: 'C', status: 'active', country: 'SE' });
      const res = await request(t.app).get('/people/status/active?status=new&country=NO').expect(200);
      expect(res.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['A']);
      await request(t.app).get('/people/nope/1').expect(400);
      await request(t.app).get('/people/__proto__/1').expect(400);
    });
  });
}

describe('crudRouter static path filters and history', function () {
  it('mounts /<field>/:value and /:id/history when configured', async function () {
    const calls: string[] = [];
    const t = await buildApp('memory', {
      staticPathFilters: ['country'],
      dynamicPathFilter: false,
      history: async (resource, id) => {
        calls.push(`${resource}/${id}`);
        return [{ action: 'CREATE' }];
      },
    });
    const a = await request(t.app).post('/people').send({ name: 'A', country: 'NO' }).expect(201);
    await request(t.app).post('/people').send({ name: 'B', country: 'SE' }).expect(201);
    const res = await request(t.app).get('/people/country/NO').expect(200);
    expect(res.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['A']);
    await request(t.app).get('/people/status/new').expect(404);
    const history = await request(t.app).get(`/people/${a.body.id}/history`).expect(200);
    expect(history.body.items).to.deep.equal([{ action: 'CREATE' }]);
    expect(calls).to.deep.equal([`people/${a.body.id}`]);
    await request(t.app).get('/people/missing/history').expect(404);
    const none = await buildApp('memory');
    const created = await request(none.app).post('/people').send({ name: 'A' }).expect(201);
    // Without `history`, /:id/history is a dynamic path filter on an unknown field: 400, not a history.
    await request(none.app).get(`/people/${created.body.id}/history`).expect(400);
  });

  it('authorizes /:id/history as its own action, <resource>:history, not as a read', async function () {
    const asked: string[] = [];
    const t = await buildApp('memory', {
      history: async () => [{ action: 'CREATE' }],
      authorize: (action) => (_req, _res, next) => {
        asked.push(action);
        next(action === 'people:history' ? new ForbiddenError('No history for you.') : undefined);
      },
    });
    const created = await request(t.app).post('/people').send({ name: 'A' }).expect(201);
    await request(t.app).get(`/people/${created.body.id}`).expect(200);
    await request(t.app).get(`/people/${created.body.id}/history`).expect(403);
    expect(asked).to.deep.equal(['people:create', 'people:read', 'people:history']);
  });
});
