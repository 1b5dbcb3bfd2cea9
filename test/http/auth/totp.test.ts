// The TOTP second factor over HTTP on a fake clock: enrolment, the pending login, code windows and replays,
// recovery codes, the per-principal attempt limit, the administrator's bypass and the audit trail of each step.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import { TOTP } from 'otpauth';
import request from 'supertest';
import { auditTrail } from '../../../middleware/audit-trail.js';
import { authRouter } from '../../../middleware/auth-router.js';
import { apiKeyStrategy, jwtStrategy } from '../../../middleware/auth-strategies.js';
import { authenticate } from '../../../middleware/authenticate.js';
import { errorHandler, notFoundHandler } from '../../../middleware/error-handler.js';
import { failureLimit } from '../../../middleware/failure-limit.js';
import { bootstrapAdmin, principalAdminRouter } from '../../../middleware/principal-admin-router.js';
import { requestContext } from '../../../middleware/request-context.js';
import { ApiKeyHasher } from '../../../src/auth/api-keys.js';
import { createJwtSigner, createJwtVerifier } from '../../../src/auth/jwt.js';
import { scryptHash } from '../../../src/auth/secrets.js';
import { createTotp } from '../../../src/auth/totp.js';
import { createAuditPipeline, type AuditPipeline } from '../../../src/audit/pipeline.js';
import type { AuditEvent } from '../../../src/audit/event.js';
import type { PrincipalStore } from '../../../src/contracts/principals.js';
import { createKeyRing } from '../../../src/pii/key-ring.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { MemoryPrincipalStore } from '../../../stores/memory/principals.js';
import { MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';
import { MemorySessionStore } from '../../../stores/memory/sessions.js';
import { MongoPrincipalStore } from '../../../stores/mongodb/principals.js';
import { sharedMongo, uniqueName } from '../../support/connections.js';

const SECRET = 'totp-test-jwt-secret-with-at-least-32-characters';
const ADMIN_KEY = 'admin-key-for-the-totp-tests-0123456789';
const DEPUTY_KEY = 'deputy-key-for-the-totp-tests-0123456789';
const STEP = 30_000;
const MAX_ATTEMPTS = 5;
const ATTEMPT_WINDOW = 15 * 60_000;
const PENDING_TTL = 5 * 60_000;

interface Backend {
  name: string;
  create(): Promise<{
    principals: PrincipalStore;
    raw(principalId: string): Promise<unknown>;
    cleanup(): Promise<void>;
  }>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    async create() {
      const principals = new MemoryPrincipalStore();
      return { principals, raw: (id) => principals.getSecondFactor(id), cleanup: async () => undefined };
    },
  },
  {
    name: 'mongodb',
    async create() {
      const connection: Connection = await sharedMongo();
      const prefix = `${uniqueName('totp')}_`;
      const principals = new MongoPrincipalStore({ connection, prefix });
      await principals.init();
      return {
        principals,
        raw: (id) => connection.collection(`${prefix}second_factors`).findOne({ _id: id as never }),
        async cleanup() {
          for (const suffix of ['principals', 'groups', 'api_keys', 'second_factors', 'second_factor_claims']) {
            await connection.dropCollection(prefix + suffix).catch(() => false);
          }
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`TOTP second factor over HTTP (${backend.name} principals, fake clock)`, function () {
    this.timeout(60_000);
    // On a step boundary plus 5 s, so that "the previous step" is exactly one period back.
    let time = 0;
    const now = () => time;
    let app: Express;
    let principals: PrincipalStore;
    let raw: (id: string) => Promise<unknown>;
    let cleanup: () => Promise<void>;
    let pipeline: AuditPipeline;
    let audit: MemoryAuditStore;
    let sessions: MemorySessionStore;
    const firstKey = { version: 1, key: randomBytes(32) };
    const totp = createTotp({ keys: createKeyRing([firstKey]), now });

    function buildApp(withSecondFactor: boolean, engine = totp): Express {
      const hasher = new ApiKeyHasher();
      const rateLimit = new MemoryRateLimitStore({ now });
      const signer = createJwtSigner({ algorithm: 'HS256', secret: SECRET });
      const verifier = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET });
      const strategies = [
        apiKeyStrategy({ store: principals, hasher, now }),
        jwtStrategy({ verifier, store: principals, sessions, now }),
      ];
      const required = authenticate({ strategies });
      const server = express();
      server.set('trust proxy', true);
      server.use(requestContext(), express.json());
      server.use(auditTrail({ pipeline }));
      server.use(
        '/auth',
        authRouter({
          principals,
          sessions,
          signer,
          authenticate: required,
          failures: failureLimit({ store: rateLimit }),
          ...(withSecondFactor
            ? {
                secondFactor: {
                  totp: engine,
                  failures: failureLimit({
                    name: 'totp',
                    store: rateLimit,
                    accountAcrossAddresses: true,
                    accountLimit: MAX_ATTEMPTS,
                    windowMs: ATTEMPT_WINDOW,
                  }),
                  pendingTtlMs: PENDING_TTL,
                  now,
                },
              }
            : {}),
        }),
      );
      server.use('/admin', principalAdminRouter({ principals, authenticate: required, hasher, now }));
      server.use(notFoundHandler(), errorHandler());
      return server;
    }

    beforeEach(async function () {
      time = Math.floor(Date.now() / STEP) * STEP + 5_000;
      ({ principals, raw, cleanup } = await backend.create());
      audit = new MemoryAuditStore();
      pipeline = await createAuditPipeline({ store: audit, flushInterval: 0 });
      sessions = new MemorySessionStore({ now });
      const passwordHash = await scryptHash('ana-password-123');
      await principals.savePrincipal({
        id: 'ana',
        type: 'user',
        email: 'ana@example.com',
        groups: [],
        attributes: {},
        passwordHash,
        permittedEndpoints: [{ method: 'GET', path: '^/admin/.*$' }],
      });
      await principals.savePrincipal({
        id: 'boss',
        type: 'user',
        groups: [],
        attributes: {},
        passwordHash,
        admin: true,
      });
      await principals.savePrincipal({
        id: 'deputy',
        type: 'user',
        groups: [],
        attributes: {},
        permittedEndpoints: [{ method: '*', path: '^/admin/.*$' }],
      });
      await bootstrapAdmin({ principals, apiKey: ADMIN_KEY });
      await bootstrapAdmin({ principals, apiKey: DEPUTY_KEY, principalId: 'deputy', attributes: {} });
      // bootstrapAdmin makes its principal a full admin: the deputy is put back to its endpoints.
      const deputy = (await principals.getPrincipal('deputy'))!;
      await principals.savePrincipal({ ...deputy, admin: false });
      app = buildApp(true);
    });

    afterEach(async function () {
      await pipeline.close();
      await cleanup();
    });

    const codeAt = (secret: string, at: number) => new TOTP({ secret }).generate({ timestamp: at });
    const password = (username: string, from = '192.0.2.1') =>
      request(app).post('/auth/login').set('X-Forwarded-For', from).send({ username, password: 'ana-password-123' });
    const second = (body: Record<string, unknown>, from = '192.0.2.1') =>
      request(app).post('/auth/login/totp').set('X-Forwarded-For', from).send(body);

    async function pendingToken(username = 'ana'): Promise<string> {
      const response = await password(username);
      expect(response.status, JSON.stringify(response.body)).to.equal(202);
      return response.body.pendingToken as string;
    }

    async function sessionToken(username = 'ana'): Promise<string> {
      const response = await password(username).expect(201);
      return response.body.token as string;
    }

    /** Enrols `username` at the current time (using this step), then moves the clock one step on. */
    async function enrol(username = 'ana'): Promise<{ secret: string; recoveryCodes: string[] }> {
      const bearer = `Bearer ${await sessionToken(username)}`;
      const started = await request(app).post('/auth/totp').set('Authorization', bearer).expect(201);
      const secret = started.body.secret as string;
      const confirmed = await request(app)
        .post('/auth/totp/confirm')
        .set('Authorization', bearer)
        .send({ code: codeAt(secret, time) })
        .expect(200);
      time += STEP;
      return { secret, recoveryCodes: confirmed.body.recoveryCodes as string[] };
    }

    async function events(): Promise<AuditEvent[]> {
      await pipeline.flush();
      return (await audit.list({ limit: 1000, order: 'asc' })).events;
    }

    it('enrols: the secret once as text, otpauth:// URI and SVG QR code, confirmed by a first code', async function () {
      const bearer = `Bearer ${await sessionToken()}`;
      const started = await request(app).post('/auth/totp').set('Authorization', bearer).expect(201);
      expect(started.headers['cache-control']).to.equal('no-store');
      const { secret, otpauthUri, qrCodeSvg } = started.body as {
        secret: string;
        otpauthUri: string;
        qrCodeSvg: string;
      };
      expect(secret).to.match(/^[A-Z2-7]{32}$/);
      expect(otpauthUri).to.equal(
        `otpauth://totp/Portcullis:ana%40example.com?issuer=Portcullis&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
      );
      expect(qrCodeSvg).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>.*<\/svg>\s*$/s);
      expect((await request(app).get('/auth/totp').set('Authorization', bearer).expect(200)).body).to.deep.equal({
        enrolled: false,
        pending: true,
        recoveryCodesLeft: 0,
      });
      // Until confirmed, the password alone still logs in.
      await password('ana').expect(201);

      const wrong = await request(app)
        .post('/auth/totp/confirm')
        .set('Authorization', bearer)
        .send({ code: codeAt(secret, time + 10 * STEP) });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.code).to.equal('authentication.totp_failed');
      const confirmed = await request(app)
        .post('/auth/totp/confirm')
        .set('Authorization', bearer)
        .send({ code: codeAt(secret, time) })
        .expect(200);
      expect(confirmed.body.recoveryCodes).to.have.length(10);
      for (const code of confirmed.body.recoveryCodes) expect(code).to.match(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
      expect((await request(app).get('/auth/totp').set('Authorization', bearer).expect(200)).body).to.deep.equal({
        enrolled: true,
        pending: false,
        recoveryCodesLeft: 10,
      });
      const again = await request(app).post('/auth/totp').set('Authorization', bearer).expect(409);
      expect(again.body.code).to.equal('conflict.totp_enrolled');
      expect((await password('ana')).status, 'the password alone no longer logs in').to.equal(202);
    });

    it('keeps the secret as ciphertext in the store, and recovery codes only as hashes', async function () {
      const { secret, recoveryCodes } = await enrol();
      const stored = JSON.stringify(await raw('ana'));
      expect(stored).to.match(/"secret":"pc1:1:s:/);
      expect(stored).to.not.include(secret);
      for (const code of recoveryCodes) {
        expect(stored).to.not.include(code);
        expect(stored.toLowerCase()).to.not.include(code.replace(/-/g, ''));
      }
    });

    it('accepts codes of the previous and next step, refuses older ones, and never accepts a code twice', async function () {
      const { secret } = await enrol();
      time += 2 * STEP;
      const previous = codeAt(secret, time - STEP);
      expect((await second({ pendingToken: await pendingToken(), code: previous })).status).to.equal(201);
      const token = await pendingToken();
      const replay = await second({ pendingToken: token, code: previous });
      expect(replay.status, 'the same code again').to.equal(401);
      expect(replay.body.code).to.equal('authentication.totp_failed');
      expect((await second({ pendingToken: token, code: codeAt(secret, time + STEP) })).status).to.equal(201);
      const current = await second({ pendingToken: await pendingToken(), code: codeAt(secret, time) });
      expect(current.status, 'a step before the last one used').to.equal(401);

      time += 3 * STEP;
      const later = await pendingToken();
      expect((await second({ pendingToken: later, code: codeAt(secret, time - 2 * STEP) })).status).to.equal(401);
      expect((await second({ pendingToken: later, code: codeAt(secret, time + 2 * STEP) })).status).to.equal(401);
      const ok = await second({ pendingToken: later, code: ` ${codeAt(secret, time).replace(/^(...)/, '$1 ')} ` });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      expect(ok.body).to.include({ tokenType: 'Bearer', recoveryCodesLeft: 10 });
      await request(app).get('/auth/me').set('Authorization', `Bearer ${ok.body.token}`).expect(200);
    });

    it('the pending login grants nothing but the code step, and expires', async function () {
      const { secret } = await enrol();
      const token = await pendingToken();
      for (const header of [
        ['Authorization', `Bearer ${token}`],
        ['X-API-Key', token],
      ] as const) {
        await request(app).get('/auth/me').set(header[0], header[1]).expect(401);
        await request(app).get('/auth/totp').set(header[0], header[1]).expect(401);
        await request(app).get('/admin/principals').set(header[0], header[1]).expect(401);
      }
      const bearer = `Bearer ${
        (
          await request(app)
            .post('/auth/login/totp')
            .send({ pendingToken: token, code: codeAt(secret, time) })
            .expect(201)
        ).body.token
      }`;
      await pendingToken();
      const listed = await request(app).get('/auth/sessions').set('Authorization', bearer).expect(200);
      // The session of the enrolment and this one; the pending login waiting for its code is no session.
      expect(listed.body.items, 'pending logins are not sessions').to.have.length(2);

      time += STEP;
      const late = await pendingToken();
      time += PENDING_TTL - 1000;
      expect((await second({ pendingToken: late, code: codeAt(secret, time) })).status, 'just in time').to.equal(201);
      time += STEP;
      const expired = await pendingToken();
      time += PENDING_TTL;
      const refused = await second({ pendingToken: expired, code: codeAt(secret, time) });
      expect(refused.status).to.equal(401);
      expect(refused.body.code).to.equal('authentication.pending_invalid');
    });

    it('refuses forged, malformed and replayed pending tokens', async function () {
      const { secret } = await enrol();
      const forged = await second({ pendingToken: randomBytes(32).toString('base64url'), code: codeAt(secret, time) });
      expect(forged.status).to.equal(401);
      expect(forged.body.code).to.equal('authentication.pending_invalid');
      const malformed = await second({ pendingToken: 'nope', code: codeAt(secret, time) });
      expect(malformed.status).to.equal(400);
      expect(malformed.type).to.equal('application/problem+json');
      expect(malformed.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['pendingToken']);
      const both = await second({ pendingToken: 'x'.repeat(43), code: '123456', recoveryCode: 'abcd' });
      expect(both.status).to.equal(400);
      expect((await second({ pendingToken: 'x'.repeat(43), code: { $gt: '' } })).status).to.equal(400);

      const token = await pendingToken();
      await second({ pendingToken: token, code: codeAt(secret, time) }).expect(201);
      time += STEP;
      const replayed = await second({ pendingToken: token, code: codeAt(secret, time) });
      expect(replayed.status, 'a completed pending login is gone').to.equal(401);
      expect(replayed.body.code).to.equal('authentication.pending_invalid');
      // Two completions of one pending login at once: one session only.
      time += STEP;
      const raced = await pendingToken();
      const results = await Promise.all([
        second({ pendingToken: raced, code: codeAt(secret, time) }),
        second({ pendingToken: raced, code: codeAt(secret, time + STEP) }),
      ]);
      expect(results.map((r) => r.status).sort()).to.deep.equal([201, 401]);
    });

    it('recovery codes log in once each, whatever their case or dashes', async function () {
      const { recoveryCodes } = await enrol();
      const [first, other] = recoveryCodes as [string, string];
      const used = await second({ pendingToken: await pendingToken(), recoveryCode: first }).expect(201);
      expect(used.body.recoveryCodesLeft).to.equal(9);
      const token = await pendingToken();
      const again = await second({ pendingToken: token, recoveryCode: first });
      expect(again.status).to.equal(401);
      expect(again.body.code).to.equal('authentication.totp_failed');
      const typed = other.toUpperCase().replace(/-/g, ' ');
      expect((await second({ pendingToken: token, recoveryCode: typed })).body.recoveryCodesLeft).to.equal(8);
    });

    it('limits wrong codes per principal across addresses, until the attempt window passes', async function () {
      const { secret } = await enrol();
      const wrong = String((Number(codeAt(secret, time)) + 1) % 1_000_000).padStart(6, '0');
      const statuses: number[] = [];
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        statuses.push(
          (await second({ pendingToken: await pendingToken(), code: wrong }, `198.51.100.${i + 1}`)).status,
        );
      }
      expect(statuses).to.deep.equal(Array(MAX_ATTEMPTS).fill(401));
      const blocked = await second({ pendingToken: await pendingToken(), code: codeAt(secret, time) }, '203.0.113.9');
      expect(blocked.status, 'the right code from a new address is not even checked').to.equal(429);
      expect(blocked.body.code).to.equal('rate_limited.failures');
      // A guesser going on past the limit stays visible in the principal's own trail.
      const limited = (await events()).filter((e) => e.status === 429);
      expect(limited.map((e) => [e.action, e.resource, e.resourceId, e.data?.reason])).to.deep.equal([
        ['auth.totp.failed', 'auth', 'ana', 'limited'],
      ]);
      // Another principal is not affected.
      await enrol('boss');
      time += ATTEMPT_WINDOW;
      const later = await second({ pendingToken: await pendingToken(), code: codeAt(secret, time) }, '203.0.113.9');
      expect(later.status, JSON.stringify(later.body)).to.equal(201);
    });

    it('an administrator grants a bypass for a time (audited); a lesser one cannot for a greater principal', async function () {
      const { secret } = await enrol();
      await enrol('boss');
      const deputy = await request(app)
        .put('/admin/principals/boss/totp-bypass')
        .set('X-API-Key', DEPUTY_KEY)
        .send({ durationMs: 3_600_000 });
      expect(deputy.status).to.equal(403);
      expect(deputy.body.code).to.equal('forbidden.escalation');
      const byDeputy = await request(app)
        .put('/admin/principals/ana/totp-bypass')
        .set('X-API-Key', DEPUTY_KEY)
        .send({ durationMs: 600_000 })
        .expect(200);
      expect(byDeputy.body).to.deep.equal({
        principalId: 'ana',
        bypassUntil: new Date(time + 600_000).toISOString(),
        grantedBy: 'deputy',
      });
      const tooLong = await request(app)
        .put('/admin/principals/ana/totp-bypass')
        .set('X-API-Key', ADMIN_KEY)
        .send({ durationMs: 30 * 86_400_000 });
      expect(tooLong.status).to.equal(400);
      await request(app).put('/admin/principals/deputy/totp-bypass').set('X-API-Key', ADMIN_KEY).send({}).expect(404);

      expect((await password('ana')).status, 'bypassed: the password alone').to.equal(201);
      time += 600_000;
      expect((await password('ana')).status, 'the bypass has ended').to.equal(202);

      await request(app).put('/admin/principals/ana/totp-bypass').set('X-API-Key', ADMIN_KEY).send({}).expect(200);
      const bearer = `Bearer ${(await password('ana').expect(201)).body.token}`;
      expect((await request(app).get('/auth/totp').set('Authorization', bearer)).body.bypassUntil).to.equal(
        new Date(time + 3_600_000).toISOString(),
      );
      const view = async (id: string) =>
        (await request(app).get(`/admin/principals/${id}`).set('X-API-Key', ADMIN_KEY).expect(200)).body;
      const during = await view('ana');
      expect(during.secondFactor).to.deep.equal({
        enrolled: true,
        bypassUntil: new Date(time + 3_600_000).toISOString(),
        bypassGrantedBy: 'admin',
      });
      expect(JSON.stringify(during)).to.not.include(secret).and.not.include('recoveryCodes');
      await request(app).delete('/admin/principals/ana/totp-bypass').set('X-API-Key', ADMIN_KEY).expect(204);
      expect((await password('ana')).status, 'revoked').to.equal(202);
      expect((await view('ana')).secondFactor).to.deep.equal({ enrolled: true });
      expect((await view('deputy')).secondFactor).to.deep.equal({ enrolled: false });
      void secret;

      const recorded = await events();
      const bypasses = recorded.filter((event) => event.action.startsWith('auth.totp.bypass'));
      expect(bypasses.map((e) => [e.action, e.resourceId, e.user?.id, e.status])).to.deep.equal([
        ['auth.totp.bypass_granted', 'boss', 'deputy', 403],
        ['auth.totp.bypass_granted', 'ana', 'deputy', 200],
        ['auth.totp.bypass_granted', 'ana', 'admin', 400],
        ['auth.totp.bypass_granted', 'deputy', 'admin', 404],
        ['auth.totp.bypassed', 'ana', 'anonymous', 201],
        ['auth.totp.bypass_granted', 'ana', 'admin', 200],
        ['auth.totp.bypassed', 'ana', 'anonymous', 201],
        ['auth.totp.bypass_revoked', 'ana', 'admin', 204],
      ]);
    });

    it('a bypass lets the principal remove the factor it lost; otherwise removal takes a code', async function () {
      const { secret } = await enrol();
      const bearer = `Bearer ${(await second({ pendingToken: await pendingToken(), code: codeAt(secret, time) }).expect(201)).body.token}`;
      const without = await request(app).delete('/auth/totp').set('Authorization', bearer).send({});
      expect(without.status).to.equal(400);
      await request(app).put('/admin/principals/ana/totp-bypass').set('X-API-Key', ADMIN_KEY).send({}).expect(200);
      await request(app).delete('/auth/totp').set('Authorization', bearer).send({}).expect(204);
      expect(await principals.getSecondFactor('ana')).to.equal(undefined);
      await password('ana').expect(201);
    });

    it('records an audit event for every step, without codes or pending tokens', async function () {
      const { secret, recoveryCodes } = await enrol();
      const token = await pendingToken();
      await second({ pendingToken: token, code: '000000' });
      await second({ pendingToken: token, code: codeAt(secret, time) }).expect(201);
      await second({ pendingToken: await pendingToken(), recoveryCode: recoveryCodes[0] }).expect(201);
      await request(app).post('/auth/login').send({ username: 'ana', password: 'wrong-password' }).expect(401);
      const recorded = await events();
      expect(recorded.map((e) => [e.action, e.resourceId, e.status])).to.deep.equal([
        ['auth.login', 'ana', 201],
        ['auth.totp.enrolment_started', 'ana', 201],
        ['auth.totp.enrolled', 'ana', 200],
        ['auth.totp.required', 'ana', 202],
        ['auth.totp.failed', 'ana', 401],
        ['auth.login', 'ana', 201],
        ['auth.totp.required', 'ana', 202],
        ['auth.login', 'ana', 201],
        ['auth.login_failed', 'ana', 401],
      ]);
      expect(recorded[5]!.data).to.include({ secondFactor: 'totp' });
      expect(recorded[7]!.data).to.include({ secondFactor: 'recovery_code', recoveryCodesLeft: 9 });
      const text = JSON.stringify(recorded);
      expect(text).to.not.include(token);
      expect(text).to.not.include(recoveryCodes[0]);
      expect(text).to.not.include(secret);
    });

    it('without the second factor configured, a principal who has one cannot log in with the password alone', async function () {
      await enrol();
      app = buildApp(false);
      const refused = await password('ana');
      expect(refused.status).to.equal(401);
      expect(refused.body.code).to.equal('authentication.totp_unavailable');
    });

    it('moves a secret onto the current key when it is used; one whose key is gone leaves recovery codes', async function () {
      const { secret, recoveryCodes } = await enrol();
      expect(JSON.stringify(await raw('ana'))).to.match(/"secret":"pc1:1:s:/);
      const secondKey = { version: 2, key: randomBytes(32) };
      app = buildApp(true, createTotp({ keys: createKeyRing([firstKey, secondKey]), now }));
      await second({ pendingToken: await pendingToken(), code: codeAt(secret, time) }).expect(201);
      expect(JSON.stringify(await raw('ana')), 'rotated on use').to.match(/"secret":"pc1:2:s:/);

      // Only the new key: codes still work. Only an unrelated key: the code step fails (logged), recovery works.
      time += STEP;
      app = buildApp(true, createTotp({ keys: createKeyRing([secondKey]), now }));
      await second({ pendingToken: await pendingToken(), code: codeAt(secret, time) }).expect(201);
      time += STEP;
      app = buildApp(true, createTotp({ keys: createKeyRing([{ version: 3, key: randomBytes(32) }]), now }));
      const token = await pendingToken();
      const lost = await second({ pendingToken: token, code: codeAt(secret, time) });
      expect(lost.status).to.equal(401);
      expect(lost.body.code).to.equal('authentication.totp_failed');
      await second({ pendingToken: token, recoveryCode: recoveryCodes[0] }).expect(201);
    });
  });
}
