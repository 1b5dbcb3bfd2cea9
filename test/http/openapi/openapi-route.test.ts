// openApiDocument / openApiRoute on their own: options checked at creation, what a crudRouter's options change
// in its description, nested fields, an app's own described router, and a caller's excluded fields.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../../src/errors.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import type { OpenApiDocument } from '../../../src/openapi/types.js';
import { EncryptedRecordStore } from '../../../stores/encrypted-records.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { describeRouter } from '../../../middleware/openapi/describe.js';
import { openApiDocument, openApiRoute } from '../../../middleware/openapi/document.js';
import { rateLimit } from '../../../middleware/rate-limit.js';
import { MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';
import { permissions } from '../crud/app.js';
import { openApiErrors, parametersOf, schemaChecker } from '../../support/openapi.js';

const info = { title: 'Test', version: '1' };
const schema = {
  name: { type: 'string', required: true, maxLength: 40 },
  code: { type: 'string', pattern: /^[a-z]+$/i },
  secret: 'string',
  memo: { type: 'string', filterable: false },
  'address.city': { type: 'string', required: true },
  'address.zip': 'string',
  since: { type: 'date', min: '2000-01-01T00:00:00.000Z' },
} as const;

function people(options: Partial<Parameters<typeof crudRouter>[0]> = {}) {
  return crudRouter({ resource: 'people', store: new MemoryRecordStore({ schema }), ...options });
}

describe('openApiDocument and openApiRoute', function () {
  it('refuse impossible options at creation, naming the option', function () {
    const router = people();
    const cases: [unknown, RegExp][] = [
      [
        { info, mounts: { '/people': router }, secruity: [] },
        /openapi\.secruity: is not an option \(did you mean security\?\)/,
      ],
      [{ mounts: { '/people': router } }, /openapi\.info/],
      [{ info, mounts: { '/people/:id': router } }, /openapi\.mounts\.\/people\/:id: must be a literal path/],
      [{ info, mounts: { '/people': express.Router() } }, /openapi\.mounts\.\/people: holds no router that describes/],
      [{ info, mounts: { '/people': router, '/persons': router } }, /openapi\.mounts: .*people\.list appears twice/],
      [{ info, mounts: { '/people': router }, security: [{}] }, /openapi\.security\[0\]/],
    ];
    for (const [options, message] of cases) {
      expect(() => openApiRoute(options as Parameters<typeof openApiRoute>[0]))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(message);
    }
  });

  it("follows crudRouter's options: routes, paging, nested and flagged fields", async function () {
    const custom = describeRouter(express.Router(), () => ({
      paths: {
        '/ping': { get: { operationId: 'ping', summary: 'Ping', responses: { 204: { description: 'Pong.' } } } },
      },
    }));
    const document = openApiDocument({
      info,
      mounts: {
        '/people': people({
          softDelete: false,
          allowReplace: true,
          allowOffset: false,
          dynamicPathFilter: false,
          staticPathFilters: ['name'],
        }),
        '/': custom,
      },
    });
    expect(await openApiErrors(document)).to.deep.equal([]);
    expect(Object.keys(document.paths).sort()).to.deep.equal(
      [
        '/people',
        '/people/batch',
        '/people/name/{value}',
        '/people/search/{key}',
        '/people/unique/{field}',
        '/people/{id}',
        '/ping',
      ].sort(),
    );
    expect(document.paths['/people/{id}']).to.have.keys('parameters', 'get', 'patch', 'put', 'delete');
    // No credential configured: no security, no 401.
    expect(document.security).to.equal(undefined);
    expect(document.paths['/people']!.get!.responses).to.not.have.property('401');
    const list = document.paths['/people']!.get!;
    const names = parametersOf(document, '/people', list).map((p) => p.name);
    expect(names).to.not.include('offset');
    expect(names.filter((name) => name.startsWith('memo'))).to.deep.equal([]);
    expect(names).to.include('address.city__startswith').and.include('since__between');
    const refusals = (list.responses['400'] as { 'x-problem-codes': string[] })['x-problem-codes'];
    expect(refusals).to.include('filter.unknown_parameter');

    const record = document.components.schemas.people as { properties: Record<string, Record<string, unknown>> };
    // `address.city` is required: the object is always there; `zip` may be null.
    expect(record.properties.address).to.deep.equal({
      type: 'object',
      properties: { city: { type: 'string' }, zip: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      additionalProperties: false,
    });
    // A case-insensitive pattern cannot be a JSON Schema pattern: it is said in words.
    expect(record.properties.code).to.deep.equal({
      anyOf: [{ type: 'string', description: 'matches /^[a-z]+$/i.' }, { type: 'null' }],
    });
    const create = document.components.schemas['people.create'] as { required: string[]; properties: object };
    expect(create.required).to.deep.equal(['name', 'address']);
    expect(create.properties).to.not.have.property('createdAt');
    expect(create.properties).to.not.have.property('id');
  });

  it("leaves out of a caller's document every field excluded for it, and answers it privately", async function () {
    const app = express();
    let current = permissions();
    app.use((req, _res, next) => {
      contextOf(req).permissions = current;
      next();
    });
    const router = people();
    app.use('/people', router);
    app.get('/openapi.json', openApiRoute({ info, mounts: { '/people': router } }));
    app.use(errorHandler());
    const full = (await request(app).get('/openapi.json').expect(200)).body as OpenApiDocument;
    expect(JSON.stringify(full)).to.include('secret').and.include('zip');
    current = permissions({ excludeFields: ['secret', 'address.zip'] });
    const narrow = (await request(app).get('/openapi.json').expect(200)).body as OpenApiDocument;
    expect(await openApiErrors(narrow)).to.deep.equal([]);
    expect(JSON.stringify(narrow)).to.not.include('secret').and.not.include('zip');
    expect(JSON.stringify(narrow)).to.include('address.city');
  });

  it('describes the errors list and the 409 of records that cannot be decrypted', async function () {
    const encryption = createFieldEncryption({
      keys: `1:${randomBytes(32).toString('base64')}`,
      blindIndexKey: randomBytes(32),
      fields: [{ path: 'ssn', searchable: true }],
    });
    const inner = new MemoryRecordStore({
      schema: { name: 'string', ssn: 'string' },
      extraPaths: encryption.derivedFields,
    });
    const store = new EncryptedRecordStore({ store: inner, encryption });
    await store.insert('p1', { name: 'Ada', ssn: '123-45-6789' });
    const stored = (await inner.get('p1'))!;
    await inner.replace('p1', stored._version, { ...stored, ssn: `${String(stored.ssn).slice(0, -4)}AAAA` });
    const router = crudRouter({ resource: 'people', store, blindIndex: encryption });
    let current = permissions();
    const app = express();
    app.use(express.json());
    app.use((req, _res, next) => {
      contextOf(req).permissions = current;
      next();
    });
    app.use('/people', router);
    app.get('/openapi.json', openApiRoute({ info, mounts: { '/people': router } }));
    app.use(errorHandler());
    for (const excludeFields of [[], ['ssn']]) {
      current = permissions({ excludeFields });
      const document = (await request(app).get('/openapi.json').expect(200)).body as OpenApiDocument;
      expect(await openApiErrors(document)).to.deep.equal([]);
      const page = schemaChecker(document)('/paths/~1people/get/responses/200/content/application~1json/schema');
      const listed = await request(app).get('/people').expect(200);
      expect(listed.body.errors ?? []).to.have.length(excludeFields.length === 0 ? 1 : 0);
      expect(page(listed.body), JSON.stringify(page.errors)).to.equal(true);
      const refused = await request(app).patch('/people/p1').send({ name: 'Ada B' }).expect(409);
      const conflict = document.paths['/people/{id}']!.patch!.responses['409'] as { 'x-problem-codes': string[] };
      expect(conflict['x-problem-codes']).to.include(refused.body.code);
      // Whom every encrypted field is hidden from is told nothing of decryption, in the document as in answers.
      const text = JSON.stringify(document);
      if (excludeFields.length === 0) expect(text).to.include('_decryptionError').and.include('undecryptable');
      else expect(text).to.not.include('_decryptionError').and.not.include('decrypt');
    }
  });

  it('lists the 429 of a rate limiter on the routes mounted after it', async function () {
    const limited = rateLimit({ store: new MemoryRateLimitStore(), limit: 1, onStoreError: 'closed' });
    const router = people();
    const app = express();
    app.use('/people', limited, router);
    app.use(errorHandler());
    await request(app).get('/people').expect(200);
    const refused = await request(app).get('/people').expect(429);
    const document = openApiDocument({ info, mounts: { '/people': [limited, router] } });
    expect(await openApiErrors(document)).to.deep.equal([]);
    const tooMany = document.paths['/people']!.get!.responses['429'] as {
      'x-problem-codes': string[];
      headers: Record<string, unknown>;
      content: Record<string, unknown>;
    };
    expect(tooMany['x-problem-codes']).to.deep.equal([refused.body.code]);
    expect(tooMany.headers).to.have.property('Retry-After');
    expect(tooMany.content).to.have.property('application/problem+json');
    const unavailable = document.paths['/people/{id}']!.patch!.responses['503'] as { 'x-problem-codes': string[] };
    expect(unavailable['x-problem-codes']).to.include('store_unavailable');
    const unlimited = openApiDocument({ info, mounts: { '/people': people() } });
    expect(unlimited.paths['/people']!.get!.responses).to.not.have.property('429');
  });
});
