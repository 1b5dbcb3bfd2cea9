// The CRUD router over an encrypted record store, behind maskResponse(): stored ciphertext, blind-index
// search over HTTP, and two principals seeing the same record differently.
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Principal } from '../../../src/auth/principal.js';
import { createMasker } from '../../../src/pii/engine.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { keyVersionOf } from '../../../src/pii/field-cipher.js';
import { matchAll } from '../../../src/filter/index.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { EncryptedRecordStore } from '../../../stores/encrypted-records.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { maskResponse } from '../../../middleware/mask-response.js';

/** People records with the ssn (searchable) and the notes encrypted, on a memory store. */
function encryptedPeople() {
  const encryption = createFieldEncryption({
    keys: `1:${randomBytes(32).toString('base64')}`,
    blindIndexKey: randomBytes(32),
    fields: [{ path: 'ssn', searchable: true }, 'notes'],
  });
  const inner = new MemoryRecordStore({
    schema: { name: 'string', ssn: 'string', notes: 'string' },
    extraPaths: encryption.derivedFields,
  });
  return { encryption, inner, store: new EncryptedRecordStore({ store: inner, encryption }) };
}

describe('CRUD router with field encryption and role-aware masking (HTTP)', () => {
  const { encryption, inner, store } = encryptedPeople();
  const principals: Record<string, Principal> = {
    clerk: { id: 'clerk', kind: 'user', groups: ['staff'], attributes: {} },
    auditor: { id: 'auditor', kind: 'user', groups: ['compliance'], attributes: {} },
  };
  const app = express();
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const who = req.get('x-test-principal');
    if (who) contextOf(req).principal = principals[who];
    next();
  });
  app.use(
    maskResponse({
      masker: createMasker({ keys: ['ssn'], recognizers: ['email'] }),
      groupGrants: { compliance: { fields: ['ssn'], labels: ['email'] } },
    }),
  );
  app.use('/people', crudRouter({ resource: 'people', store, blindIndex: encryption }));
  app.use(errorHandler());

  it('stores ciphertext, searches through the blind index, and masks per principal', async () => {
    const created = await request(app)
      .post('/people')
      .set('x-test-principal', 'auditor')
      .send({ name: 'Ada', ssn: '123-45-6789', notes: 'mail ada@example.org' })
      .expect(201);
    await request(app)
      .post('/people')
      .set('x-test-principal', 'auditor')
      .send({ name: 'Bob', ssn: '987-65-4321' })
      .expect(201);
    const id = created.body.id as string;
    expect(created.body.ssn).to.equal('123-45-6789');

    const raw = await inner.get(id);
    expect(JSON.stringify(raw)).to.not.include('123-45-6789').and.not.include('ada@example.org');
    expect(keyVersionOf(raw!.ssn)).to.equal(1);

    const auditor = await request(app)
      .get('/people')
      .query({ ssn: '123-45-6789' })
      .set('x-test-principal', 'auditor')
      .expect(200);
    const clerk = await request(app)
      .get('/people')
      .query({ ssn: '123-45-6789' })
      .set('x-test-principal', 'clerk')
      .expect(200);
    const items = (body: { items?: unknown[] } | unknown[]) =>
      (Array.isArray(body) ? body : body.items!) as Record<string, unknown>[];
    expect(items(auditor.body).map((p) => [p.name, p.ssn, p.notes])).to.deep.equal([
      ['Ada', '123-45-6789', 'mail ada@example.org'],
    ]);
    expect(items(clerk.body).map((p) => [p.name, p.ssn, p.notes])).to.deep.equal([
      ['Ada', 'XXXXXXXXXXX', 'mail XXXXXXXXXXXXXXX'],
    ]);
    expect(JSON.stringify(clerk.body)).to.not.include('ssn_bidx').and.not.include('_encVersion');

    const one = await request(app).get(`/people/${id}`).set('x-test-principal', 'clerk').expect(200);
    expect(one.body.ssn).to.equal('XXXXXXXXXXX');

    const refused = await request(app)
      .get('/people')
      .query({ ssn__gt: '1' })
      .set('x-test-principal', 'auditor')
      .expect(400);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.body.errors[0].code).to.equal('filter.encrypted_field');
  });
});

describe('EncryptedRecordStore: fields the caller may not see', () => {
  const { inner, store } = encryptedPeople();
  const query = { where: matchAll, sort: [{ field: 'id', direction: 1 as const }], limit: 10 };

  before(async () => {
    await store.insert('p1', { name: 'Ada', ssn: '123-45-6789', notes: 'n1' });
    // A damaged ciphertext in ssn: decrypting it fails, so a clean result proves it was never decrypted.
    const stored = (await inner.get('p1'))!;
    const damaged = await inner.replace('p1', stored._version, {
      ...stored,
      ssn: `${String(stored.ssn).slice(0, -4)}AAAA`,
    });
    expect(damaged?.ssn).to.match(/AAAA$/);
  });

  it('drops omitted encrypted fields and their blind index without decrypting them', async () => {
    const [record] = await store.find({ ...query, omit: ['ssn'] });
    expect(record).to.include({ id: 'p1', name: 'Ada', notes: 'n1' });
    expect(record).to.not.have.any.keys('ssn', 'ssn_bidx', '_encVersion', '_decryptionError');
  });

  it('still decrypts, and reports, what is not omitted', async () => {
    const [record] = await store.find(query);
    expect(record).to.include({ id: 'p1', ssn: null, _decryptionError: 'pii.authentication_failed' });
  });
});

describe('CRUD router: records that cannot be decrypted (HTTP)', () => {
  const { inner, store, encryption } = encryptedPeople();
  const app = express();
  app.use(express.json());
  // x-hide: fields hidden from this caller, as a grant's excludeFields.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const hide = req.get('x-hide');
    if (hide !== undefined) {
      const excludeFields = hide.split(',');
      contextOf(req).principal = { id: 'viewer', kind: 'user', groups: [], attributes: {} };
      contextOf(req).permissions = {
        endpoints: [],
        allEndpoints: true,
        filters: [],
        excludeFields,
        updateFieldsPermitted: [],
        updateFieldsRestricted: [],
      };
    }
    next();
  });
  app.use('/people', crudRouter({ resource: 'people', store, blindIndex: encryption, allowReplace: true }));
  app.use(errorHandler());

  before(async () => {
    await store.insert('p1', { name: 'Ada', ssn: '123-45-6789', notes: 'n1' });
    await store.insert('p2', { name: 'Bob', ssn: '987-65-4321', notes: 'n2' });
    // p1's ssn ciphertext damaged: it no longer authenticates.
    const stored = (await inner.get('p1'))!;
    await inner.replace('p1', stored._version, { ...stored, ssn: `${String(stored.ssn).slice(0, -4)}AAAA` });
  });

  it('lists them under errors beside the items, with or without fields=', async () => {
    for (const path of ['/people?sort=id', '/people?sort=id&fields=name', '/people?sort=id&fields=ssn']) {
      const { body } = await request(app).get(path).expect(200);
      expect(body.items.map((item: { id?: string; name?: string }) => item.id ?? item.name)).to.have.length(2);
      expect(body.items[0]).to.include({ _decryptionError: 'pii.authentication_failed' });
      expect(body.items[1]).to.not.have.property('_decryptionError');
      expect(body.errors, path).to.deep.equal([
        {
          id: 'p1',
          code: 'pii.authentication_failed',
          message: 'The record cannot be decrypted with the configured keys; its encrypted fields are null.',
        },
      ]);
    }
    const fine = await request(app).get('/people?name=Bob').expect(200);
    expect(fine.body).to.not.have.property('errors');
  });

  it('says nothing of it to a caller from whom every encrypted field is hidden', async () => {
    // Hidden fields answer like unknown ones: the marker would tell this caller they exist and are broken.
    const hidden = await request(app).get('/people/p1').set('x-hide', 'ssn,notes').expect(200);
    expect(hidden.body).to.deep.equal({ id: 'p1', name: 'Ada', ...timestampsOf(hidden.body) });
    const listed = await request(app).get('/people?sort=id').set('x-hide', 'ssn,notes').expect(200);
    expect(listed.body).to.not.have.property('errors');
    // One encrypted field still seen: the record says it cannot be decrypted.
    const partly = await request(app).get('/people/p1').set('x-hide', 'notes').expect(200);
    expect(partly.body).to.include({ ssn: null, _decryptionError: 'pii.authentication_failed' });
  });

  it('refuses to update one with 409 conflict.undecryptable, and writes nothing', async () => {
    const before = (await inner.get('p1'))!;
    for (const method of ['patch', 'put'] as const) {
      const refused = await request(app)[method]('/people/p1').send({ name: 'Ada B' }).expect(409);
      expect(refused.type).to.equal('application/problem+json');
      expect(refused.body).to.include({ status: 409, code: 'conflict.undecryptable' });
      expect(refused.body.detail).to.match(/cannot be decrypted/);
    }
    expect((await inner.get('p1'))!._version).to.equal(before._version);
    await request(app).patch('/people/p2').send({ name: 'Bob B' }).expect(200);
  });
});

function timestampsOf(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['createdAt', 'updatedAt']) if (key in body) out[key] = body[key];
  return out;
}
