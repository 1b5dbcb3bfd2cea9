// The TOTP second factor as createPortcullis builds it from the configuration: on with ENCRYPTION_KEYS, its
// answers not masked away by the PII masker, its steps in the audit store without codes or tokens.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { TOTP } from 'otpauth';
import request from 'supertest';
import { createLogger, createPortcullis, loadConfig, parsePolicies, type Portcullis } from 'portcullis';

const policies = parsePolicies(`
- uid: admins-do-anything
  effect: allow
  subjects: [{ role: { type: Eq, value: admin } }]
  actions: [{ type: Any }]
  resources: [{ type: Any }]
`);

describe('TOTP second factor from the configuration (createPortcullis)', function () {
  this.timeout(60_000);
  const adminKey = `admin.${randomBytes(18).toString('base64url')}`;
  let portcullis: Portcullis;

  before(async function () {
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      ADMIN_API_KEY: adminKey,
      ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
      TOTP_ISSUER: 'Acme Test',
    });
    portcullis = await createPortcullis(config, { logger: createLogger({ level: 'silent' }), policies });
  });

  after(async function () {
    await portcullis.close();
  });

  it('enrols and logs in with password then code; answers keep the secret, the audit trail does not', async function () {
    const app = portcullis.app();
    app.use('/admin', portcullis.auth.principalAdminRouter());
    portcullis.finish(app);
    await request(app)
      .put('/admin/principals/ana')
      .set('X-API-Key', adminKey)
      .send({ password: 'ana-password-123' })
      .expect(201);
    const login = () => request(app).post('/auth/login').send({ username: 'ana', password: 'ana-password-123' });
    const bearer = `Bearer ${(await login().expect(201)).body.token}`;

    const started = await request(app).post('/auth/totp').set('Authorization', bearer).expect(201);
    const secret = started.body.secret as string;
    expect(secret, 'the secret reaches its owner unmasked').to.match(/^[A-Z2-7]{32}$/);
    expect(started.body.otpauthUri).to.equal(
      `otpauth://totp/Acme%20Test:ana?issuer=Acme%20Test&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
    const totp = new TOTP({ secret });
    const step = Math.floor(Date.now() / 30_000);
    const confirmed = await request(app)
      .post('/auth/totp/confirm')
      .set('Authorization', bearer)
      .send({ code: totp.generate({ timestamp: step * 30_000 }) })
      .expect(200);
    expect(confirmed.body.recoveryCodes).to.have.length(10);

    const pending = await login().expect(202);
    expect(pending.body.status).to.equal('totp_required');
    const done = await request(app)
      .post('/auth/login/totp')
      .send({ pendingToken: pending.body.pendingToken, code: totp.generate({ timestamp: (step + 1) * 30_000 }) })
      .expect(201);
    await request(app).get('/auth/me').set('Authorization', `Bearer ${done.body.token}`).expect(200);

    await portcullis.pipeline.flush();
    const { events } = await portcullis.stores.audit.list({ limit: 1000, order: 'asc' });
    const actions = events.map((event) => event.action).filter((action) => action.startsWith('auth.'));
    expect(actions).to.deep.equal([
      'auth.login',
      'auth.totp.enrolment_started',
      'auth.totp.enrolled',
      'auth.totp.required',
      'auth.login',
    ]);
    const text = JSON.stringify(events);
    expect(text).to.not.include(pending.body.pendingToken);
    expect(text).to.not.include(secret);
    expect(text).to.not.include(confirmed.body.recoveryCodes[0]);
  });
});

describe('TOTP_BYPASS_MAX (createPortcullis)', function () {
  this.timeout(60_000);

  it('bounds the bypass an administrator may grant, and is refused above 30d at start', async function () {
    const adminKey = `admin.${randomBytes(18).toString('base64url')}`;
    const env = {
      LOG_LEVEL: 'silent',
      ADMIN_API_KEY: adminKey,
      ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
    };
    const logger = createLogger({ level: 'silent' });
    // Refused by loadConfig with the other problems of the configuration, before anything starts.
    expect(() => loadConfig({ ...env, TOTP_BYPASS_MAX: '31d' })).to.throw(/TOTP_BYPASS_MAX: must be at most 30d/);
    const portcullis = await createPortcullis(loadConfig({ ...env, TOTP_BYPASS_MAX: '2h' }), { logger, policies });
    try {
      const app = portcullis.app();
      app.use('/admin', portcullis.auth.principalAdminRouter());
      portcullis.finish(app);
      await request(app)
        .put('/admin/principals/ana')
        .set('X-API-Key', adminKey)
        .send({ password: 'ana-password-123' })
        .expect(201);
      const bypass = (durationMs: number) =>
        request(app).put('/admin/principals/ana/totp-bypass').set('X-API-Key', adminKey).send({ durationMs });
      const tooLong = await bypass(3 * 3_600_000);
      expect(tooLong.status).to.equal(400);
      expect(JSON.stringify(tooLong.body)).to.include('durationMs').and.include('7200000');
      // Within the bound the duration is accepted; ana has no second factor to bypass, hence the 404.
      expect((await bypass(2 * 3_600_000)).status).to.equal(404);
    } finally {
      await portcullis.close();
    }
  });
});
