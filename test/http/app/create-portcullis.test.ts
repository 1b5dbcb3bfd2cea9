// createPortcullis options the demo composes with: PII fields with labels, strategies and free text,
// metrics, and finish() before listen().
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createLogger, createPortcullis, loadConfig, parsePolicies, type Portcullis } from 'portcullis';
import { MemoryRecordStore } from 'portcullis/memory';

const policies = parsePolicies(`
- uid: admins-do-anything
  effect: allow
  subjects: [{ role: { type: Eq, value: admin } }]
  actions: [{ type: Any }]
  resources: [{ type: Any }]
`);

describe('createPortcullis options', function () {
  const adminKey = `admin.${randomBytes(18).toString('base64url')}`;
  let portcullis: Portcullis;

  before(async function () {
    const config = loadConfig({ LOG_LEVEL: 'silent', ADMIN_API_KEY: adminKey, HOST: '127.0.0.1', PORT: '0' });
    portcullis = await createPortcullis(config, {
      logger: createLogger({ level: 'silent' }),
      policies,
      piiFields: [
        'borrower',
        { field: 'email', label: 'contact', strategy: { kind: 'partial', keepLast: 4 } },
        { field: 'notes', freeText: true },
      ],
      metrics: true,
    });
  });

  after(async function () {
    await portcullis.close();
  });

  it('masks PII fields at any depth with their own label and strategy, free text by the recognizers', function () {
    const masked = portcullis.masker.mask({
      borrower: 'Ada',
      contact: { email: 'ada@example.org' },
      notes: 'mail ada@example.org about the loan',
    });
    expect(masked).to.deep.equal({
      borrower: 'XXX',
      contact: { email: 'aXXX@example.org' },
      notes: 'mail XXXXXXXXXXXXXXX about the loan',
    });
    expect(portcullis.masker.labels).to.include('contact');
  });

  it('serves metrics of requests and decisions at GET /metrics', async function () {
    const app = portcullis.app();
    app.use(
      '/books',
      portcullis.crudRouter({ resource: 'books', store: new MemoryRecordStore({ schema: { title: 'string' } }) }),
    );
    portcullis.finish(app);
    await request(app).get('/books').set('X-API-Key', adminKey).expect(200);
    const text = (await request(app).get('/metrics').expect(200)).text;
    expect(text).to.match(/portcullis_abac_decisions_total\{effect="allow"\} [1-9]/);
    expect(text).to.include('portcullis_http_requests_total{method="GET",route="/books/",status="200"} 1');
  });

  it("sends no weak ETag on its no-store answers, and keeps a record's version ETag for If-Match and If-None-Match", async function () {
    const app = portcullis.app();
    app.use(
      '/books',
      portcullis.crudRouter({ resource: 'books', store: new MemoryRecordStore({ schema: { title: 'string' } }) }),
    );
    portcullis.finish(app);
    const created = await request(app).post('/books').set('X-API-Key', adminKey).send({ title: 'Dune' }).expect(201);
    const list = await request(app).get('/books').set('X-API-Key', adminKey).expect(200);
    expect(list.headers['cache-control']).to.equal('no-store');
    expect(list.headers).to.not.have.property('etag');
    const read = await request(app).get(`/books/${created.body.id}`).set('X-API-Key', adminKey).expect(200);
    expect(read.headers.etag).to.equal('"1"');
    await request(app)
      .get(`/books/${created.body.id}`)
      .set('X-API-Key', adminKey)
      .set('If-None-Match', '"1"')
      .expect(304);
  });

  it('adds the 404 and error handlers once, whether finish() ran before listen() or not', async function () {
    const app = portcullis.finish(portcullis.app());
    const before = app.router.stack.length;
    const server = await portcullis.listen(portcullis.finish(app));
    try {
      expect(app.router.stack.length).to.equal(before);
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/nowhere`, { headers: { 'X-API-Key': adminKey } });
      expect(response.status).to.equal(404);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("createPortcullis's app(): a rate limit on login attempts per address", function () {
  it('answers 429 once an address passes RATE_LIMIT_MAX logins, whatever usernames it tries', async function () {
    const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '5', HOST: '127.0.0.1', PORT: '0' });
    const portcullis = await createPortcullis(config, { logger: createLogger({ level: 'silent' }) });
    try {
      const app = portcullis.finish(portcullis.app());
      const statuses: number[] = [];
      // A fresh username each time: the failure limit alone never refuses these.
      for (let i = 0; i < 7; i++) {
        const answer = await request(app)
          .post('/auth/login')
          .send({ username: `nobody-${i}`, password: 'wrong-password' });
        statuses.push(answer.status);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
      const limited = await request(app).post('/auth/login/totp').send({ pendingToken: 'x', code: '123456' });
      expect(limited.status).to.equal(429);
      expect(limited.headers['content-type']).to.match(/^application\/problem\+json/);
    } finally {
      await portcullis.close();
    }
  });
});
