// The auth area over HTTP on real MongoDB and Redis: API keys, sessions, trusted-proxy claims, admin routes,
// login brute force, quotas, security headers and oversized headers.
import { expect } from 'chai';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Logger } from '../../../src/logger.js';
import { handleClientErrors } from '../../../middleware/client-error.js';
import { sharedMongo, sharedRedis, uniqueName } from '../../support/connections.js';
import { ADMIN_KEY, buildAuthApp, TEST_JWT_SECRET, type AuthApp } from './fixtures.js';

function expectProblem(response: request.Response, status: number) {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(response.headers['content-type']).to.match(/application\/problem\+json/);
  expect(response.body.status).to.equal(status);
  expect(JSON.stringify(response.body)).to.not.match(/stack|Mongo|Redis|ECONN/);
}

function expectInvalidCredentials(response: request.Response) {
  expectProblem(response, 401);
  expect(response.body.detail).to.equal('The credentials are not valid.');
  expect(response.headers['www-authenticate']).to.be.a('string');
}

describe('auth over HTTP (MongoDB principals, Redis cache, sessions and counters)', function () {
  let fixture: AuthApp;
  const warnings: Record<string, unknown>[] = [];
  const logger: Logger = { error() {}, warn: (o) => warnings.push(o), info() {}, debug() {} };

  before(async function () {
    fixture = await buildAuthApp({
      prefix: uniqueName('authhttp'),
      mongo: await sharedMongo(),
      redis: await sharedRedis(),
      logger,
      env: { RATE_LIMIT_LOGIN_MAX: '5' },
    });
    const admin = request(fixture.app);
    await admin
      .put('/admin/groups/readers')
      .set('X-API-Key', ADMIN_KEY)
      .send({
        permittedEndpoints: [
          { method: 'GET', path: '^/api/records$' },
          { method: 'POST', path: '^/api/uploads$' },
        ],
        filterFields: [{ field: 'team', value: 'blue' }],
      })
      .expect(201);
    await admin
      .put('/admin/principals/alice')
      .set('X-API-Key', ADMIN_KEY)
      .send({ name: 'Alice', groups: ['readers'], password: 'correct horse battery', attributes: { level: 2 } })
      .expect(201);
    await admin
      .put('/admin/principals/staff')
      .set('X-API-Key', ADMIN_KEY)
      .send({ type: 'oidcGroup', groups: ['readers'] })
      .expect(201);
  });

  after(async function () {
    await fixture.cleanup();
  });

  describe('API keys', function () {
    let token: string;
    let keyId: string;
    before(async function () {
      const created = await request(fixture.app)
        .post('/admin/principals/alice/api-keys')
        .set('X-API-Key', ADMIN_KEY)
        .send({ name: 'ci', scopes: ['records:read'] })
        .expect(201);
      token = created.body.key;
      keyId = created.body.id;
      expect(token).to.match(/^pc_[a-f0-9]{16}\.[A-Za-z0-9_-]{43}$/);
      expect(created.body).to.not.have.property('secretHash');
    });

    it('authenticates as the owner, with the key id and scopes, and the merged group grants', async function () {
      const response = await request(fixture.app).get('/api/whoami').set('X-API-Key', token).expect(200);
      expect(response.body.principal).to.include({ id: 'alice', kind: 'apiKey', apiKeyId: keyId });
      expect(response.body.principal.scopes).to.deep.equal(['records:read']);
      expect(response.body.permissions.filters).to.deep.equal([{ team: 'blue' }]);
      await request(fixture.app).get('/api/records').set('X-API-Key', token).expect(200);
    });

    it('the secret is shown only at creation: listings carry neither secret nor hash', async function () {
      const listed = await request(fixture.app).get('/admin/principals/alice/api-keys').set('X-API-Key', ADMIN_KEY);
      expect(JSON.stringify(listed.body)).to.not.include(token.split('.')[1]!);
      expect(JSON.stringify(listed.body)).to.not.match(/secretHash|scrypt\$/);
      expect(listed.body.items[0]).to.include({ id: keyId, principalId: 'alice' });
    });

    it('rejects a wrong secret, an unknown id, a malformed or oversized key, all alike', async function () {
      const [id] = token.split('.');
      expectInvalidCredentials(
        await request(fixture.app)
          .get('/api/whoami')
          .set('X-API-Key', `${id}.${'A'.repeat(43)}`),
      );
      expectInvalidCredentials(
        await request(fixture.app)
          .get('/api/whoami')
          .set('X-API-Key', `pc_0000000000000000.${'A'.repeat(43)}`),
      );
      expectInvalidCredentials(await request(fixture.app).get('/api/whoami').set('X-API-Key', 'short'));
      expectInvalidCredentials(await request(fixture.app).get('/api/whoami').set('X-API-Key', 'k'.repeat(600)));
    });

    it('a bad key is 401 even on a route that allows anonymous access', async function () {
      const anonymous = await request(fixture.app).get('/public').expect(200);
      expect(anonymous.body).to.include({ kind: 'anonymous' });
      expectInvalidCredentials(await request(fixture.app).get('/public').set('X-API-Key', 'wrong-key-0123456789'));
    });

    it('an expired key is refused', async function () {
      const created = await request(fixture.app)
        .post('/admin/principals/alice/api-keys')
        .set('X-API-Key', ADMIN_KEY)
        .send({ expiresInMs: 1000 })
        .expect(201);
      await request(fixture.app).get('/api/whoami').set('X-API-Key', created.body.key).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expectInvalidCredentials(await request(fixture.app).get('/api/whoami').set('X-API-Key', created.body.key));
    });

    it('a revoked key is refused at once', async function () {
      const created = await request(fixture.app)
        .post('/admin/principals/alice/api-keys')
        .set('X-API-Key', ADMIN_KEY)
        .expect(201);
      await request(fixture.app).get('/api/whoami').set('X-API-Key', created.body.key).expect(200);
      await request(fixture.app).delete(`/admin/api-keys/${created.body.id}`).set('X-API-Key', ADMIN_KEY).expect(204);
      expectInvalidCredentials(await request(fixture.app).get('/api/whoami').set('X-API-Key', created.body.key));
    });

    it('admin routes refuse a non-admin key with 403 and validate their input', async function () {
      expectProblem(await request(fixture.app).get('/admin/principals').set('X-API-Key', token), 403);
      const bad = await request(fixture.app)
        .put('/admin/principals/bob')
        .set('X-API-Key', ADMIN_KEY)
        .send({
          groups: 'readers',
          passwordHash: 'scrypt$1$1$1$x$y',
          permittedEndpoints: [{ method: 'GET', path: '(a)\\1' }],
        });
      expectProblem(bad, 400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['passwordHash']);
      const invalid = await request(fixture.app)
        .put('/admin/principals/bob')
        .set('X-API-Key', ADMIN_KEY)
        .send({ groups: 'readers', permittedEndpoints: [{ method: 'GET', path: '(a)\\1' }] });
      expectProblem(invalid, 400);
      expect(invalid.body.errors.map((e: { field: string }) => e.field)).to.deep.equal([
        'groups',
        'permittedEndpoints.0',
      ]);
    });
  });

  describe('sessions', function () {
    async function login(password = 'correct horse battery') {
      return request(fixture.app).post('/auth/login').send({ username: 'alice', password });
    }

    it('login issues a JWT naming a session; logout revokes it at once', async function () {
      const response = await login();
      expect(response.status).to.equal(201);
      const token = response.body.token as string;
      const claims = jwt.decode(token) as jwt.JwtPayload;
      expect(claims).to.include({ sub: 'alice', jti: response.body.sessionId, iss: 'portcullis' });
      const me = await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
      expect(me.body.principal).to.include({ id: 'alice', sessionId: response.body.sessionId });
      await request(fixture.app).post('/auth/logout').set('Authorization', `Bearer ${token}`).expect(204);
      // The JWT itself is still well signed and unexpired: only the session check refuses it.
      expect(() => jwt.verify(token, TEST_JWT_SECRET)).to.not.throw();
      expectInvalidCredentials(await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${token}`));
    });

    it('lists own sessions and revokes one or all of them', async function () {
      const first = (await login()).body;
      const second = (await login()).body;
      const bearer = `Bearer ${first.token}`;
      const listed = await request(fixture.app).get('/auth/sessions').set('Authorization', bearer).expect(200);
      const ids = listed.body.items.map((s: { id: string }) => s.id);
      expect(ids).to.include.members([first.sessionId, second.sessionId]);
      expect(listed.body.items.find((s: { id: string }) => s.id === first.sessionId).current).to.equal(true);
      await request(fixture.app).delete(`/auth/sessions/${second.sessionId}`).set('Authorization', bearer).expect(204);
      expectInvalidCredentials(
        await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${second.token}`),
      );
      const revoked = await request(fixture.app).delete('/auth/sessions').set('Authorization', bearer).expect(200);
      expect(revoked.body.revoked).to.be.at.least(1);
      expectInvalidCredentials(await request(fixture.app).get('/auth/me').set('Authorization', bearer));
    });

    it("cannot revoke another user's session (404, like a missing one)", async function () {
      const alice = (await login()).body;
      const admin = await request(fixture.app).delete(`/auth/sessions/${alice.sessionId}`).set('X-API-Key', ADMIN_KEY);
      expectProblem(admin, 404);
      await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${alice.token}`).expect(200);
    });

    it('a JWT without a session, or for a forged session id, is refused', async function () {
      const noSession = jwt.sign({ sub: 'alice', iss: 'portcullis' }, TEST_JWT_SECRET, { expiresIn: 60 });
      expectInvalidCredentials(await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${noSession}`));
      const forged = jwt.sign({ sub: 'alice', iss: 'portcullis', jti: 'made-up-session-id' }, TEST_JWT_SECRET, {
        expiresIn: 60,
      });
      expectInvalidCredentials(await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${forged}`));
      // A real session of alice presented with another subject.
      const alice = (await login()).body;
      const swapped = jwt.sign({ sub: 'admin', iss: 'portcullis', jti: alice.sessionId }, TEST_JWT_SECRET, {
        expiresIn: 60,
      });
      expectInvalidCredentials(await request(fixture.app).get('/auth/me').set('Authorization', `Bearer ${swapped}`));
    });

    it('"may I" answers from the effective permissions', async function () {
      const token = (await login()).body.token;
      const ask = (body: object) =>
        request(fixture.app).post('/auth/me/has-permission').set('Authorization', `Bearer ${token}`).send(body);
      expect((await ask({ method: 'GET', path: '/api/records' })).body.allowed).to.equal(true);
      expect((await ask({ method: 'DELETE', path: '/api/records' })).body.allowed).to.equal(false);
      expect((await ask({ method: 'GET', path: '/api/records?x=1' })).body.allowed).to.equal(true);
      expectProblem(await ask({ method: 'GET', path: { $ne: 1 } }), 400);
    });

    it('login brute force: wrong passwords for one user from one address hit the failure limit with 429 and Retry-After', async function () {
      const statuses: number[] = [];
      let last: request.Response | undefined;
      for (let i = 0; i < 7; i++) {
        last = await request(fixture.app)
          .post('/auth/login')
          .set('X-Forwarded-For', '203.0.113.9')
          .send({ username: 'alice', password: `guess-${i}` });
        statuses.push(last.status);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
      expectProblem(last!, 429);
      expect(Number(last!.headers['retry-after'])).to.be.within(1, 60);
      expect(last!.body.code).to.equal('rate_limited.failures');
      // The failure counters are in Redis, shared by every process.
      expect(await fixture.stores.rateLimit.forLimiter('failures-account').get('203.0.113.9|user:alice')).to.include({
        totalHits: 5,
      });
      // Another client (IP) is not affected.
      const other = await request(fixture.app)
        .post('/auth/login')
        .set('X-Forwarded-For', '203.0.113.10')
        .send({ username: 'alice', password: 'correct horse battery' });
      expect(other.status).to.equal(201);
    });

    it('login input is validated; unknown users and wrong passwords get the same answer', async function () {
      expectProblem(
        await request(fixture.app)
          .post('/auth/login')
          .send({ username: { $ne: '' }, password: 1 }),
        400,
      );
      const unknown = await request(fixture.app)
        .post('/auth/login')
        .set('X-Forwarded-For', '198.51.100.1')
        .send({ username: 'nobody', password: 'whatever1' });
      const wrong = await request(fixture.app)
        .post('/auth/login')
        .set('X-Forwarded-For', '198.51.100.1')
        .send({ username: 'alice', password: 'whatever1' });
      expectProblem(unknown, 401);
      expect(unknown.body.detail).to.equal(wrong.body.detail);
    });
  });

  describe('claims from a trusted proxy', function () {
    it('reads user, name, email and groups from the headers of a trusted proxy; OIDC groups grant', async function () {
      const response = await request(fixture.app)
        .get('/api/whoami')
        .set('X-OIDC-Sub', 'carol')
        .set('X-OIDC-Name', 'Carol')
        .set('X-OIDC-Email', 'carol@example.com')
        .set('X-OIDC-Groups', 'staff, unknown-group')
        .expect(200);
      expect(response.body.principal).to.include({ id: 'carol', kind: 'oidc', name: 'Carol' });
      expect(response.body.principal.groups).to.deep.equal(['staff', 'unknown-group']);
      expect(response.body.permissions.filters).to.deep.equal([{ team: 'blue' }]);
    });

    it('ignores and logs the headers when the peer is not a trusted proxy', async function () {
      const untrusted = await buildAuthApp({
        prefix: uniqueName('authproxy'),
        mongo: await sharedMongo(),
        redis: await sharedRedis(),
        logger,
        env: { TRUSTED_PROXIES: '10.9.8.7' },
      });
      try {
        warnings.length = 0;
        // Even a forwarded-for header naming the trusted proxy does not help: the TCP peer decides.
        const response = await request(untrusted.app)
          .get('/api/whoami')
          .set('X-OIDC-Sub', 'admin')
          .set('X-OIDC-Groups', 'staff')
          .set('X-Forwarded-For', '10.9.8.7');
        expectProblem(response, 401);
        expect(response.body.code).to.equal('authentication.required');
        expect(warnings.some((w) => w.code === 'auth.proxy_untrusted')).to.equal(true);
      } finally {
        await untrusted.cleanup();
      }
    });
  });

  describe('quotas', function () {
    it('allows N uses per period and then answers 429 with Retry-After; overrides per principal', async function () {
      const key = (
        await request(fixture.app).post('/admin/principals/alice/api-keys').set('X-API-Key', ADMIN_KEY).expect(201)
      ).body.key;
      const upload = () => request(fixture.app).post('/api/uploads').set('X-API-Key', key);
      expect((await upload()).headers['quota-remaining']).to.equal('1');
      await upload().expect(201);
      const refused = await upload();
      expectProblem(refused, 429);
      expect(refused.body.code).to.equal('rate_limited.quota');
      expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
      // An override on the principal record raises the allowance.
      const { body: bob } = await request(fixture.app)
        .put('/admin/principals/bob')
        .set('X-API-Key', ADMIN_KEY)
        .send({ groups: ['readers'], quotas: { upload: 4 } })
        .expect(201);
      expect(bob.quotas).to.deep.equal({ upload: 4 });
      const bobKey = (
        await request(fixture.app).post('/admin/principals/bob/api-keys').set('X-API-Key', ADMIN_KEY).expect(201)
      ).body.key;
      for (let i = 0; i < 4; i++) await request(fixture.app).post('/api/uploads').set('X-API-Key', bobKey).expect(201);
      expectProblem(await request(fixture.app).post('/api/uploads').set('X-API-Key', bobKey), 429);
    });
  });

  describe('headers', function () {
    it('sets API security headers', async function () {
      const response = await request(fixture.app).get('/public').expect(200);
      expect(response.headers['content-security-policy']).to.equal(
        "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
      );
      expect(response.headers['x-content-type-options']).to.equal('nosniff');
      expect(response.headers['x-frame-options']).to.equal('DENY');
      expect(response.headers['cache-control']).to.equal('no-store');
      expect(response.headers['strict-transport-security']).to.match(/max-age=31536000/);
    });

    it('answers oversized request headers with 431 problem+json', async function () {
      const server = handleClientErrors(fixture.app.listen(0, '127.0.0.1'));
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const raw = await new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.write(`GET /public HTTP/1.1\r\nHost: x\r\nX-API-Key: ${'a'.repeat(20_000)}\r\n\r\n`);
          });
          let data = '';
          socket.on('data', (chunk) => (data += chunk.toString()));
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        });
        expect(raw).to.match(/^HTTP\/1\.1 431 /);
        expect(raw).to.include('Content-Type: application/problem+json');
        expect(JSON.parse(raw.split('\r\n\r\n')[1]!)).to.include({ status: 431, code: 'headers_too_large' });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
