// Credential scopes over HTTP: they bound what a key or token may do, and never reach past its owner's rights.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createLogger, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo } from '../../../examples/demo/assemble.js';
import { buildDemoApp } from '../../../examples/demo/app.js';
import { authenticate } from '../../../middleware/authenticate.js';
import { apiKeyStrategy, jwtStrategy } from '../../../middleware/auth-strategies.js';
import { requirePermittedEndpoint, requireScope } from '../../../middleware/authorize-endpoint.js';
import { authorize, type AuthorizeOptions } from '../../../middleware/authorize.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter, type CrudRouterOptions } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { bootstrapAdmin, principalAdminRouter } from '../../../middleware/principal-admin-router.js';
import { ApiKeyHasher } from '../../../src/auth/api-keys.js';
import { createJwtVerifier } from '../../../src/auth/jwt.js';
import type { Principal } from '../../../src/auth/principal.js';
import { allow } from '../../../src/abac/policy.js';
import { ConfigError, Guard, PolicySet, rules } from 'portcullis';
import { MemoryPrincipalStore } from '../../../stores/memory/principals.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';

const ADMIN_KEY = `scopes.${randomBytes(24).toString('base64url')}`;

function expectScopeDenied(response: request.Response, scope: string): void {
  expect(response.status, response.text).to.equal(403);
  expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
  expect(response.body).to.include({ status: 403, code: 'forbidden.scope' });
  expect(response.body.detail).to.include(scope);
}

describe('scopes: the demo', function () {
  this.timeout(60_000);
  let stores: Stores;
  let app: Express;
  let close: () => Promise<void>;

  before(async function () {
    const config = loadConfig({ LOG_LEVEL: 'silent', ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_MAX: '100000' });
    stores = await createStores(config);
    const parts = await assembleDemo({
      config,
      stores,
      logger: createLogger({ level: 'silent' }),
      randomKey: () => randomBytes(32).toString('base64'),
    });
    close = parts.close;
    app = buildDemoApp(parts);
  });

  after(async function () {
    await close?.();
    await stores?.close();
  });

  /** A new API key of `owner` with `scopes`, made through the admin route. */
  async function keyOf(owner: string, scopes?: string[]): Promise<string> {
    const response = await request(app)
      .post(`/admin/principals/${owner}/api-keys`)
      .set('X-API-Key', ADMIN_KEY)
      .send(scopes ? { scopes } : {});
    expect(response.status, response.text).to.equal(201);
    return response.body.key as string;
  }

  it('refuses a PATCH with a key scoped accounts:read (403 forbidden.scope) and keeps the record', async function () {
    const key = await keyOf('sam', ['accounts:read']);
    const before = await request(app).get('/accounts/acc_0001').set('X-API-Key', key).expect(200);
    const patched = await request(app)
      .patch('/accounts/acc_0001')
      .set('X-API-Key', key)
      .send({ notes: 'changed by a read-only key' });
    expectScopeDenied(patched, 'accounts:write');
    const after = await request(app).get('/accounts/acc_0001').set('X-API-Key', key).expect(200);
    expect(after.body.notes).to.equal(before.body.notes);
    // Every read route of the resource is open to it.
    await request(app).get('/accounts').set('X-API-Key', key).expect(200);
    await request(app).get('/accounts/acc_0001/history').set('X-API-Key', key).expect(200);
  });

  it('lets a key scoped accounts:write (or accounts:*) PATCH what its owner may', async function () {
    for (const scopes of [['accounts:read', 'accounts:write'], ['accounts:*'], ['*']]) {
      const key = await keyOf('sam', scopes);
      const response = await request(app)
        .patch('/accounts/acc_0001')
        .set('X-API-Key', key)
        .send({ notes: `written with ${scopes.join(' ')}` });
      expect(response.status, `${scopes.join(' ')}: ${response.text}`).to.equal(200);
    }
  });

  it('never lets a broad scope do what the owner may not', async function () {
    // ana (analyst) may only read; her keys with every scope still cannot write or delete.
    for (const scopes of [['*'], ['accounts:write', 'accounts:delete'], undefined]) {
      const key = await keyOf('ana', scopes);
      const label = JSON.stringify(scopes);
      const patched = await request(app).patch('/accounts/acc_0001').set('X-API-Key', key).send({ notes: 'x' });
      expect(patched.status, label).to.equal(403);
      expect(patched.body.code, label).to.equal('forbidden.endpoint');
      const deleted = await request(app).delete('/accounts/acc_0001').set('X-API-Key', key);
      expect(deleted.status, label).to.equal(403);
    }
    // sam (support) with every scope: no DELETE endpoint, and no policy lets support administer principals.
    const samAll = await keyOf('sam', ['*']);
    const deleted = await request(app).delete('/accounts/acc_0001').set('X-API-Key', samAll);
    expect(deleted.body.code).to.equal('forbidden.endpoint');
    const admin = await request(app).get('/admin/principals').set('X-API-Key', samAll);
    expect(admin.status).to.equal(403);
    expect(admin.body.code).to.equal('forbidden.policy');
  });

  it('bounds the administrator key too: an admin key scoped accounts:read reads accounts, nothing else', async function () {
    const key = await keyOf('admin', ['accounts:read']);
    await request(app).get('/accounts/acc_0002').set('X-API-Key', key).expect(200);
    expectScopeDenied(await request(app).delete('/accounts/acc_0002').set('X-API-Key', key), 'accounts:delete');
    expectScopeDenied(await request(app).get('/admin/principals').set('X-API-Key', key), 'admin:read');
    expectScopeDenied(await request(app).get('/audit').set('X-API-Key', key), 'audit:read');
    // A key created without scopes acts with its owner's full rights, as before.
    const unscoped = await keyOf('admin');
    await request(app).get('/admin/principals').set('X-API-Key', unscoped).expect(200);
  });

  it('answers POST /auth/me/has-permission as the call itself is answered, scopes included', async function () {
    // Administrator keys: every endpoint is permitted, so only the scopes decide.
    const keys = {
      accountsRead: await keyOf('admin', ['accounts:read']),
      sessionsRead: await keyOf('admin', ['sessions:read']),
      unscoped: await keyOf('admin'),
    };
    const calls: [keyof typeof keys, string, string, boolean][] = [
      ['accountsRead', 'GET', '/accounts/acc_0003', true],
      ['accountsRead', 'GET', '/accounts', true],
      ['accountsRead', 'PATCH', '/accounts/acc_0003', false],
      ['accountsRead', 'DELETE', '/accounts/acc_0003', false],
      ['accountsRead', 'GET', '/admin/principals', false],
      ['accountsRead', 'GET', '/audit/events', false],
      ['accountsRead', 'GET', '/auth/sessions', false],
      ['accountsRead', 'DELETE', '/auth/sessions', false],
      ['accountsRead', 'GET', '/auth/me', true],
      ['sessionsRead', 'GET', '/auth/sessions', true],
      ['sessionsRead', 'GET', '/accounts/acc_0003', false],
      ['unscoped', 'PATCH', '/accounts/acc_0003', true],
    ];
    for (const [key, method, path, expected] of calls) {
      const label = `${key} ${method} ${path}`;
      const answer = await request(app)
        .post('/auth/me/has-permission')
        .set('X-API-Key', keys[key])
        .send({ method, path })
        .expect(200);
      expect(answer.body.allowed, label).to.equal(expected);
      // Ask before calling: the PATCH of the unscoped key goes through.
      const call = await request(app)
        [method.toLowerCase() as 'get' | 'patch' | 'delete'](path)
        .set('X-API-Key', keys[key])
        .send(method === 'PATCH' ? { notes: `patched by ${key}` } : undefined);
      if (expected) expect(call.status, `${label}: ${call.text}`).to.be.below(300);
      else expect(call.body, `${label}: ${call.text}`).to.include({ status: 403, code: 'forbidden.scope' });
    }
  });

  it("answers has-permission true for the auth router's own routes, which any signed-in caller may call", async function () {
    // sam's endpoint grants name none of /auth/*: the routes ask for a signed-in caller only (and scopes).
    const token = (
      await request(app).post('/auth/login').send({ username: 'sam', password: 'support-demo-password' }).expect(201)
    ).body.token as string;
    for (const [method, path] of [
      ['GET', '/auth/me'],
      ['GET', '/auth/sessions'],
      ['DELETE', '/auth/sessions'],
      ['POST', '/auth/logout'],
    ] as const) {
      const answer = await request(app)
        .post('/auth/me/has-permission')
        .set('Authorization', `Bearer ${token}`)
        .send({ method, path })
        .expect(200);
      expect(answer.body.allowed, `${method} ${path}`).to.equal(true);
    }
    await request(app).get('/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get('/auth/sessions').set('Authorization', `Bearer ${token}`).expect(200);
    // Someone else's path is still answered by the grants.
    const admin = await request(app)
      .post('/auth/me/has-permission')
      .set('Authorization', `Bearer ${token}`)
      .send({ method: 'GET', path: '/admin/principals' })
      .expect(200);
    expect(admin.body.allowed).to.equal(false);
  });

  it("keeps a key scoped to accounts from reading or ending its owner's sessions", async function () {
    const session = await request(app)
      .post('/auth/login')
      .send({ username: 'sam', password: 'support-demo-password' })
      .expect(201);
    const sessionId = session.body.sessionId as string;
    const key = await keyOf('sam', ['accounts:read']);
    expectScopeDenied(await request(app).get('/auth/sessions').set('X-API-Key', key), 'sessions:read');
    expectScopeDenied(
      await request(app).delete(`/auth/sessions/${sessionId}`).set('X-API-Key', key),
      'sessions:delete',
    );
    expectScopeDenied(await request(app).delete('/auth/sessions').set('X-API-Key', key), 'sessions:delete');
    // The session lives on; a key scoped to sessions (or unscoped) may list and end it.
    const reader = await keyOf('sam', ['sessions:read']);
    const listed = await request(app).get('/auth/sessions').set('X-API-Key', reader).expect(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).to.include(sessionId);
    expectScopeDenied(
      await request(app).delete(`/auth/sessions/${sessionId}`).set('X-API-Key', reader),
      'sessions:delete',
    );
    await request(app)
      .delete(`/auth/sessions/${sessionId}`)
      .set('X-API-Key', await keyOf('sam', ['sessions:*']))
      .expect(204);
    await request(app).get('/auth/sessions').set('Authorization', `Bearer ${session.body.token}`).expect(401);
  });

  it("stores a login's User-Agent with its PII masked", async function () {
    const login = await request(app)
      .post('/auth/login')
      .set('User-Agent', 'Mozilla/5.0 (contact ada.lovelace@example.org, card 4111 1111 1111 1111)')
      .send({ username: 'ana', password: 'analyst-demo-password' })
      .expect(201);
    const stored = await stores.sessions.get(login.body.sessionId);
    expect(stored?.meta.userAgent).to.be.a('string').that.does.not.include('ada.lovelace');
    expect(stored?.meta.userAgent).to.not.include('4111 1111');
    expect(stored?.meta.userAgent).to.match(/^Mozilla\/5\.0 \(contact /);
    const listed = await request(app)
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${login.body.token}`)
      .expect(200);
    expect(JSON.stringify(listed.body)).to.not.include('ada.lovelace');
  });
});

describe('scopes: requireScope, authorize() and crudRouter options', function () {
  const { Any } = rules;
  const guard = new Guard({
    policies: new PolicySet([allow({ uid: 'all', subjects: [Any()], actions: [Any()], resources: [Any()] })]),
  });

  function as(scopes: string[] | undefined): RequestHandler {
    return (req, _res, next) => {
      const principal: Principal = { id: 'u', kind: 'apiKey', groups: [], attributes: {}, apiKeyId: 'pc_1' };
      if (scopes) principal.scopes = scopes;
      contextOf(req).principal = principal;
      next();
    };
  }

  function appWith(scopes: string[] | undefined, mount: (app: Express) => void): Express {
    const app = express();
    app.use(as(scopes));
    mount(app);
    app.use(errorHandler());
    return app;
  }

  it('requireScope(): the scope itself, * or resource:* pass; others are 403 forbidden.scope', async function () {
    const mount = (app: Express) => app.get('/reports', requireScope('reports:read'), (_req, res) => res.json({}));
    for (const scopes of [['reports:read'], ['*'], ['reports:*'], ['other:read', 'reports:read'], undefined, []]) {
      await request(appWith(scopes, mount)).get('/reports').expect(200);
    }
    for (const scopes of [['reports:write'], ['reports'], ['report:*'], ['reports:read:x'], ['other:*']]) {
      expectScopeDenied(await request(appWith(scopes, mount)).get('/reports'), 'reports:read');
    }
    expect(() => requireScope('')).to.throw(ConfigError);
    expect(() => requireScope('has space')).to.throw(ConfigError);
  });

  function authorizeApp(scopes: string[] | undefined, options: Partial<AuthorizeOptions> = {}): Express {
    return appWith(scopes, (app) => {
      app.all('/reports/:id', authorize({ guard, ...options }), (_req, res) => res.json({ ok: true }));
    });
  }

  it('authorize() requires <resource>:<level> by default, from the action or the HTTP method', async function () {
    // No action: the method decides, the first path segment names the resource.
    await request(authorizeApp(['reports:read']))
      .get('/reports/1')
      .expect(200);
    expectScopeDenied(await request(authorizeApp(['reports:read'])).put('/reports/1'), 'reports:write');
    expectScopeDenied(await request(authorizeApp(['reports:write'])).delete('/reports/1'), 'reports:delete');
    await request(authorizeApp(['reports:delete']))
      .delete('/reports/1')
      .expect(200);
    // An action <name>:<verb> decides the scope whatever the method.
    const search = { action: 'ledger:search', resource: 'ledger' };
    await request(authorizeApp(['ledger:read'], search))
      .post('/reports/1')
      .expect(200);
    expectScopeDenied(
      await request(authorizeApp(['ledger:read'], { action: 'ledger:purge' })).get('/reports/1'),
      'ledger:delete',
    );
    // An unknown verb: the named resource and the method.
    expectScopeDenied(
      await request(authorizeApp(['ledger:read'], { action: 'export', resource: 'ledger' })).post('/reports/1'),
      'ledger:write',
    );
  });

  it('authorize() takes a fixed scope, a function or false instead', async function () {
    await request(authorizeApp(['reports:approve'], { scope: 'reports:approve' }))
      .put('/reports/1')
      .expect(200);
    expectScopeDenied(
      await request(authorizeApp(['reports:write'], { scope: 'reports:approve' })).put('/reports/1'),
      'reports:approve',
    );
    const byId = {
      scope: (req: express.Request) => (req.params.id === 'open' ? undefined : `report-${req.params.id}`),
    };
    await request(authorizeApp(['report-7'], byId))
      .get('/reports/7')
      .expect(200);
    await request(authorizeApp(['nothing'], byId))
      .get('/reports/open')
      .expect(200);
    expectScopeDenied(await request(authorizeApp(['report-7'], byId)).get('/reports/8'), 'report-8');
    await request(authorizeApp(['unrelated'], { scope: false }))
      .delete('/reports/1')
      .expect(200);
    expect(() => authorize({ guard, scope: 'bad scope' })).to.throw(ConfigError, /authorize\.scope/);
    expect(() => authorize({ guard, scope: 3 as never })).to.throw(ConfigError, /authorize\.scope/);
  });

  async function crudApp(scopes: string[] | undefined, options: Partial<CrudRouterOptions> = {}): Promise<Express> {
    const router = crudRouter({
      resource: 'notes',
      store: new MemoryRecordStore({ schema: { title: 'string' } }),
      authorize: (action) => authorize({ guard, action, resource: 'notes' }),
      ...options,
    });
    await router.store.insert('n1', { title: 'one' });
    await router.store.insert('n2', { title: 'two' });
    return appWith(scopes, (app) => app.use('/notes', router));
  }

  it('crudRouter maps each action to notes:read, notes:write or notes:delete by default', async function () {
    const reader = await crudApp(['notes:read']);
    await request(reader).get('/notes').expect(200);
    await request(reader).get('/notes/n1').expect(200);
    await request(reader).get('/notes/unique/title').expect(200);
    await request(reader).post('/notes/search/title').send(['one']).expect(200);
    await request(reader).get('/notes/trash').expect(200);
    expectScopeDenied(await request(reader).post('/notes').send({ title: 'x' }), 'notes:write');
    expectScopeDenied(await request(reader).patch('/notes/n1').send({ title: 'x' }), 'notes:write');
    expectScopeDenied(await request(reader).delete('/notes/n1'), 'notes:delete');
    expectScopeDenied(await request(reader).post('/notes/trash/n1/restore'), 'notes:write');
    expectScopeDenied(await request(reader).delete('/notes/trash/n1'), 'notes:delete');

    const writer = await crudApp(['notes:write']);
    await request(writer).patch('/notes/n1').send({ title: 'x' }).expect(200);
    expectScopeDenied(await request(writer).get('/notes/n1'), 'notes:read');
    expectScopeDenied(await request(writer).delete('/notes/n1'), 'notes:delete');
    const deleter = await crudApp(['notes:delete']);
    await request(deleter).delete('/notes/n1').expect(204);
  });

  it('crudRouter scopes: overrides action by action, false turns a check (or all) off', async function () {
    // authorize() would derive notes:write from the action notes:update: the router's own mapping decides.
    const options: Partial<CrudRouterOptions> = {
      scopes: { update: 'notes:edit', list: false, delete: 'notes:admin', purge: 'notes:purge' },
      authorize: (action) => authorize({ guard, action, resource: 'notes', scope: false }),
    };
    const editor = await crudApp(['notes:edit'], options);
    await request(editor).patch('/notes/n1').send({ title: 'x' }).expect(200);
    await request(editor).get('/notes').expect(200);
    expectScopeDenied(await request(editor).get('/notes/n1'), 'notes:read');
    // `?force=true` purges: its own scope is checked inside the DELETE route.
    const admin = await crudApp(['notes:admin'], options);
    expectScopeDenied(await request(admin).delete('/notes/n2?force=true'), 'notes:purge');
    await request(admin).delete('/notes/n2').expect(204);
    await request(await crudApp(['nothing'], { ...options, scopes: false }))
      .delete('/notes/n1')
      .expect(204);
    const build = (scopes: unknown) => () =>
      crudRouter({
        resource: 'notes',
        store: new MemoryRecordStore({ schema: { title: 'string' } }),
        scopes: scopes as CrudRouterOptions['scopes'],
      });
    expect(build({ udpate: 'x' })).to.throw(ConfigError, /crudRouter\.scopes\.udpate/);
    expect(build({ update: '' })).to.throw(ConfigError, /crudRouter\.scopes\.update/);
    expect(build(['notes:read'])).to.throw(ConfigError, /crudRouter\.scopes/);
  });
});

describe('scopes: the JWT scope claim', function () {
  const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
  let app: Express;

  before(async function () {
    const store = new MemoryPrincipalStore();
    await store.savePrincipal({ id: 'alice', type: 'user', groups: [], attributes: {}, admin: true });
    const verifier = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET });
    app = express();
    app.use(authenticate({ strategies: [jwtStrategy({ verifier, store })] }));
    app.get('/reports/:id', requireScope('reports:read'), (req, res) => res.json(contextOf(req).principal));
    app.use(errorHandler());
  });

  const token = (claims: Record<string, unknown>) =>
    jwt.sign({ sub: 'alice', ...claims }, SECRET, { algorithm: 'HS256', expiresIn: 60 });

  it('reads a space-separated string or a list of strings; no claim means no restriction', async function () {
    const fromString = await request(app)
      .get('/reports/1')
      .set('Authorization', `Bearer ${token({ scope: 'openid reports:read' })}`)
      .expect(200);
    expect(fromString.body.scopes).to.deep.equal(['openid', 'reports:read']);
    await request(app)
      .get('/reports/1')
      .set('Authorization', `Bearer ${token({ scope: ['reports:read'] })}`)
      .expect(200);
    const unscoped = await request(app)
      .get('/reports/1')
      .set('Authorization', `Bearer ${token({})}`)
      .expect(200);
    expect(unscoped.body).to.not.have.property('scopes');
    expectScopeDenied(
      await request(app)
        .get('/reports/1')
        .set('Authorization', `Bearer ${token({ scope: 'openid profile' })}`),
      'reports:read',
    );
  });

  it('refuses a scope claim of any other shape rather than reading it as unscoped', async function () {
    for (const scope of [42, { reports: 'read' }, [1], [''], ['x'.repeat(300)], null]) {
      const response = await request(app)
        .get('/reports/1')
        .set('Authorization', `Bearer ${token({ scope })}`);
      expect(response.status, JSON.stringify(scope)).to.equal(401);
    }
  });
});

describe('scopes: the principal admin routes on their own', function () {
  this.timeout(30_000);
  let app: Express;

  before(async function () {
    const store = new MemoryPrincipalStore();
    const hasher = new ApiKeyHasher();
    await bootstrapAdmin({ principals: store, apiKey: ADMIN_KEY, hasher });
    app = express();
    app.use(express.json());
    const auth = authenticate({ strategies: [apiKeyStrategy({ store, hasher })] });
    // Mounted without authorize(): the router's own check must hold scoped keys to admin:<level>.
    app.use('/admin', principalAdminRouter({ principals: store, authenticate: auth, hasher }));
    app.use(errorHandler());
  });

  async function adminKey(scopes: string[]): Promise<string> {
    const response = await request(app)
      .post('/admin/principals/admin/api-keys')
      .set('X-API-Key', ADMIN_KEY)
      .send({ scopes })
      .expect(201);
    return response.body.key as string;
  }

  it('keeps an administrator key scoped to accounts from administering (no unscoped key minted)', async function () {
    const key = await adminKey(['accounts:read']);
    expectScopeDenied(await request(app).get('/admin/principals').set('X-API-Key', key), 'admin:read');
    expectScopeDenied(
      await request(app).post('/admin/principals/admin/api-keys').set('X-API-Key', key).send({}),
      'admin:write',
    );
    expectScopeDenied(
      await request(app).delete('/admin/api-keys/pc_0000000000000001').set('X-API-Key', key),
      'admin:delete',
    );
  });

  it('lets admin:read read and admin:* do everything the owner may', async function () {
    const reader = await adminKey(['admin:read']);
    await request(app).get('/admin/principals').set('X-API-Key', reader).expect(200);
    expectScopeDenied(
      await request(app).post('/admin/principals/admin/api-keys').set('X-API-Key', reader).send({}),
      'admin:write',
    );
    const all = await adminKey(['admin:*']);
    await request(app).post('/admin/principals/admin/api-keys').set('X-API-Key', all).send({}).expect(201);
    expect(() => requirePermittedEndpoint({ scopePrefix: 'bad prefix' })).to.throw(ConfigError, /scopePrefix/);
  });
});
