// Delegated administration on real MongoDB and Redis: the helpdesk escalation path, step by step, is refused
// with 403 forbidden.escalation, while what the helpdesk may legitimately do still works.
import { expect } from 'chai';
import express, { type Express } from 'express';
import request from 'supertest';
import { policyAdminRouter } from '../../../middleware/policy-admin-router.js';
import { requirePermittedEndpoint } from '../../../middleware/authorize-endpoint.js';
import { errorHandler, notFoundHandler } from '../../../middleware/error-handler.js';
import { MemoryPolicyStore } from '../../../stores/memory/policies.js';
import { sharedMongo, sharedRedis, uniqueName } from '../../support/connections.js';
import { ADMIN_KEY, buildAuthApp, type AuthApp } from './fixtures.js';

const ADMIN_PASSWORD = 'the-real-admin-password';
const STOLEN_PASSWORD = 'helpdesk-chose-this-one';

const HELPDESK_ENDPOINTS = [
  { method: 'GET|PUT', path: '/admin/principals/[^/]+' },
  { method: 'POST', path: '/admin/principals/[^/]+/api-keys' },
  { method: 'GET|PUT', path: '/admin/policies/[^/]+' },
  { method: 'GET', path: '/api/records' },
];

function expectEscalation(response: request.Response, field: string) {
  expect(response.status, JSON.stringify(response.body)).to.equal(403);
  expect(response.headers['content-type']).to.match(/application\/problem\+json/);
  expect(response.body.code).to.equal('forbidden.escalation');
  expect(response.body.errors.map((e: { field: string }) => e.field)).to.include(field);
}

describe('delegated administration cannot escalate (MongoDB principals, Redis cache)', function () {
  let fixture: AuthApp;
  let app: Express;
  let helpdesk: string;

  before(async function () {
    fixture = await buildAuthApp({
      prefix: uniqueName('escalate'),
      mongo: await sharedMongo(),
      redis: await sharedRedis(),
    });
    const { auth } = fixture;
    app = express();
    app.use(express.json());
    app.use('/auth', auth.authRouter());
    app.use('/admin', auth.principalAdminRouter());
    app.use(
      '/admin',
      auth.authenticate(),
      requirePermittedEndpoint(),
      policyAdminRouter({ store: new MemoryPolicyStore() }),
    );
    app.get('/api/records', auth.authenticate(), requirePermittedEndpoint(), (_req, res) => res.json({ items: [] }));
    app.use(notFoundHandler());
    app.use(errorHandler());

    const admin = (r: request.Test) => r.set('X-API-Key', ADMIN_KEY);
    await admin(request(app).put('/admin/principals/admin'))
      .send({ admin: true, password: ADMIN_PASSWORD, attributes: { role: 'admin' } })
      .expect(200);
    await admin(request(app).put('/admin/groups/admins')).send({ admin: true }).expect(201);
    await admin(request(app).put('/admin/principals/hana'))
      .send({ name: 'Hana Helpdesk', permittedEndpoints: HELPDESK_ENDPOINTS, attributes: { desk: 'helpdesk' } })
      .expect(201);
    const key = await admin(request(app).post('/admin/principals/hana/api-keys')).send({}).expect(201);
    helpdesk = key.body.key;
    await admin(request(app).put('/admin/policies/allow-readers'))
      .send({ effect: 'allow', subjects: ['reader'], actions: ['read'], resources: ['records'] })
      .expect(201);
  });

  after(async function () {
    await fixture.cleanup();
  });

  const as = (r: request.Test) => r.set('X-API-Key', helpdesk);

  it('reading the admin principal still works (reading grants nothing)', async function () {
    const read = await as(request(app).get('/admin/principals/admin')).expect(200);
    expect(read.body).to.include({ id: 'admin', admin: true, hasPassword: true });
    expect(read.body).to.not.have.property('passwordHash');
  });

  it("setting the admin's password is refused, so logging in as admin fails", async function () {
    const put = await as(request(app).put('/admin/principals/admin')).send({
      admin: true,
      password: STOLEN_PASSWORD,
      attributes: { role: 'admin' },
    });
    expectEscalation(put, 'current.admin');
    expect(
      (await request(app).post('/auth/login').send({ username: 'admin', password: STOLEN_PASSWORD })).status,
    ).to.equal(401);
    await request(app).post('/auth/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(201);
  });

  it('making herself admin: true is refused, directly or through an admin group', async function () {
    const self = { name: 'Hana Helpdesk', permittedEndpoints: HELPDESK_ENDPOINTS, attributes: { desk: 'helpdesk' } };
    expectEscalation(await as(request(app).put('/admin/principals/hana')).send({ ...self, admin: true }), 'admin');
    expectEscalation(
      await as(request(app).put('/admin/principals/hana')).send({ ...self, groups: ['admins'] }),
      'admin',
    );
    const me = await as(request(app).get('/admin/principals/hana')).expect(200);
    expect(me.body.admin).to.equal(undefined);
    expect(me.body.groups).to.deep.equal([]);
  });

  it('widening her own endpoints, filters or attributes is refused', async function () {
    const self = { name: 'Hana Helpdesk', permittedEndpoints: HELPDESK_ENDPOINTS, attributes: { desk: 'helpdesk' } };
    const wider = await as(request(app).put('/admin/principals/hana')).send({
      ...self,
      permittedEndpoints: [...HELPDESK_ENDPOINTS, { method: '*', path: '.*' }],
    });
    expectEscalation(wider, 'permittedEndpoints');
    expect(wider.body.detail).to.include('* .*');
    const role = await as(request(app).put('/admin/principals/hana')).send({
      ...self,
      attributes: { desk: 'helpdesk', role: 'admin' },
    });
    expectEscalation(role, 'attributes.role');
  });

  it('minting an API key for the admin is refused', async function () {
    expectEscalation(await as(request(app).post('/admin/principals/admin/api-keys')).send({}), 'current.admin');
    const keys = await request(app).get('/admin/principals/admin/api-keys').set('X-API-Key', ADMIN_KEY).expect(200);
    expect(keys.body.items.map((k: { name?: string }) => k.name)).to.deep.equal(['bootstrap']);
  });

  it('writing an ABAC policy is refused; reading one is not', async function () {
    const put = await as(request(app).put('/admin/policies/hana-may-all')).send({
      effect: 'allow',
      subjects: [{ type: 'Any' }],
      actions: [{ type: 'Any' }],
      resources: [{ type: 'Any' }],
    });
    expectEscalation(put, 'policy');
    await as(request(app).get('/admin/policies/allow-readers')).expect(200);
    await request(app).get('/admin/policies/hana-may-all').set('X-API-Key', ADMIN_KEY).expect(404);
  });

  it('within her rights she still creates a user, sets its password, mints its key and edits it', async function () {
    const carol = {
      name: 'Carol',
      permittedEndpoints: [
        { method: 'GET', path: '/api/records' },
        // A literal path one of her patterns matches is grantable too.
        { method: 'GET', path: '/admin/principals/carol' },
      ],
    };
    await as(request(app).put('/admin/principals/carol'))
      .send({ ...carol, password: 'carol-first-password' })
      .expect(201);
    const login = await request(app)
      .post('/auth/login')
      .send({ username: 'carol', password: 'carol-first-password' })
      .expect(201);
    await request(app).get('/api/records').set('Authorization', `Bearer ${login.body.token}`).expect(200);
    await as(request(app).put('/admin/principals/carol'))
      .send({ ...carol, password: 'carol-second-password' })
      .expect(200);
    const key = await as(request(app).post('/admin/principals/carol/api-keys')).send({ name: 'laptop' }).expect(201);
    await request(app).get('/admin/principals/carol').set('X-API-Key', key.body.key).expect(200);
    // Her own name may change as long as her rights stay the same.
    await as(request(app).put('/admin/principals/hana'))
      .send({ name: 'Hana H.', permittedEndpoints: HELPDESK_ENDPOINTS, attributes: { desk: 'helpdesk' } })
      .expect(200);
  });

  it("Carol's delegated rights stay within Hana's: Carol cannot pass on what she was not given", async function () {
    const login = await request(app)
      .post('/auth/login')
      .send({ username: 'carol', password: 'carol-second-password' })
      .expect(201);
    const put = await request(app)
      .put('/admin/principals/carol')
      .set('Authorization', `Bearer ${login.body.token}`)
      .send({ permittedEndpoints: [{ method: 'GET|PUT', path: '/admin/principals/carol' }] });
    // Carol may only GET her own record: PUT is not an endpoint she may call at all.
    expect(put.status).to.equal(403);
    expect(put.body.code).to.equal('forbidden.endpoint');
  });
});
