// The demo's /openapi.json against the demo itself: a valid OpenAPI 3.1 document per caller that names no field
// the caller may not see, whose every route answers as documented, and whose filters are exactly those accepted.
import { expect } from 'chai';
import request from 'supertest';
import { accountFields } from '../../../examples/demo/accounts.js';
import { controlKeys } from '../../../src/filter/compile.js';
import { operatorAliases } from '../../../src/filter/operators.js';
import type { OpenApiDocument, OpenApiOperation } from '../../../src/openapi/types.js';
import { startDemoApp, type DemoApp, type DemoBackend, type DemoRole } from '../../support/demo-app.js';
import { openApiErrors, parametersOf, pointerSegment, schemaChecker } from '../../support/openapi.js';

const ROLES: DemoRole[] = ['admin', 'analyst', 'support'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const DECLARED = ['id', ...Object.keys(accountFields), 'unknownField'];

function typeOf(field: string): string {
  if (field === 'id' || field === 'unknownField') return 'string';
  const spec = accountFields[field as keyof typeof accountFields];
  return (typeof spec === 'string' ? spec : spec.type).replace('[]', '');
}

/** A well-typed value for `field__op`, so that a refusal can only be about the field or the operator. */
function valueFor(field: string, op: string): string {
  const type = typeOf(field);
  const one = type === 'number' ? 1 : type === 'date' ? '2024-01-31T00:00:00.000Z' : 'x';
  const two = type === 'number' ? 2 : type === 'date' ? '2024-02-01T00:00:00.000Z' : 'y';
  if (op === 'in' || op === 'notin') return JSON.stringify([one]);
  if (op === 'between') return JSON.stringify([one, two]);
  if (op === 'exists') return 'true';
  return String(one);
}

function exampleOf(parameter: { example?: unknown; content?: Record<string, { example?: unknown }> }): string {
  const example = parameter.content ? parameter.content['application/json']!.example : parameter.example;
  return typeof example === 'string' ? example : JSON.stringify(example);
}

/** Names in backticks after `label` in a description. */
function namesAfter(text: string, label: string): string[] {
  const tail = text.slice(text.indexOf(label) + label.length);
  return [...tail.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

function codesOf(operation: OpenApiOperation, status: number): string[] {
  const response = operation.responses[String(status)];
  return response && 'x-problem-codes' in response ? (response['x-problem-codes'] ?? []) : [];
}

for (const backend of ['memory', 'mongodb'] as DemoBackend[]) {
  describe(`demo /openapi.json (${backend})`, function () {
    this.timeout(120_000);
    let demo: DemoApp;
    const documents = {} as Record<DemoRole, OpenApiDocument>;

    before(async function () {
      demo = await startDemoApp(backend);
      for (const role of ROLES) {
        const response = await request(demo.app).get('/openapi.json').set(demo.headers[role]).expect(200);
        documents[role] = response.body as OpenApiDocument;
      }
    });
    after(async function () {
      await demo?.close();
    });

    it('is a valid OpenAPI 3.1 document for every caller, its references resolved', async function () {
      for (const role of ROLES) expect(await openApiErrors(documents[role]), role).to.deep.equal([]);
    });

    it('is answered only to an authenticated caller, privately, and revalidated by its ETag', async function () {
      const anonymous = await request(demo.app).get('/openapi.json').expect(401);
      expect(anonymous.headers['content-type']).to.match(/^application\/problem\+json/);
      const first = await request(demo.app).get('/openapi.json').set(demo.headers.analyst).expect(200);
      expect(first.headers['cache-control']).to.equal('private, no-cache');
      expect(first.headers.vary).to.include('Authorization').and.include('x-api-key');
      await request(demo.app)
        .get('/openapi.json')
        .set(demo.headers.analyst)
        .set('If-None-Match', first.headers.etag!)
        .expect(304);
      const admin = await request(demo.app).get('/openapi.json').set(demo.headers.admin).expect(200);
      expect(admin.headers.etag).to.not.equal(first.headers.etag);
    });

    it('names no field hidden from the caller, and offers no filter, sort or key on a field it reads masked', function () {
      // The analyst never sees the national id: not a property, parameter, enum value or word anywhere.
      expect(JSON.stringify(documents.analyst)).to.not.include('nationalId');
      const record = (role: DemoRole) =>
        documents[role].components.schemas.accounts as { properties: Record<string, { description?: string }> };
      expect(record('analyst').properties).to.not.have.property('nationalId');
      expect(record('analyst').properties.email!.description).to.match(/masked/);
      expect(record('admin').properties.email!.description).to.equal(undefined);
      const filters = (role: DemoRole) =>
        parametersOf(documents[role], '/accounts', documents[role].paths['/accounts']!.get!).map((p) => p.name);
      // Encrypted and searchable: equality and `in` only, for the one caller that reads it in clear.
      expect(filters('admin').filter((name) => name.startsWith('nationalId'))).to.deep.equal([
        'nationalId',
        'nationalId__in',
      ]);
      expect(filters('support').filter((name) => name.startsWith('nationalId'))).to.deep.equal([]);
      for (const field of ['email', 'phone', 'notes'])
        expect(
          filters('analyst').filter((name) => name.split('__')[0] === field),
          field,
        ).to.deep.equal([]);
      // `notes` is declared filterable: false.
      for (const role of ROLES) expect(filters(role).filter((name) => name.startsWith('notes'))).to.deep.equal([]);
      const keys = documents.support.paths['/accounts/unique/{field}']!.parameters![0]!.schema!.enum as string[];
      expect(keys).to.include('email').and.not.include('notes').and.not.include('nationalId');
    });

    it('requires in accounts.create exactly the fields a create without them is refused for', async function () {
      const answer = await request(demo.app).post('/accounts').set(demo.headers.admin).send({}).expect(400);
      const missing = (answer.body.errors as { field: string; code: string }[])
        .filter((problem) => problem.code === 'validation.required')
        .map((problem) => problem.field);
      const create = documents.admin.components.schemas['accounts.create'] as { required: string[] };
      expect([...create.required].sort()).to.deep.equal([...new Set(missing)].sort());
      expect(create.required).to.include('age').and.include('balance');
    });

    for (const role of ROLES) {
      it(`${role}: every filter listed is accepted, every other field and operator refused as documented`, async function () {
        const document = documents[role];
        const list = document.paths['/accounts']!.get!;
        const parameters = parametersOf(document, '/accounts', list);
        const listed = new Map(parameters.map((parameter) => [parameter.name, parameter]));
        const page = schemaChecker(document)(
          `/paths/${pointerSegment('/accounts')}/get/responses/200/content/application~1json/schema`,
        );
        const refusals = codesOf(list, 400);
        let accepted = 0;
        let refused = 0;
        for (const field of DECLARED) {
          for (const alias of Object.keys(operatorAliases)) {
            const canonical = operatorAliases[alias]!;
            const documented = listed.get(canonical === 'eq' ? field : `${field}__${canonical}`);
            const name = alias === 'eq' ? field : `${field}__${alias}`;
            const value = documented && alias === canonical ? exampleOf(documented) : valueFor(field, canonical);
            const response = await request(demo.app)
              .get(`/accounts?${name}=${encodeURIComponent(value)}&limit=2`)
              .set(demo.headers[role]);
            if (documented) {
              expect(response.status, `${name}=${value}: ${JSON.stringify(response.body)}`).to.equal(200);
              expect(page(response.body), `${name}: ${JSON.stringify(page.errors)}`).to.equal(true);
              accepted++;
            } else {
              expect(response.status, `${name}=${value} is not documented`).to.equal(400);
              expect(refusals, name).to.include(response.body.code);
              refused++;
            }
          }
        }
        expect(accepted).to.be.greaterThan(50);
        expect(refused).to.be.greaterThan(50);

        const sort = parameters.find((parameter) => parameter.name === 'sort')!;
        const sortable = namesAfter(sort.description!, 'Sortable:');
        expect(sortable).to.include('id');
        for (const field of DECLARED) {
          const response = await request(demo.app).get(`/accounts?sort=-${field}&limit=1`).set(demo.headers[role]);
          expect(response.status, `sort=-${field}`).to.equal(sortable.includes(field) ? 200 : 400);
        }
        // Every parameter the document lists is either a filter or one of the list's controls.
        for (const name of listed.keys()) {
          if ((controlKeys as readonly string[]).includes(name)) continue;
          expect(
            DECLARED.some((field) => name === field || name.startsWith(`${field}__`)),
            name,
          ).to.equal(true);
        }
      });

      it(`${role}: the unique, search and path-filter keys listed are accepted, the others refused`, async function () {
        const document = documents[role];
        const enumOf = (path: string, index: number) =>
          (document.paths[path]!.parameters![index]!.schema!.enum ?? []) as string[];
        const unique = enumOf('/accounts/unique/{field}', 0);
        const search = enumOf('/accounts/search/{key}', 0);
        const pathKeys = enumOf('/accounts/{searchKey}/{searchValue}', 0);
        for (const field of DECLARED) {
          const values = await request(demo.app).get(`/accounts/unique/${field}`).set(demo.headers[role]);
          expect(values.status, `unique ${field}`).to.equal(unique.includes(field) ? 200 : 400);
          const byPath = await request(demo.app)
            .get(`/accounts/${field}/${encodeURIComponent(valueFor(field, 'eq'))}`)
            .set(demo.headers[role]);
          // `/accounts/id/x` and `/accounts/unknownField/x` are path filters too; `/accounts/trash` is not.
          expect(byPath.status, `path filter ${field}`).to.equal(pathKeys.includes(field) ? 200 : 400);
          const found = await request(demo.app)
            .post(`/accounts/search/${field}`)
            .set(demo.headers[role])
            .send([typeOf(field) === 'number' ? 1 : valueFor(field, 'eq')]);
          // Support may not POST at all (its permitted endpoints): the document keeps the route, with 403.
          if (role === 'support') {
            expect(found.status).to.equal(403);
            expect(codesOf(document.paths['/accounts/search/{key}']!.post!, 403)).to.include(found.body.code);
          } else expect(found.status, `search ${field}`).to.equal(search.includes(field) ? 200 : 400);
        }
      });

      it(`${role}: every route in the document answers with a documented status, code and body`, async function () {
        const document = documents[role];
        const check = schemaChecker(document);
        const event = await request(demo.app).get('/audit/events?limit=1').set(demo.headers.admin).expect(200);
        const real: Record<string, string> = {
          '/accounts': 'acc_0001',
          '/admin/principals': 'ana',
          '/admin/groups': 'analysts',
          '/admin/policies': 'analysts-read-accounts',
          '/audit/events': (event.body as { items: { id: string }[] }).items[0]!.id,
        };
        const calls: { path: string; method: (typeof METHODS)[number]; operation: OpenApiOperation }[] = [];
        for (const [path, item] of Object.entries(document.paths)) {
          for (const method of METHODS) if (item[method]) calls.push({ path, method, operation: item[method] });
        }
        // Ending one's own sessions comes last: the callers with a login token need it until then.
        const last = (call: (typeof calls)[number]) =>
          call.path.startsWith('/auth/') && call.method !== 'get' ? 1 : 0;
        calls.sort((a, b) => last(a) - last(b));
        expect(calls.length).to.be.greaterThan(30);
        for (const { path, method, operation } of calls) {
          let url = path;
          for (const parameter of parametersOf(document, path, operation)) {
            if (parameter.in !== 'path') continue;
            const choices = parameter.schema?.enum as string[] | undefined;
            const prefix = Object.keys(real).find((start) => path.startsWith(`${start}/{`));
            const value =
              choices?.[0] ??
              (method === 'get' && prefix && parameter.name === 'id'
                ? real[prefix]!
                : ({
                    resource: 'accounts',
                    actor: 'ana',
                    action: 'GET',
                    searchValue: 'acc_0001',
                    uid: 'no-such-policy',
                  }[parameter.name] ?? 'no-such-id'));
            url = url.replace(`{${parameter.name}}`, encodeURIComponent(value));
          }
          const body = path.startsWith('/accounts/search/') ? ['acc_0001'] : {};
          const call = request(demo.app)[method](url).set(demo.headers[role]);
          const response = method === 'get' || method === 'delete' ? await call : await call.send(body);
          const where = `${role}: ${method.toUpperCase()} ${url} → ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`;
          expect(response.body.code, where).to.not.equal('not_found.route');
          expect(operation.responses, where).to.have.property(String(response.status));
          if (response.status >= 400) {
            expect(codesOf(operation, response.status), where).to.include(response.body.code);
            continue;
          }
          const documented = operation.responses[String(response.status)] as { content?: Record<string, unknown> };
          if (documented.content?.['application/json']) {
            const validate = check(
              `/paths/${pointerSegment(path)}/${method}/responses/${response.status}/content/application~1json/schema`,
            );
            expect(validate(response.body), `${where}: ${JSON.stringify(validate.errors)}`).to.equal(true);
          }
        }
      });
    }
  });
}
