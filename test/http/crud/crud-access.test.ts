// crudRouter permissions on both backends: endpoints, record filters (404 outside), exclude fields (no
// oracle), update lists, authorize per action, masking and audit hooks.
import { expect } from 'chai';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { ForbiddenError } from '../../../src/errors.js';
import type { AuditEventDraft } from '../../../src/audit/event-ref.js';
import type { Masker } from '../../../src/pii/masker.js';
import { contextOf } from '../../../middleware/context.js';
import { isHidden } from '../../../middleware/crud/access.js';
import { backends, buildApp, permissions, type TestApp } from './app.js';

for (const backend of backends) {
  describe(`crudRouter permissions (${backend})`, function () {
    let t: TestApp;
    let ids: Record<string, string>;
    beforeEach(async function () {
      t = await buildApp(backend, { allowReplace: true });
      ids = {};
      for (const [name, country, status] of [
        ['A', 'NO', 'active'],
        ['B', 'SE', 'active'],
        ['C', 'NO', 'closed'],
      ]) {
        const res = await request(t.app)
          .post('/people')
          .send({ name, country, status, secret: `s-${name}`, age: 30 })
          .expect(201);
        ids[name!] = res.body.id;
      }
    });
    afterEach(async function () {
      await t.cleanup();
    });

    it('permits only listed endpoints (method + anchored regex)', async function () {
      t.as(permissions({ allEndpoints: false, endpoints: [{ method: 'GET', path: '^/people$' }] }));
      await request(t.app).get('/people').expect(200);
      const denied = await request(t.app).get(`/people/${ids.A}`).expect(403);
      expect(denied.body.code).to.equal('forbidden.endpoint');
      await request(t.app).post('/people').send({ name: 'X' }).expect(403);
    });

    it('merges record filters into list, get, update and delete; outside records are 404', async function () {
      t.as(permissions({ filters: [{ country: 'NO' }] }));
      const list = await request(t.app).get('/people?sort=name').expect(200);
      expect(list.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['A', 'C']);
      expect((await request(t.app).get('/people?country=SE').expect(200)).body.items).to.have.length(0);
      await request(t.app).get(`/people/${ids.B}`).expect(404);
      await request(t.app).patch(`/people/${ids.B}`).send({ age: 1 }).expect(404);
      await request(t.app).delete(`/people/${ids.B}`).expect(404);
      await request(t.app).get(`/people/${ids.A}`).expect(200);
      // Creating or moving a record outside the caller's scope is refused.
      await request(t.app).post('/people').send({ name: 'D', country: 'SE' }).expect(403);
      await request(t.app).patch(`/people/${ids.A}`).send({ country: 'SE' }).expect(403);
      expect((await request(t.app).post('/people/search/name').send(['A', 'B']).expect(200)).body.items).to.have.length(
        1,
      );
      expect((await request(t.app).get('/people/unique/country').expect(200)).body.values).to.deep.equal(['NO']);
      // Several filters are OR'd.
      t.as(permissions({ filters: [{ country: 'SE' }, { status: 'closed' }] }));
      const either = await request(t.app).get('/people?sort=name').expect(200);
      expect(either.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['B', 'C']);
    });

    it('removes excluded fields from output and refuses them like unknown fields everywhere', async function () {
      t.as(permissions({ excludeFields: ['secret'] }));
      const read = await request(t.app).get(`/people/${ids.A}`).expect(200);
      expect(read.body).to.not.have.property('secret');
      const list = await request(t.app).get('/people').expect(200);
      expect(list.body.items.every((i: Record<string, unknown>) => !('secret' in i))).to.equal(true);
      const hidden = await request(t.app).get('/people?secret=s-A').expect(400);
      const unknown = await request(t.app).get('/people?secrte=s-A').expect(400);
      expect(hidden.body.detail).to.equal('Cannot filter on unknown field "secret".');
      expect(hidden.body.code).to.equal(unknown.body.code);
      expect(unknown.body.detail).to.not.include('did you mean secret');
      await request(t.app).get('/people?sort=secret').expect(400);
      await request(t.app).get('/people?fields=secret').expect(400);
      await request(t.app).get('/people/unique/secret').expect(400);
      await request(t.app).post('/people/search/secret').send(['s-A']).expect(400);
      const created = await request(t.app).post('/people').send({ name: 'D', secret: 'x' }).expect(400);
      expect(created.body.errors).to.deep.include({
        field: 'secret',
        code: 'validation.unknown_field',
        message: '"secret" is not a field of this resource.',
      });
      await request(t.app).patch(`/people/${ids.A}`).send({ secret: 'x' }).expect(400);
      // A replacement keeps the hidden field it cannot see.
      await request(t.app).put(`/people/${ids.A}`).send({ name: 'A2', country: 'NO' }).expect(200);
      t.as(undefined);
      expect((await request(t.app).get(`/people/${ids.A}`).expect(200)).body.secret).to.equal('s-A');
    });

    it('removes an excluded nested field and keeps the rest of its object, in lists and projections', async function () {
      t.as(undefined);
      const created = await request(t.app)
        .post('/people')
        .send({ name: 'N', country: 'NO', address: { city: 'Oslo' } })
        .expect(201);
      t.as(permissions({ excludeFields: ['address.city'] }));
      const read = await request(t.app).get(`/people/${created.body.id}`).expect(200);
      expect(read.body).to.include({ name: 'N', country: 'NO' });
      expect(read.body.address ?? {}).to.not.have.property('city');
      const listed = await request(t.app).get('/people?name=N&fields=name,country').expect(200);
      expect(listed.body.items).to.deep.equal([{ id: created.body.id, name: 'N', country: 'NO' }]);
      t.as(undefined);
      expect((await request(t.app).get(`/people/${created.body.id}`).expect(200)).body.address).to.deep.equal({
        city: 'Oslo',
      });
    });

    it('enforces update-fields-permitted and -restricted', async function () {
      t.as(permissions({ updateFieldsPermitted: ['age', 'status'], updateFieldsRestricted: ['status'] }));
      await request(t.app).patch(`/people/${ids.A}`).send({ age: 31 }).expect(200);
      const restricted = await request(t.app).patch(`/people/${ids.A}`).send({ status: 'closed' }).expect(403);
      expect(restricted.body.errors[0].field).to.equal('status');
      const outside = await request(t.app).patch(`/people/${ids.A}`).send({ name: 'Z', age: 2 }).expect(403);
      expect(outside.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['name']);
      await request(t.app)
        .put(`/people/${ids.A}`)
        .send({ name: 'Z', country: 'NO', status: 'active', secret: 's-A', age: 31 })
        .expect(403);
    });

    it('calls the authorize guard per action and stops on denial', async function () {
      const seen: string[] = [];
      const t2 = await buildApp(backend, {
        authorize: (action) => (req: Request, _res: Response, next: NextFunction) => {
          seen.push(action);
          next(action === 'people:purge' ? new ForbiddenError('no purge') : undefined);
        },
      });
      try {
        const created = await request(t2.app).post('/people').send({ name: 'A' }).expect(201);
        await request(t2.app).get('/people').expect(200);
        await request(t2.app).get(`/people/${created.body.id}`).expect(200);
        await request(t2.app).patch(`/people/${created.body.id}`).send({ age: 3 }).expect(200);
        await request(t2.app).delete(`/people/${created.body.id}?force=true`).expect(403);
        await request(t2.app).delete(`/people/${created.body.id}`).expect(204);
        await request(t2.app).post(`/people/trash/${created.body.id}/restore`).expect(200);
        expect(seen).to.deep.equal([
          'people:create',
          'people:list',
          'people:read',
          'people:update',
          'people:delete',
          'people:purge',
          'people:delete',
          'people:restore',
        ]);
      } finally {
        await t2.cleanup();
      }
    });

    it('masks output and fills the audit draft', async function () {
      const masker: Masker = {
        mask<T>(value: T): T {
          const copy = { ...(value as Record<string, unknown>) };
          if (typeof copy.secret === 'string') copy.secret = '***';
          return copy as T;
        },
      };
      const drafts: AuditEventDraft[] = [];
      const t2 = await buildApp(backend, { masker }, (app) => {
        app.use((req, _res, next) => {
          const draft: AuditEventDraft = { extra: {} };
          contextOf(req).audit = draft;
          drafts.push(draft);
          next();
        });
      });
      try {
        const created = await request(t2.app).post('/people').send({ name: 'A', secret: 'x', age: 1 }).expect(201);
        expect(created.body.secret).to.equal('***');
        expect((await request(t2.app).get('/people').expect(200)).body.items[0].secret).to.equal('***');
        // A masker that cannot say which fields it masks is taken to mask them all: none can be listed.
        const unique = await request(t2.app).get('/people/unique/secret').expect(400);
        expect(unique.body.code).to.equal('filter.unknown_field');
        await request(t2.app).patch(`/people/${created.body.id}`).send({ age: 2 }).expect(200);
        await request(t2.app).delete(`/people/${created.body.id}`).expect(204);
        expect(drafts.map((d) => d.action)).to.deep.equal(['CREATE', 'LIST', undefined, 'UPDATE', 'DELETE']);
        expect(drafts[0]).to.include({ resource: 'people', resourceId: created.body.id });
        expect(drafts[3]!.before).to.deep.equal({ age: 1 });
        expect(drafts[3]!.after).to.deep.equal({ age: 2 });
        expect(drafts[4]!.before).to.include({ name: 'A' });
      } finally {
        await t2.cleanup();
      }
    });
  });
}

describe('isHidden', function () {
  it('hides a field and everything below it, never a field that merely starts with its name', function () {
    const hidden = new Set(['salary', 'address.zip']);
    expect(isHidden(hidden, 'salary')).to.equal(true);
    expect(isHidden(hidden, 'salary.bonus')).to.equal(true);
    expect(isHidden(hidden, 'address.zip')).to.equal(true);
    expect(isHidden(hidden, 'address.zip.plus4')).to.equal(true);
    expect(isHidden(hidden, 'salaryBand')).to.equal(false);
    expect(isHidden(hidden, 'salary_')).to.equal(false);
    expect(isHidden(hidden, 'address')).to.equal(false);
    expect(isHidden(hidden, 'address.zipper')).to.equal(false);
    expect(isHidden(new Set(), 'salary')).to.equal(false);
  });
});
