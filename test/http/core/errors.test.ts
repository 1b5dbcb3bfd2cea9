// The error handler: problem+json for every failure, no stack traces or driver messages, 5xx logged.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RateLimitedError,
  StoreUnavailableError,
  ValidationError,
} from '../../../src/errors.js';
import type { Logger } from '../../../src/logger.js';
import { errorHandler, notFoundHandler } from '../../../middleware/error-handler.js';
import { requestContext } from '../../../middleware/request-context.js';

function buildApp(logged: Record<string, unknown>[]) {
  const logger: Logger = {
    error: (object) => logged.push(object),
    warn() {},
    info() {},
    debug() {},
  };
  const app = express();
  app.use(requestContext());
  app.use(express.json({ limit: '1kb' }));
  const errors: Record<string, () => Error> = {
    validation: () =>
      new ValidationError('Invalid account.', { errors: [{ field: 'age', message: 'must be a number' }] }),
    authentication: () => new AuthenticationError('Invalid token.', { challenge: 'Bearer error="invalid_token"' }),
    forbidden: () => new ForbiddenError(),
    notfound: () => new NotFoundError(),
    conflict: () => new ConflictError('Already exists.'),
    precondition: () => new PreconditionFailedError(),
    toolarge: () => new PayloadTooLargeError(),
    ratelimited: () => new RateLimitedError(12.2),
    unavailable: () =>
      new StoreUnavailableError('mongodb', { cause: new Error('connect ECONNREFUSED 10.0.0.5:27017') }),
    crash: () => new TypeError("Cannot read properties of undefined (reading 'x') at secret.ts:12"),
  };
  app.get('/many-problems', () => {
    const fields = Array.from({ length: 5000 }, (_, i) => `field_${i}`);
    throw new ValidationError(fields.map((field) => `You may not update "${field}".`).join(' '), {
      errors: fields.map((field) => ({ field, message: 'not allowed' })),
    });
  });
  app.get('/missing/:id', (req) => {
    throw new NotFoundError(`No account "${req.params.id}".`, {
      errors: [{ field: `notes\u202e${req.params.id}`, message: `unknown field "${req.params.id}"` }],
    });
  });
  app.get('/throw/:kind', (req) => {
    throw errors[req.params.kind as string]!();
  });
  app.get('/reject', async () => {
    await Promise.resolve();
    throw new Error('MongoServerError: E11000 duplicate key error collection: prod.users');
  });
  app.post('/echo', (req, res) => {
    res.json(req.body);
  });
  app.use(notFoundHandler());
  app.use(errorHandler({ logger }));
  return app;
}

describe('errorHandler', function () {
  const logged: Record<string, unknown>[] = [];
  const app = buildApp(logged);
  beforeEach(() => logged.splice(0));

  const cases: [string, number, string][] = [
    ['validation', 400, 'Bad Request'],
    ['authentication', 401, 'Unauthorized'],
    ['forbidden', 403, 'Forbidden'],
    ['notfound', 404, 'Not Found'],
    ['conflict', 409, 'Conflict'],
    ['precondition', 412, 'Precondition Failed'],
    ['toolarge', 413, 'Content Too Large'],
    ['ratelimited', 429, 'Too Many Requests'],
    ['unavailable', 503, 'Service Unavailable'],
  ];
  for (const [kind, status, title] of cases) {
    it(`renders ${kind} as ${status} problem+json`, async function () {
      const response = await request(app).get(`/throw/${kind}`);
      expect(response.status).to.equal(status);
      expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(response.body).to.include({ status, title });
      expect(response.body.type).to.be.a('string');
      expect(response.body.detail).to.be.a('string');
      expect(response.body.requestId).to.equal(response.headers['x-request-id']);
    });
  }

  it('lists each field of a validation error', async function () {
    const response = await request(app).get('/throw/validation');
    expect(response.body.errors).to.deep.equal([{ field: 'age', message: 'must be a number' }]);
  });

  it('bounds an answer naming thousands of problems: the first 1 000 and how many were left out', async function () {
    const response = await request(app).get('/many-problems').expect(400);
    expect(response.body.errors).to.have.length(1000);
    expect(response.body.errors[999].field).to.equal('field_999');
    expect(response.body.errorsOmitted).to.equal(4000);
    expect(response.body.detail.length).to.be.at.most(2001);
    expect(response.text.length).to.be.lessThan(100_000);
  });

  it('sets WWW-Authenticate on 401 and Retry-After on 429 and 503', async function () {
    expect((await request(app).get('/throw/authentication')).headers['www-authenticate']).to.equal(
      'Bearer error="invalid_token"',
    );
    expect((await request(app).get('/throw/ratelimited')).headers['retry-after']).to.equal('13');
    expect((await request(app).get('/throw/unavailable')).headers['retry-after']).to.equal('5');
  });

  it('never leaks the driver message of a 503', async function () {
    const response = await request(app).get('/throw/unavailable');
    expect(response.text).to.not.include('ECONNREFUSED').and.not.include('10.0.0.5');
  });

  it('answers an unexpected error with a generic 500, no stack, and logs it with the request id', async function () {
    for (const path of ['/throw/crash', '/reject']) {
      const response = await request(app).get(path).set('X-Request-Id', 'req-abc-123');
      expect(response.status).to.equal(500);
      expect(response.text).to.not.match(/secret\.ts|E11000|duplicate key|at \w+/);
      expect(response.body.requestId).to.equal('req-abc-123');
    }
    expect(logged).to.have.length(2);
    expect(logged[0]).to.include({ requestId: 'req-abc-123', path: '/throw/crash' });
  });

  it('answers malformed JSON with 400 naming the problem', async function () {
    const response = await request(app).post('/echo').set('Content-Type', 'application/json').send('{"a": ');
    expect(response.status).to.equal(400);
    expect(response.body.detail).to.equal('The request body is not valid JSON.');
    expect(logged).to.have.length(0);
  });

  it('answers an oversized body with 413', async function () {
    const response = await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ text: 'x'.repeat(5000) }));
    expect(response.status).to.equal(413);
    expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('answers an unsupported charset with 415', async function () {
    const response = await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json; charset=klingon')
      .send('{}');
    expect(response.status).to.equal(415);
  });

  it('shows invisible and direction characters of echoed input as escapes, never raw', async function () {
    // U+202E turns the rest of a line around where the answer is displayed: "gnp.exe" reads as "exe.png".
    const id = 'acc_1\u202egnp.exe\u200b\u0007';
    const response = await request(app)
      .get(`/missing/${encodeURIComponent(id)}`)
      .expect(404);
    expect(response.body.detail).to.equal('No account "acc_1\\u{202e}gnp.exe\\u{200b}\\u{7}".');
    expect(response.body.errors[0].field).to.equal('notes\\u{202e}acc_1\\u{202e}gnp.exe\\u{200b}\\u{7}');
    for (const raw of ['\u202e', '\u200b', '\u0007', '\\u202e']) expect(response.text).not.to.include(raw);
  });

  it('answers unknown routes with 404 naming the route', async function () {
    const response = await request(app).delete('/nowhere');
    expect(response.status).to.equal(404);
    expect(response.body.detail).to.equal('No route for DELETE /nowhere.');
  });

  it('replaces an unsafe caller request id with a fresh one', async function () {
    const response = await request(app).get('/nowhere').set('X-Request-Id', 'evil <script>alert(1)</script>');
    expect(response.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });
});
