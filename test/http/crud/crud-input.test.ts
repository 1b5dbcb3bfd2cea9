// crudRouter bad input on both backends: every refusal is a 400 problem naming the problem, never a 500.
import { expect } from 'chai';
import request from 'supertest';
import { ConfigError } from '../../../src/errors.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { backends, buildApp, schema, type TestApp } from './app.js';

const badQueries: [string, string][] = [
  ['/people?a[$ne]=1', 'a[$ne]'],
  ['/people?name[$regex]=.*', 'name[$regex]'],
  ['/people?$where=1', '$where'],
  ['/people?__proto__[x]=1', '__proto__[x]'],
  ['/people?constructor.prototype.x=1', 'constructor.prototype.x'],
  ['/people?age__gt=old', 'age__gt'],
  ['/people?age__near=3', 'age__near'],
  ['/people?nope=3', 'nope'],
  ['/people?name__in=notjson', 'name__in'],
  ['/people?age__between=[1]', 'age__between'],
  ['/people?limit=100000', 'limit'],
  ['/people?limit=1&limit=2', 'limit'],
  ['/people?sort=-nope', 'sort'],
  ['/people?cursor=forged.cursor', 'cursor'],
  ['/people?name=%ZZ', 'name'],
  [
    `/people?name__in=${encodeURIComponent(JSON.stringify(Array.from({ length: 150 }, (_, i) => String(i))))}`,
    'name__in',
  ],
];

for (const backend of backends) {
  describe(`crudRouter bad input (${backend})`, function () {
    let t: TestApp;
    beforeEach(async function () {
      t = await buildApp(backend, {
        validators: {
          email: (value) => typeof value === 'string' && value.includes('@'),
          age: (value, item) => ({
            result: typeof value === 'number' && (item.status !== 'closed' || value >= 18),
            message: 'Closed accounts need an adult age.',
          }),
          country: async (value) => {
            if (value === 'XX') throw new Error('validator crashed');
            return {
              result: typeof value === 'string' && value.length === 2,
              message: 'Use a two-letter country code.',
            };
          },
        },
      });
    });
    afterEach(async function () {
      await t.cleanup();
    });

    for (const [url, field] of badQueries) {
      it(`400 for ${url.slice(0, 70)} naming ${field}`, async function () {
        const res = await request(t.app).get(url).expect(400);
        expect(res.headers['content-type']).to.match(/application\/problem\+json/);
        expect(res.body.errors.map((e: { field: string }) => e.field)).to.include(field);
      });
    }

    it('reports every validation failure at once: schema rules and field validators', async function () {
      const res = await request(t.app)
        .post('/people')
        .send({ age: 'old', status: 'weird', email: 'nope', unknown: 1 })
        .expect(400);
      const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).to.deep.equal(['age', 'country', 'email', 'name', 'status', 'unknown']);
      expect(res.body.errors.find((e: { field: string }) => e.field === 'age').message).to.equal(
        'Closed accounts need an adult age.',
      );
    });

    it('answers schema rules in its own words, never echoing the value, on creates and updates', async function () {
      const name = '\u{1F600}'.repeat(21); // 42 UTF-16 code units: over maxLength 40 on both backends
      const expected = { field: 'name', code: 'validation.length', message: '"name" must have at most 40 characters.' };
      const created = await request(t.app).post('/people').send({ name, country: 'DE' }).expect(400);
      const nameProblems = (body: { errors: { field: string }[] }) => body.errors.filter((e) => e.field === 'name');
      expect(nameProblems(created.body)).to.deep.equal([expected]);
      expect(JSON.stringify(created.body)).to.not.include('\u{1F600}');
      const valid = { name: 'Ada', email: 'ada@example.com', age: 40, status: 'active', country: 'DE' };
      const id = (await request(t.app).post('/people').send(valid).expect(201)).body.id;
      const patched = await request(t.app).patch(`/people/${id}`).send({ name }).expect(400);
      expect(nameProblems(patched.body)).to.deep.equal([expected]);
      expect(JSON.stringify(patched.body)).to.not.include('\u{1F600}');
    });

    it('runs validators on the record as it will be stored when updating', async function () {
      const created = await request(t.app)
        .post('/people')
        .send({ name: 'A', email: 'a@x', age: 20, country: 'NO', status: 'closed' })
        .expect(201);
      await request(t.app).patch(`/people/${created.body.id}`).send({ name: 'B' }).expect(200);
      // The age rule spans two fields: a PATCH touching only status is checked against the stored age.
      const minor = await request(t.app)
        .post('/people')
        .send({ name: 'M', email: 'm@x', age: 16, country: 'NO', status: 'active' })
        .expect(201);
      const closing = await request(t.app).patch(`/people/${minor.body.id}`).send({ status: 'closed' }).expect(400);
      expect(closing.body.errors).to.deep.equal([
        { field: 'age', code: 'validation.field', message: 'Closed accounts need an adult age.' },
      ]);
      const bad = await request(t.app)
        .patch(`/people/${created.body.id}`)
        .send({ country: 'Norway', email: 'x' })
        .expect(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).to.deep.equal(['country', 'email']);
      const crashed = await request(t.app).patch(`/people/${created.body.id}`).send({ country: 'XX' }).expect(400);
      // A validator that throws is a failed validation (its default message), never a 500.
      expect(crashed.body.errors[0]).to.include({ field: 'country', message: '"country" is not valid.' });
    });

    it('refuses unsafe body keys, server fields and non-object bodies', async function () {
      const base = { name: 'A', email: 'a@x', age: 20, country: 'NO' };
      const cases: [unknown, string][] = [
        [{ ...base, $set: { admin: true } }, '$set'],
        [{ ...base, address: { $gt: '' } }, 'address.$gt'],
        [JSON.parse(`{"name":"A","email":"a@x","age":20,"country":"NO","__proto__":{"polluted":true}}`), '__proto__'],
        [{ ...base, constructor: { prototype: {} } }, 'constructor'],
        [{ ...base, 'address.city': 'x' }, 'address.city'],
        [{ ...base, id: 'mine' }, 'id'],
        [{ ...base, _version: 9 }, '_version'],
        [{ ...base, createdAt: '2020-01-01' }, 'createdAt'],
      ];
      for (const [body, field] of cases) {
        const res = await request(t.app)
          .post('/people')
          .send(body as object)
          .expect(400);
        expect(
          res.body.errors.map((e: { field: string }) => e.field),
          JSON.stringify(body),
        ).to.include(field);
      }
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      await request(t.app).post('/people').send([base]).expect(400);
      await request(t.app).post('/people').set('Content-Type', 'application/json').send('{"name":').expect(400);
      await request(t.app)
        .post('/people')
        .set('Content-Type', 'application/json')
        .send(`{"name":"${'x'.repeat(200_000)}"}`)
        .expect(413);
    });

    it('refuses bad search bodies and keys', async function () {
      await request(t.app).post('/people/search/name').send({ not: 'a list' }).expect(400);
      await request(t.app).post('/people/search/name').send([]).expect(400);
      await request(t.app)
        .post('/people/search/name')
        .send([{ $gt: '' }])
        .expect(400);
      await request(t.app).post('/people/search/age').send(['x']).expect(400);
      await request(t.app).post('/people/search/$where').send(['x']).expect(400);
      const many = await request(t.app)
        .post('/people/search/name')
        .send(Array.from({ length: 10_001 }, (_, i) => `n${i}`))
        .expect(400);
      expect(many.body.errors[0].field).to.equal('body');
    });

    it('answers unknown ids with 404 and junk If-Match with 412', async function () {
      await request(t.app).get('/people/does-not-exist').expect(404);
      await request(t.app).get('/people/64b7f0c2a1b2c3d4e5f60718').expect(404);
      await request(t.app).patch('/people/missing').send({ name: 'x' }).expect(404);
      const created = await request(t.app)
        .post('/people')
        .send({ name: 'A', email: 'a@x', age: 20, country: 'NO' })
        .expect(201);
      await request(t.app)
        .patch(`/people/${created.body.id}`)
        .set('If-Match', 'garbage')
        .send({ name: 'x' })
        .expect(412);
    });
  });
}

describe('crudRouter with the qs (extended) query parser', function () {
  it('still refuses bracket objects, naming the key', async function () {
    const t = await buildApp('memory', {}, (app) => app.set('query parser', 'extended'));
    const res = await request(t.app).get('/people?name[$ne]=x').expect(400);
    expect(res.body.errors[0].field).to.equal('name[$ne]');
    await request(t.app).get('/people?name=x').expect(200);
  });
});

describe('crudRouter options', function () {
  it('are validated at creation, naming the option', function () {
    const store = new MemoryRecordStore({ schema });
    expect(() => crudRouter({ resource: 'people', store, maxLimt: 5 } as never)).to.throw(
      ConfigError,
      /maxLimt.*did you mean maxLimit/,
    );
    expect(() => crudRouter({ resource: 'people' } as never)).to.throw(ConfigError, /crudRouter\.store.*RecordStore/);
    expect(() => crudRouter({ resource: 'bad name', store })).to.throw(ConfigError, /resource/);
    expect(() => crudRouter({ resource: 'people', store, maxLimit: 0 })).to.throw(ConfigError, /maxLimit/);
    expect(() => crudRouter({ resource: 'people', store, defaultLimit: 50, maxLimit: 10 })).to.throw(
      ConfigError,
      /defaultLimit/,
    );
    expect(() => crudRouter({ resource: 'people', store, validators: { name: 'yes' as never } })).to.throw(
      ConfigError,
      /validators\.name/,
    );
    expect(() => crudRouter({ resource: 'people', store, staticPathFilters: ['nope'] })).to.throw(ConfigError, /nope/);
    expect(() => new MemoryRecordStore({ schema: { name: 'strng' as never } })).to.throw(
      ConfigError,
      /did you mean string/,
    );
    expect(() => crudRouter({ resource: 'people', store, masker: {} as never })).to.throw(ConfigError, /masker/);
  });
});
