// The embedded default (no servers): createStores + createAuth on memory, admin bootstrap, login and admin routes.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { loadConfig } from '../../../src/config/index.js';
import { createAuth } from '../../../middleware/auth-setup.js';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { createStores, type Stores } from '../../../stores/create-stores.js';

describe('auth with the memory defaults of createStores()', function () {
  let stores: Stores;
  let app: express.Express;
  const adminKey = 'demo-admin-key-0123456789abcdef';

  before(async function () {
    const config = loadConfig({ ADMIN_API_KEY: adminKey, JWT_SECRET: 'memory-defaults-secret-of-32-chars-or-more' });
    stores = await createStores(config);
    expect(stores.backends).to.include({ principals: 'memory', rateLimit: 'memory', sessions: 'memory' });
    const auth = createAuth({ config, stores });
    await auth.bootstrapAdmin(config.ADMIN_API_KEY!);
    app = express();
    app.use(express.json());
    app.use('/auth', auth.authRouter());
    app.use('/admin', auth.principalAdminRouter());
    app.get('/whoami', auth.authenticate(), auth.rateLimit(), (req, res) => res.json(contextOf(req).principal));
    app.use(errorHandler());
  });

  after(async function () {
    await stores.close();
  });

  it('the bootstrap admin key works as X-API-Key and reaches the admin routes', async function () {
    const me = await request(app).get('/whoami').set('X-API-Key', adminKey).expect(200);
    expect(me.body).to.include({ id: 'admin', kind: 'apiKey' });
    expect(me.headers.ratelimit).to.match(/^"global"; r=299;/);
    await request(app).get('/admin/principals').set('X-API-Key', adminKey).expect(200);
  });

  it('bootstrapping again with a new key revokes the old one', async function () {
    const config = loadConfig({ JWT_SECRET: 'memory-defaults-secret-of-32-chars-or-more' });
    const auth = createAuth({ config, stores });
    await auth.bootstrapAdmin('second-admin-key-0123456789');
    await request(app).get('/whoami').set('X-API-Key', 'second-admin-key-0123456789').expect(200);
    expect((await request(app).get('/whoami').set('X-API-Key', adminKey)).status).to.equal(401);
    await auth.bootstrapAdmin(adminKey);
    await request(app).get('/whoami').set('X-API-Key', adminKey).expect(200);
  });

  it('deleting, disabling or re-passwording a principal ends its logins; a re-created one gets none of the old', async function () {
    const login = async (password: string) => {
      const answer = await request(app).post('/auth/login').send({ username: 'gina', password }).expect(201);
      return `Bearer ${answer.body.token}`;
    };
    const admin = (method: 'put' | 'delete', body?: object) =>
      request(app)[method]('/admin/principals/gina').set('X-API-Key', adminKey).send(body);
    const works = async (bearer: string) => (await request(app).get('/whoami').set('Authorization', bearer)).status;

    await admin('put', { password: 'gina-password-1' }).expect(201);
    let bearer = await login('gina-password-1');
    expect(await works(bearer)).to.equal(200);
    // A change of name or rights keeps the login; a new password ends it.
    await admin('put', { name: 'Gina', password: undefined }).expect(200);
    expect(await works(bearer)).to.equal(200);
    await admin('put', { password: 'gina-password-2' }).expect(200);
    expect(await works(bearer)).to.equal(401);

    bearer = await login('gina-password-2');
    await admin('put', { disabled: true }).expect(200);
    expect(await works(bearer)).to.equal(401);
    await admin('put', { disabled: false }).expect(200);
    expect(await works(bearer), 'enabled again: the old login stays ended').to.equal(401);

    bearer = await login('gina-password-2');
    await admin('delete').expect(204);
    await admin('put', { attributes: { role: 'support' } }).expect(201);
    expect(await works(bearer), 'a re-created principal of the same id').to.equal(401);
  });

  it('a user created by the admin logs in, sees its sessions and logs out', async function () {
    await request(app)
      .put('/admin/principals/frank')
      .set('X-API-Key', adminKey)
      .send({ password: 'frank-password' })
      .expect(201);
    const login = await request(app).post('/auth/login').send({ username: 'frank', password: 'frank-password' });
    expect(login.status).to.equal(201);
    const bearer = `Bearer ${login.body.token}`;
    const sessions = await request(app).get('/auth/sessions').set('Authorization', bearer).expect(200);
    expect(sessions.body.items).to.have.length(1);
    await request(app).post('/auth/logout').set('Authorization', bearer).expect(204);
    expect((await request(app).get('/whoami').set('Authorization', bearer)).status).to.equal(401);
  });
});
