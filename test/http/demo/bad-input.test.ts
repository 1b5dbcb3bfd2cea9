// Bad input over HTTP across the whole demo: every route answers nonsense with 4xx problem+json, never 5xx.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, request as httpRequest, type Server } from 'node:http';
import request from 'supertest';
import { createLogger, handleClientErrors, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo } from '../../../examples/demo/assemble.js';
import { buildDemoApp } from '../../../examples/demo/app.js';

const ADMIN_KEY = `sweep.${randomBytes(24).toString('base64url')}`;

/** Every route of the demo, with a valid-looking id where the route takes one. */
const ROUTES: [string, string][] = [
  ['GET', '/accounts'],
  ['POST', '/accounts'],
  ['GET', '/accounts/acc_0001'],
  ['PATCH', '/accounts/acc_0001'],
  ['PUT', '/accounts/acc_0001'],
  ['DELETE', '/accounts/acc_0002'],
  ['GET', '/accounts/acc_0001/history'],
  ['GET', '/accounts/trash'],
  ['POST', '/accounts/trash/acc_0002/restore'],
  ['DELETE', '/accounts/trash/acc_0002'],
  ['GET', '/accounts/unique/country'],
  ['POST', '/accounts/search/country'],
  ['GET', '/accounts/country/DE'],
  ['GET', '/audit'],
  ['GET', '/audit/some-event-id'],
  ['POST', '/auth/login'],
  ['POST', '/auth/logout'],
  ['GET', '/auth/sessions'],
  ['DELETE', '/auth/sessions/abc'],
  ['GET', '/auth/me'],
  ['POST', '/auth/me/has-permission'],
  ['GET', '/admin/principals'],
  ['PUT', '/admin/principals/someone'],
  ['PUT', '/admin/groups/somegroup'],
  ['POST', '/admin/principals/ana/api-keys'],
  ['DELETE', '/admin/api-keys/nokey'],
  ['GET', '/admin/policies'],
  ['PUT', '/admin/policies/p1'],
  ['DELETE', '/admin/policies/p1'],
];

const HOSTILE_QUERIES = [
  'age__gt=thirty',
  'status[$ne]=closed',
  'status[%24ne]=closed',
  '__proto__[admin]=true',
  'constructor[prototype][admin]=1',
  'age__nope=3',
  'nosuchfield=1',
  'country__in=not-json',
  `country__in=${encodeURIComponent(JSON.stringify(Array.from({ length: 300 }, (_, i) => `C${i}`)))}`,
  'name__startswith=(a%2B)%2B%24',
  'sort=-$where',
  'limit=-5',
  'limit=1e9',
  'cursor=forged.cursor.value',
  'fields=__proto__',
  'email=%E0%A4%A',
];

const HOSTILE_BODIES: { contentType: string; body: string }[] = [
  { contentType: 'application/json', body: '{"name": ' },
  { contentType: 'application/json', body: '[1,2,3]' },
  { contentType: 'application/json', body: '"just a string"' },
  { contentType: 'application/json', body: '{"__proto__": {"admin": true}, "name": "x"}' },
  { contentType: 'application/json', body: '{"constructor": {"prototype": {"admin": true}}}' },
  { contentType: 'application/json', body: '{"age": "old", "status": {"$ne": null}, "unknownField": 1}' },
  { contentType: 'application/json', body: JSON.stringify({ notes: 'x'.repeat(300_000) }) },
  { contentType: 'text/plain', body: 'name=x' },
];

const CREDENTIALS: Record<string, string>[] = [
  {},
  { 'X-API-Key': 'forged.key' },
  { 'X-API-Key': ADMIN_KEY.slice(0, -2) + 'xx' },
  { Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' },
  { Authorization: 'Bearer not-a-jwt' },
  { Authorization: 'Basic YWRtaW46YWRtaW4=' },
  { 'X-API-Key': ADMIN_KEY },
];

type DemoPartsWithClose = Awaited<ReturnType<typeof assembleDemo>>;

/** The demo's parts on memory stores, in this process, with the given variables. */
async function inProcessDemo(env: Record<string, string>): Promise<{ stores: Stores; parts: DemoPartsWithClose }> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const stores = await createStores(config);
  const parts = await assembleDemo({
    config,
    stores,
    logger: createLogger({ level: 'silent' }),
    randomKey: () => randomBytes(32).toString('base64'),
  });
  return { stores, parts };
}

function assertProblem(response: request.Response, fullWhat: string): void {
  const what = fullWhat.length > 200 ? `${fullWhat.slice(0, 200)}…` : fullWhat;
  expect(response.status, `${what} → ${response.status} ${response.text.slice(0, 300)}`).to.be.within(400, 499);
  expect(response.headers['content-type'], what).to.match(/^application\/problem\+json/);
  expect(response.text, what).to.not.match(/\bat [\w.<>]+ \(|node_modules|Mongo\w*Error|ReplyError/);
}

describe('demo: bad input on every route', function () {
  this.timeout(300_000);
  let stores: Stores;
  let app: ReturnType<typeof buildDemoApp>;
  let close: () => Promise<void>;
  let parts: DemoPartsWithClose;

  before(async function () {
    ({ stores, parts } = await inProcessDemo({
      ADMIN_API_KEY: ADMIN_KEY,
      RATE_LIMIT_MAX: '1000000',
      RATE_LIMIT_LOGIN_MAX: '1000000',
    }));
    close = parts.close;
    app = buildDemoApp(parts);
  });

  after(async function () {
    await close?.();
    await stores?.close();
  });

  it('answers hostile querystrings with 4xx problem+json on every route, for every credential', async function () {
    for (const [method, path] of ROUTES) {
      for (const headers of CREDENTIALS) {
        for (const query of HOSTILE_QUERIES) {
          const target = `${path}?${query}`;
          const response = await request(app)[method.toLowerCase() as 'get'](target).set(headers);
          if (response.status < 400) continue; // a route may ignore a querystring it does not read
          assertProblem(response, `${method} ${target} ${JSON.stringify(headers)}`);
        }
      }
    }
  });

  it('answers hostile bodies with 4xx problem+json on every route that takes one', async function () {
    for (const [method, path] of ROUTES.filter(([method]) => method !== 'GET' && method !== 'DELETE')) {
      for (const headers of CREDENTIALS) {
        for (const { contentType, body } of HOSTILE_BODIES) {
          const response = await request(app)
            [method.toLowerCase() as 'post'](path)
            .set(headers)
            .set('Content-Type', contentType)
            .send(body);
          if (response.status < 400) continue;
          assertProblem(response, `${method} ${path} ${body.slice(0, 60)} ${JSON.stringify(headers)}`);
        }
      }
    }
  });

  it('refuses invalid ids and path parameters with 4xx', async function () {
    const ids = ['%00', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(5000), '%E0%A4%A', '$where', '{"$gt":""}'];
    for (const id of ids) {
      for (const path of [
        `/accounts/${id}`,
        `/accounts/${id}/history`,
        `/admin/principals/${id}`,
        `/admin/policies/${id}`,
      ]) {
        const response = await request(app).get(path).set('X-API-Key', ADMIN_KEY);
        assertProblem(response, `GET ${path}`);
      }
    }
  });

  it('never lets prototype pollution through', async function () {
    await request(app)
      .post('/accounts')
      .set('X-API-Key', ADMIN_KEY)
      .set('Content-Type', 'application/json')
      .send(
        '{"__proto__": {"polluted": true}, "name": "p", "email": "p@example.com", "status": "active", "country": "DE"}',
      );
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});

describe('demo: oversized requests', function () {
  this.timeout(60_000);
  let stores: Stores;
  let server: Server;
  let close: () => Promise<void>;

  before(async function () {
    let parts: DemoPartsWithClose;
    ({ stores, parts } = await inProcessDemo({}));
    close = parts.close;
    server = handleClientErrors(createServer(buildDemoApp(parts)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async function () {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await close?.();
    await stores?.close();
  });

  function raw(path: string, headers: Record<string, string>): Promise<{ status: number; type: string }> {
    const { port } = server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers a huge querystring and huge headers with 4xx problem+json', async function () {
    const hugeQuery = await raw(`/accounts?name=${'a'.repeat(40_000)}`, {});
    expect(hugeQuery.status).to.be.within(400, 499);
    expect(hugeQuery.type).to.match(/problem\+json/);
    const hugeHeader = await raw('/accounts', { 'X-Filler': 'b'.repeat(40_000) });
    expect(hugeHeader.status).to.equal(431);
    expect(hugeHeader.type).to.match(/problem\+json/);
  });
});
