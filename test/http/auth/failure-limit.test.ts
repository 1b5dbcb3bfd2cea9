// Failure limits on the demo: guesses from a shared address stop per account, and never lock out a valid credential.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import request from 'supertest';
import { createLogger, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { buildDemoApp } from '../../../examples/demo/app.js';
import { assembleDemo } from '../../../examples/demo/assemble.js';
import { failureLimit } from '../../../middleware/failure-limit.js';
import type { RateLimitStore } from '../../../src/contracts/rate-limit.js';
import { ConfigError, StoreUnavailableError } from '../../../src/errors.js';
import type { Logger } from '../../../src/logger.js';
import { MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';

const ADMIN_KEY = 'admin-key-for-the-failure-limit-test-0123456789';
const OFFICE = '203.0.113.77';
const ELSEWHERE = '198.51.100.23';
const CAFE = '192.0.2.140';

describe('failure limits: no lockout of valid credentials from a shared address', function () {
  this.timeout(120_000);
  let stores: Stores;
  let close: () => Promise<void>;
  let app: ReturnType<typeof buildDemoApp>;

  before(async function () {
    const config = loadConfig({ LOG_LEVEL: 'silent', ADMIN_API_KEY: ADMIN_KEY, TRUST_PROXY: 'loopback' });
    stores = await createStores(config);
    const parts = await assembleDemo({
      config,
      stores,
      logger: createLogger({ level: 'silent' }),
      randomKey: () => randomBytes(32).toString('base64'),
    });
    close = parts.close;
    app = buildDemoApp(parts);
    for (const user of ['carol', 'dave', 'erin']) {
      await request(app)
        .put(`/admin/principals/${user}`)
        .set('X-API-Key', ADMIN_KEY)
        .send({ password: `${user}-password-1` })
        .expect(201);
    }
  });

  after(async function () {
    await close?.();
    await stores?.close();
  });

  const login = (from: string, username: string, password: string) =>
    request(app).post('/auth/login').set('X-Forwarded-For', from).send({ username, password });

  it('after 300 bad API keys from one address, the admin key and a correct login from it still succeed', async function () {
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const guess =
        i % 3 === 0 ? 'short' : i % 3 === 1 ? `pc_${randomBytes(8).toString('hex')}.x` : `guess-${i}-xyz-abc-def`;
      statuses.add((await request(app).get('/auth/me').set('X-Forwarded-For', OFFICE).set('X-API-Key', guess)).status);
    }
    expect([...statuses]).to.deep.equal([401]);
    await request(app).get('/auth/me').set('X-Forwarded-For', OFFICE).set('X-API-Key', ADMIN_KEY).expect(200);
    await request(app).get('/admin/principals').set('X-Forwarded-For', OFFICE).set('X-API-Key', ADMIN_KEY).expect(200);
    expect((await login(OFFICE, 'carol', 'carol-password-1')).status).to.equal(201);
  });

  it('guesses at one username from one address stop at RATE_LIMIT_LOGIN_MAX; others, and that user elsewhere, go on', async function () {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(CAFE, 'dave', `guess-${i}`)).status);
    expect(statuses).to.deep.equal([...Array<number>(10).fill(401), 429, 429]);
    const refused = await login(CAFE, 'dave', 'dave-password-1');
    expect(refused.status, 'the right password is not even checked from this address now').to.equal(429);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.body.code).to.equal('rate_limited.failures');
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    expect((await login(ELSEWHERE, 'dave', 'dave-password-1')).status).to.equal(201);
    expect((await login(CAFE, 'carol', 'carol-password-1')).status).to.equal(201);
    await request(app).get('/auth/me').set('X-Forwarded-For', CAFE).set('X-API-Key', ADMIN_KEY).expect(200);
  });

  it('past RATE_LIMIT_FAILURES_MAX from an address, an account that failed there once is refused there; a fresh one is not', async function () {
    // The office address has 300 failures from the first test: the default bound.
    expect((await login(OFFICE, 'erin', 'wrong-once')).status).to.equal(401);
    expect((await login(OFFICE, 'erin', 'erin-password-1')).status).to.equal(429);
    expect((await login(ELSEWHERE, 'erin', 'erin-password-1')).status).to.equal(201);
    expect((await login(OFFICE, 'carol', 'carol-password-1')).status).to.equal(201);
  });

  it('a burst of concurrent guesses gets no more tries than RATE_LIMIT_LOGIN_MAX, the right password among them included', async function () {
    const BURST = '192.0.2.201';
    await request(app)
      .put('/admin/principals/frank')
      .set('X-API-Key', ADMIN_KEY)
      .send({ password: 'frank-password-1' })
      .expect(201);
    const guesses = Array.from({ length: 40 }, (_, i) => (i === 30 ? 'frank-password-1' : `wrong-${i}`));
    const statuses = await Promise.all(
      guesses.map((password) => login(BURST, 'frank', password).then((r) => r.status)),
    );
    const tried = statuses.filter((status) => status !== 429);
    expect(tried.length, JSON.stringify(statuses)).to.be.at.most(10);
    expect(statuses.filter((status) => status === 429)).to.have.length(40 - tried.length);
    // Which ten were tried is up to the scheduler; the right password got through only if it was one of them.
    if (statuses[30] !== 201) expect(statuses[30]).to.equal(429);
  });

  it('valid logins do not count as failures: more than RATE_LIMIT_LOGIN_MAX of them in a window all succeed', async function () {
    const DESK = '192.0.2.202';
    await request(app)
      .put('/admin/principals/grace')
      .set('X-API-Key', ADMIN_KEY)
      .send({ password: 'grace-password-1' })
      .expect(201);
    expect((await login(DESK, 'grace', 'typo')).status).to.equal(401);
    for (let i = 0; i < 15; i++)
      expect((await login(DESK, 'grace', 'grace-password-1')).status, `login ${i}`).to.equal(201);
  });
  it('a port a proxy appended to the address is the same client: same failure counter, same CIDR rules', async function () {
    for (let i = 0; i < 10; i++) await login(`198.51.100.50:${1000 + i}`, 'dave', `wrong-${i}`).expect(401);
    expect((await login('198.51.100.50:2222', 'dave', 'dave-password-1')).status).to.equal(429);
    expect((await login('[::ffff:198.51.100.50]:3333', 'dave', 'dave-password-1')).status).to.equal(429);

    await request(app)
      .put('/admin/policies/deny-ten')
      .set('X-API-Key', ADMIN_KEY)
      .send({
        effect: 'deny',
        subjects: [{ type: 'Any' }],
        actions: [{ type: 'Any' }],
        resources: [{ type: 'Any' }],
        context: { ip: { type: 'CIDR', cidr: '10.0.0.0/8' } },
      })
      .expect(201);
    try {
      const token = (await login('192.0.2.99', 'ana', 'analyst-demo-password').expect(201)).body.token as string;
      const list = (from: string) =>
        request(app).get('/accounts?limit=1').set('X-Forwarded-For', from).set('Authorization', `Bearer ${token}`);
      expect((await list('192.0.2.99')).status).to.equal(200);
      expect((await list('10.1.2.3')).status).to.equal(403);
      expect((await list('10.1.2.3:1234')).status).to.equal(403);
      expect((await list('[::ffff:10.1.2.3]:443')).status).to.equal(403);
      for (const junk of ['010.1.2.3', '10.1.2.3%eth0', '167838211', 'unknown']) {
        const response = await list(junk);
        expect(response.status, junk).to.equal(400);
        expect(response.body.code, junk).to.equal('validation.client_address');
      }
    } finally {
      await request(app).delete('/admin/policies/deny-ten').set('X-API-Key', ADMIN_KEY).expect(204);
    }
  });
});

describe('failureLimit() options and a failing counter store', function () {
  const down = new MemoryRateLimitStore();
  const broken = (): RateLimitStore => {
    const view = down.forLimiter('x');
    view.get = () => Promise.reject(new Error('counter store down'));
    view.increment = () => Promise.reject(new Error('counter store down'));
    return view;
  };
  const failing = { ...down, forLimiter: broken, get: down.get.bind(down) } as unknown as RateLimitStore;
  const req = { ip: '192.0.2.9', socket: {} } as Request;

  it('open: checks pass and failures are not counted, with a warning; closed: 503', async function () {
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    const open = failureLimit({ store: failing, logger });
    await open.check(req, 'user:alice');
    await open.failed(req, 'user:alice');
    expect(warnings).to.deep.equal([
      { code: 'rate_limit.store_error', limit: 'failures', err: 'Error' },
      { code: 'rate_limit.store_error', limit: 'failures', err: 'Error' },
    ]);
    const closed = failureLimit({ store: failing, onStoreError: 'closed' });
    const error = await closed.check(req, 'user:alice').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreUnavailableError);
    await closed.failed(req, 'user:alice');
  });

  it('refuses a store without forLimiter and bad bounds at creation, naming the option', function () {
    expect(() => failureLimit({ store: { increment() {} } as never }))
      .to.throw(ConfigError)
      .with.property('option', 'store');
    for (const option of ['accountLimit', 'addressLimit', 'windowMs']) {
      expect(() => failureLimit({ store: new MemoryRateLimitStore(), [option]: 0 }))
        .to.throw(ConfigError)
        .with.property('option', option);
    }
  });
});
