// jsonBody(): size and nesting bounds on JSON bodies, and the policy routes' own bound behind a plain parser.
import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { ConfigError } from '../../../src/errors.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import { MemoryAuditStore, MemoryPolicyStore } from '../../../stores/memory/index.js';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { errorHandler, notFoundHandler } from '../../../middleware/error-handler.js';
import { jsonBody, type JsonBodyOptions } from '../../../middleware/json-body.js';
import { policyAdminRouter } from '../../../middleware/policy-admin-router.js';
import { requestContext } from '../../../middleware/request-context.js';
import { contextOf } from '../../../middleware/context.js';
import { noPermissions } from '../../../src/auth/permissions.js';

function echoApp(options: JsonBodyOptions) {
  const app = express();
  app.use(requestContext(), jsonBody(options));
  app.post('/echo', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  app.use(notFoundHandler(), errorHandler());
  return app;
}

/** JSON text of `levels` nested arrays around 1. */
function nestedText(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}

function notChainText(levels: number): string {
  return `${'{"type":"Not","rule":'.repeat(levels)}{"type":"Eq","value":1}${'}'.repeat(levels)}`;
}

describe('jsonBody', function () {
  it('refuses a lone UTF-16 surrogate in a value or a key with 400 naming the field, keeps paired ones', async function () {
    const app = echoApp({});
    for (const [text, field] of [
      ['{"name":"Ada \\ud800"}', 'name'],
      ['{"tags":["ok","\\udfff x"]}', 'tags[1]'],
      ['{"address":{"city":"\\ud83d"}}', 'address.city'],
      ['{"a":{"\\ud800":1}}', 'a.\ud800'],
    ]) {
      const refused = await request(app).post('/echo').set('Content-Type', 'application/json').send(text).expect(400);
      expect(refused.headers['content-type'], text).to.match(/^application\/problem\+json/);
      expect(refused.body.code, text).to.equal('validation.invalid_unicode');
      expect(refused.body.errors[0].field, text).to.equal(field);
    }
    await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send('{"name":"\\ud83d\\ude00"}')
      .expect(200, { body: { name: '\u{1F600}' } });
  });

  it('accepts exactly maxDepth levels and refuses one more with 400 validation.too_deep naming the bound', async function () {
    const app = echoApp({ maxDepth: 3 });
    await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send('{"a":[{"b":1}]}')
      .expect(200, { body: { a: [{ b: 1 }] } });
    const refused = await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send('{"a":[{"b":[]}]}')
      .expect(400);
    expect(refused.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(refused.body).to.include({
      status: 400,
      code: 'validation.too_deep',
      detail: 'The request body nests deeper than 3 levels.',
    });
  });

  it('refuses 40 000 levels by default (64) without a 500', async function () {
    const response = await request(echoApp({}))
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(nestedText(40_000))
      .expect(400);
    expect(response.body.code).to.equal('validation.too_deep');
    expect(response.body.detail).to.contain('64 levels');
    await request(echoApp({})).post('/echo').set('Content-Type', 'application/json').send(nestedText(64)).expect(200);
  });

  it('answers a body over the size limit with 413 problem+json', async function () {
    const response = await request(echoApp({ limit: '1kb' }))
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ text: 'x'.repeat(2000) }))
      .expect(413);
    expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(response.body).to.include({ status: 413, code: 'payload_too_large' });
  });

  it('checks the depth of a body an earlier parser already read, under its own bound', async function () {
    for (const first of [express.json(), jsonBody({ maxDepth: 64 })]) {
      const app = express();
      app.use(first, jsonBody({ maxDepth: 2 }));
      app.post('/echo', (_req, res) => {
        res.json({ ok: true });
      });
      app.use(errorHandler());
      const response = await request(app)
        .post('/echo')
        .set('Content-Type', 'application/json')
        .send(nestedText(3))
        .expect(400);
      expect(response.body.code).to.equal('validation.too_deep');
      expect(response.body.detail).to.contain('2 levels');
      await request(app).post('/echo').set('Content-Type', 'application/json').send(nestedText(2)).expect(200);
    }
  });

  it('validates its options at creation, naming the option', function () {
    const cases: [unknown, string][] = [
      [{ maxDepth: 0 }, 'maxDepth'],
      [{ maxDepth: 65 }, 'maxDepth'],
      [{ maxDepth: 2.5 }, 'maxDepth'],
      [{ maxDepth: '8' }, 'maxDepth'],
      [{ limit: '10xb' }, 'limit'],
      [{ limit: -1 }, 'limit'],
      [{ limit: 'lots' }, 'limit'],
      [{ maxDepht: 8 }, 'maxDepht'],
    ];
    for (const [options, option] of cases) {
      expect(() => jsonBody(options as JsonBodyOptions), JSON.stringify(options))
        .to.throw(ConfigError)
        .with.property('option', option);
    }
    expect(() => jsonBody({ limit: '1mb', maxDepth: 1 })).to.not.throw();
    expect(() => jsonBody({ limit: 2048 })).to.not.throw();
  });
});

describe('policyAdminRouter behind a plain express.json()', function () {
  let server: Server;
  let base: string;

  before(async function () {
    const app = express();
    // No depth bound at the parser: the policy reader's own bound must hold.
    app.use(requestContext(), express.json({ limit: '1mb' }));
    app.get('/health', (_req, res) => {
      res.json({ status: 'ok' });
    });
    // A full administrator, as authentication would put on the context: policy writes need one.
    app.use((req, _res, next) => {
      const context = contextOf(req);
      context.principal = { id: 'root', kind: 'user', groups: [], attributes: {} };
      context.permissions = { ...noPermissions(), allEndpoints: true };
      next();
    });
    app.use('/admin', policyAdminRouter({ store: new MemoryPolicyStore() }));
    app.use(notFoundHandler(), errorHandler());
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('refuses a 4 400-deep Not policy within 500 ms while /health keeps answering', async function () {
    const body = `{"effect":"allow","subjects":[${notChainText(4400)}],"actions":[{"type":"Any"}],"resources":[{"type":"Any"}]}`;
    const started = performance.now();
    const timed = async (promise: Promise<Response>) => {
      const response = await promise;
      return { response, text: await response.text(), elapsed: performance.now() - started };
    };
    const [policy, health] = await Promise.all([
      timed(
        fetch(`${base}/admin/policies/deep`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body }),
      ),
      timed(fetch(`${base}/health`)),
    ]);
    expect(policy.response.status, policy.text.slice(0, 300)).to.equal(400);
    expect(policy.response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(policy.text).to.contain('nests deeper than 64 levels');
    expect(policy.elapsed).to.be.below(500);
    expect(health.response.status).to.equal(200);
    expect(health.elapsed).to.be.below(500);
  });

  it('refuses a PUT without a body (empty, absent or {}) naming the missing body, and keeps the stored policy', async function () {
    const put = (body?: string, type = 'application/json') =>
      fetch(`${base}/admin/policies/kept`, {
        method: 'PUT',
        headers: type ? { 'Content-Type': type } : {},
        ...(body === undefined ? {} : { body }),
      });
    const stored = '{"effect":"allow","subjects":["admin"],"actions":["read"],"resources":["records"]}';
    expect((await put(stored)).status).to.equal(201);
    for (const [body, type] of [
      ['', 'application/json'],
      [undefined, 'application/json'],
      [undefined, ''],
      ['{}', 'application/json'],
    ] as const) {
      const response = await put(body, type);
      const problem = (await response.json()) as { code: string; detail: string };
      expect(response.status, `${JSON.stringify(body)} ${type}`).to.equal(400);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(problem.code).to.equal('validation.body');
      expect(problem.detail).to.match(/body/i);
    }
    const kept = (await (await fetch(`${base}/admin/policies/kept`)).json()) as { effect: string; subjects: string[] };
    expect(kept).to.include({ effect: 'allow' });
    expect(kept.subjects).to.deep.equal(['admin']);
  });
});

describe('auditTrail behind a plain express.json()', function () {
  it('records the event of a request whose body nests past the audit bound, without the body', async function () {
    const store = new MemoryAuditStore();
    const pipeline = await createAuditPipeline({ store, flushInterval: 0 });
    try {
      const app = express();
      app.use(requestContext(), express.json(), auditTrail({ pipeline }));
      app.post('/things', (_req, res) => {
        res.status(201).json({ ok: true });
      });
      await request(app).post('/things').set('Content-Type', 'application/json').send(nestedText(100)).expect(201);
      await pipeline.flush();
      const { events } = await store.list({ limit: 10, order: 'asc' });
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ method: 'POST', path: '/things', status: 201 });
      expect(events[0]!.data).to.deep.equal({ truncated: true, tooDeep: true });
    } finally {
      await pipeline.close();
    }
  });
});
