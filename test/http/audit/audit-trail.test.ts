// auditTrail() over HTTP: one event per CRUD request with the right fields, masked PII, denied requests too.
import { expect } from 'chai';
import request from 'supertest';
import { createAuditPipeline, type AuditPipeline } from '../../../src/audit/pipeline.js';
import type { AuditEvent } from '../../../src/audit/event.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { ConfigError } from '../../../src/errors.js';
import { auditedApp, keyMasker } from './app.js';

describe('auditTrail() over HTTP', function () {
  let store: MemoryAuditStore;
  let pipeline: AuditPipeline;
  let app: ReturnType<typeof auditedApp>;

  beforeEach(async function () {
    store = new MemoryAuditStore();
    pipeline = await createAuditPipeline({ store, masker: keyMasker(['email', 'ssn']), flushInterval: 0 });
    app = auditedApp(pipeline);
  });
  afterEach(async function () {
    await pipeline.close();
  });

  async function events(): Promise<AuditEvent[]> {
    await pipeline.flush();
    return (await store.list({ limit: 1000, order: 'asc' })).events;
  }

  it('records exactly one event per CRUD action with scoutr fields, decision, latency and changes', async function () {
    const created = await request(app)
      .post('/accounts')
      .set('x-user', 'alice')
      .set('x-key', 'key-1')
      .set('user-agent', 'curl/8')
      .set('x-request-id', 'req-1')
      .send({ name: 'Ann', email: 'ann@example.com', plan: 'free' })
      .expect(201);
    const id = created.body.id as string;
    await request(app).get('/accounts').query({ plan: 'free' }).set('x-user', 'alice').expect(200);
    await request(app).get(`/accounts/${id}`).set('x-user', 'alice').expect(200);
    await request(app)
      .put(`/accounts/${id}`)
      .set('x-user', 'bob')
      .send({ name: 'Ann', email: 'ann@new.example', plan: 'pro' })
      .expect(200);
    await request(app).delete(`/accounts/${id}`).set('x-user', 'bob').expect(204);

    const recorded = await events();
    expect(recorded.map((event) => event.action)).to.deep.equal(['CREATE', 'LIST', 'GET', 'UPDATE', 'DELETE']);
    const [create, list, get, update, remove] = recorded as [
      AuditEvent,
      AuditEvent,
      AuditEvent,
      AuditEvent,
      AuditEvent,
    ];
    expect(create).to.include({ resource: 'accounts', resourceId: id, method: 'POST', path: '/accounts', status: 201 });
    expect(create).to.include({ outcome: 'allowed', requestId: 'req-1' });
    expect(create.user).to.deep.equal({
      id: 'alice',
      kind: 'apiKey',
      name: 'Name of alice',
      apiKeyId: 'key-1',
      sourceIp: create.user!.sourceIp,
      userAgent: 'curl/8',
    });
    expect(create.user!.sourceIp).to.match(/127\.0\.0\.1|::1/);
    expect(create.decision).to.deep.equal({ allowed: true, deciders: ['p-allow'], reason: 'allowed' });
    expect(create.body).to.deep.equal({ name: 'Ann', email: '[masked]', plan: 'free' });
    expect(create.changes).to.deep.equal({ after: { id, name: 'Ann', email: '[masked]', plan: 'free' } });
    expect(create.data).to.deep.equal({ tenant: 'acme' });
    expect(create.latencyMs).to.be.a('number').and.at.least(0);
    expect(create.time).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(list.queryParams).to.deep.equal({ plan: 'free' });
    expect(list.resourceId).to.equal(undefined);
    expect(get).to.include({ action: 'GET', resourceId: id });
    expect(get.pathParams).to.deep.equal({ id });
    expect(update.changes).to.deep.equal({
      before: { email: '[masked]', plan: 'free' },
      after: { email: '[masked]', plan: 'pro' },
    });
    expect(update.user!.id).to.equal('bob');
    expect(remove).to.include({ status: 204, resourceId: id });
    expect(remove.changes!.before).to.include({ name: 'Ann', plan: 'pro' });
    expect(JSON.stringify(recorded)).not.to.contain('example');
  });

  it('keeps querystring keys such as __proto__ as data in the event, never as its prototype', async function () {
    await request(app).get('/accounts?__proto__=x&constructor=y&plan=free').set('x-user', 'alice').expect(200);
    const [list] = await events();
    const query = list!.queryParams as Record<string, unknown>;
    expect(Object.getPrototypeOf(query)).to.equal(Object.prototype);
    // This app's query parser (qs) drops __proto__ itself; plainCopy keeps it as data (unit test).
    expect(Object.keys(query).sort()).to.deep.equal(['constructor', 'plan']);
    expect(query.constructor).to.equal('y');
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });

  it('records a list cursor as a marker, never its value', async function () {
    const token = 'AV_6YfuvVG7KrG9PLQAAAAAAAAAAAAAABgC5T-opaque-cursor';
    await request(app).get(`/accounts?plan=free&cursor=${token}`).set('x-user', 'alice');
    const [list] = await events();
    expect(list!.queryParams).to.deep.equal({ plan: 'free', cursor: '[cursor]' });
    expect(JSON.stringify(list)).to.not.include(token);
  });

  it('records a denied request as a denied event with the deciding policy (403 through the error handler)', async function () {
    await request(app).put('/accounts/7').set('x-user', 'mallory').send({ ssn: '123-45-6789' }).expect(403);
    const [event] = await events();
    expect(event).to.include({ action: 'UPDATE', outcome: 'denied', status: 403, resourceId: '7' });
    expect(event!.decision).to.deep.equal({ allowed: false, deciders: ['p-deny'], reason: 'denied by policy' });
    expect(event!.pathParams).to.deep.equal({ id: '7' });
    expect(event!.body).to.deep.equal({ ssn: '[masked]' });
    expect(event!.user!.id).to.equal('mallory');
  });

  it('honours auditAs(): custom actions, opt-out, and records failures as failed', async function () {
    await request(app).post('/accounts/search').set('x-user', 'alice').send({}).expect(200);
    await request(app).post('/login').send({}).expect(200);
    await request(app).get('/health').expect(200);
    await request(app).get('/accounts/404').set('x-user', 'alice').expect(404);
    await request(app).get('/nowhere').expect(404);
    const recorded = await events();
    expect(recorded.map((event) => [event.action, event.resource, event.outcome, event.status])).to.deep.equal([
      ['SEARCH', 'accounts', 'allowed', 200],
      ['user.login', 'sessions', 'allowed', 200],
      ['GET', 'accounts', 'failed', 404],
    ]);
    expect(recorded[1]!.user).to.include({ id: 'anonymous' });
  });

  it('keeps the route and params of a plain route in a sub-router that fails through the error handler', async function () {
    const { default: express } = await import('express');
    const plain = express();
    plain.use(auditTrail({ pipeline }));
    plain.use((_req, _res, next) => next()); // a middleware layer matched before the route
    const things = express.Router();
    things.get('/:thingId/parts/:part', (_req, _res, next) => next(Object.assign(new Error('busy'), { status: 409 })));
    plain.use('/things', things);
    plain.use((_req: unknown, _res: unknown, next: () => void) => next()); // matched after leaving the router
    plain.use(
      (
        error: { status: number },
        _req: unknown,
        res: { status(code: number): { json(body: unknown): void } },
        _next: unknown,
      ) => res.status(error.status).json({ error: 'busy' }),
    );
    await request(plain).get('/things/t-1/parts/p-9?x=1').expect(409);
    await request(plain).get('/elsewhere').expect(404);
    const recorded = await events();
    expect(recorded).to.have.length(1);
    expect(recorded[0]).to.include({
      action: 'GET',
      resource: 'things',
      outcome: 'failed',
      status: 409,
      path: '/things/t-1/parts/p-9',
    });
    expect(recorded[0]!.pathParams).to.deep.equal({ thingId: 't-1', part: 'p-9' });
  });

  it('keeps the route and params whichever of req.route and req.params a router sets first', async function () {
    const { default: express } = await import('express');
    const plain = express();
    plain.use(auditTrail({ pipeline }));
    // A router of another shape: params first, then the route, then the answer.
    plain.use((req, res) => {
      req.params = { gadgetId: 'g-1' };
      (req as { route?: unknown }).route = { path: '/gadgets/:gadgetId' };
      res.status(409).json({ error: 'busy' });
    });
    await request(plain).get('/gadgets/g-1').expect(409);
    const recorded = await events();
    expect(recorded).to.have.length(1);
    expect(recorded[0]).to.include({ resource: 'gadgets', outcome: 'failed', status: 409 });
    expect(recorded[0]!.pathParams).to.deep.equal({ gadgetId: 'g-1' });
  });

  it('chains every event to the previous one of its stream', async function () {
    await request(app).post('/accounts').set('x-user', 'a').send({ n: 1 }).expect(201);
    await request(app).post('/accounts').set('x-user', 'a').send({ n: 2 }).expect(201);
    const [first, second] = await events();
    expect(second!.stream).to.equal(first!.stream);
    expect(second!.seq).to.equal(first!.seq + 1);
    expect(second!.prevHash).to.equal(first!.hash);
  });

  it('rejects bad options at creation, naming them', function () {
    expect(() => auditTrail({ pipeline, captureBodies: true } as never)).to.throw(
      ConfigError,
      /did you mean captureBody/,
    );
    expect(() => auditTrail({} as never)).to.throw(ConfigError, /pipeline/);
    expect(() => auditTrail(auditTrail as never)).to.throw(ConfigError, /call it with options/);
  });
});
