// crudRouter with field encryption on both backends: ciphertext at rest, plaintext out, blind-index search.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import express from 'express';
import type { RecordStore } from '../../../src/contracts/records.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { EncryptedRecordStore } from '../../../stores/encrypted-records.js';
import { MongoRecordStore } from '../../../stores/mongodb/records.js';
import { mongooseSchemaFor } from '../../../stores/mongodb/records-schema.js';
import { sharedMongo, uniqueName } from '../../support/connections.js';
import { contextOf } from '../../../middleware/context.js';
import { permissions } from './app.js';

const fields = { name: 'string', nationalId: { type: 'string', pattern: /^\d{6,11}$/ }, country: 'string' } as const;
const encryption = createFieldEncryption({
  keys: `1:${randomBytes(32).toString('base64')}`,
  blindIndexKey: randomBytes(32),
  fields: [{ path: 'nationalId', searchable: true }],
});

for (const backend of ['memory', 'mongodb'] as const) {
  describe(`crudRouter with field encryption (${backend})`, function () {
    let inner: RecordStore;
    let app: express.Express;
    let cleanup = async () => undefined as unknown;
    let hide: string[] | undefined;

    beforeEach(async function () {
      if (backend === 'mongodb') {
        const connection = await sharedMongo();
        const name = uniqueName('crud_enc');
        inner = new MongoRecordStore({ model: connection.model(name, mongooseSchemaFor(fields), name) });
        cleanup = async () => {
          await connection.dropCollection(name).catch(() => false);
          connection.deleteModel(name);
        };
      } else {
        inner = new MemoryRecordStore({ schema: fields });
      }
      app = express();
      hide = undefined;
      app.use((req, _res, next) => {
        if (hide) contextOf(req).permissions = permissions({ excludeFields: hide });
        next();
      });
      app.use(
        '/accounts',
        crudRouter({ resource: 'accounts', store: new EncryptedRecordStore({ store: inner, encryption }) }),
      );
      app.use(errorHandler());
    });
    afterEach(async function () {
      await cleanup();
    });

    it('refuses to update a record it cannot decrypt, naming no hidden field, and keeps its ciphertext', async function () {
      const created = await request(app)
        .post('/accounts')
        .send({ name: 'Ada', nationalId: '01017012345', country: 'NO' })
        .expect(201);
      const id = created.body.id as string;
      const stored = (await inner.get(id))!;
      const damaged = `${String(stored.nationalId).slice(0, -4)}AAAA`;
      await inner.replace(id, stored._version, { ...stored, nationalId: damaged });
      const version = (await inner.get(id))!._version;
      hide = ['nationalId'];
      const hidden = await request(app).patch(`/accounts/${id}`).send({ country: 'DK' }).expect(409);
      expect(hidden.type).to.equal('application/problem+json');
      expect(hidden.body.code).to.equal('conflict.not_updatable');
      expect(JSON.stringify(hidden.body)).to.not.match(/decrypt|nationalId|ENCRYPTION/i);
      hide = undefined;
      const seen = await request(app).patch(`/accounts/${id}`).send({ country: 'DK' }).expect(409);
      expect(seen.body.code).to.equal('conflict.undecryptable');
      const after = (await inner.get(id))!;
      expect(after._version).to.equal(version);
      expect(after.nationalId).to.equal(damaged);
      expect(after.country).to.equal('NO');
    });

    it('stores ciphertext, returns plaintext and finds by equality through the blind index', async function () {
      const created = await request(app)
        .post('/accounts')
        .send({ name: 'Ada', nationalId: '01017012345', country: 'NO' })
        .expect(201);
      expect(created.body.nationalId).to.equal('01017012345');
      expect(Object.keys(created.body).some((key) => key.includes('bidx') || key.startsWith('_enc'))).to.equal(false);
      await request(app).post('/accounts').send({ name: 'Bob', nationalId: '02027054321', country: 'SE' }).expect(201);
      const raw = await inner.get(created.body.id);
      expect(raw?.nationalId).to.be.a('string').and.not.equal('01017012345');
      expect(raw?.nationalId_bidx).to.be.a('string');
      const found = await request(app).get('/accounts?nationalId=01017012345').expect(200);
      expect(found.body.items.map((i: { name: string }) => i.name)).to.deep.equal(['Ada']);
      const both = await request(app)
        .get('/accounts?nationalId__in=["01017012345","02027054321"]&sort=name')
        .expect(200);
      expect(both.body.items.map((i: { nationalId: string }) => i.nationalId)).to.deep.equal([
        '01017012345',
        '02027054321',
      ]);
      const patched = await request(app).patch(`/accounts/${created.body.id}`).send({ country: 'DK' }).expect(200);
      expect(patched.body.nationalId).to.equal('01017012345');
      expect(
        (await request(app).get('/accounts?nationalId=01017012345&country=DK').expect(200)).body.items,
      ).to.have.length(1);
    });

    it('refuses other operators, sorting, unique values and invalid plaintext', async function () {
      for (const url of [
        '/accounts?nationalId__startswith=0101',
        '/accounts?sort=nationalId',
        '/accounts/unique/nationalId',
      ]) {
        const res = await request(app).get(url).expect(400);
        expect(res.body.code).to.equal('filter.encrypted_field');
        expect(res.body.detail).to.include('encrypted');
      }
      const bad = await request(app).post('/accounts').send({ name: 'X', nationalId: 'abc' }).expect(400);
      expect(bad.body.errors[0].field).to.equal('nationalId');
    });
  });
}
