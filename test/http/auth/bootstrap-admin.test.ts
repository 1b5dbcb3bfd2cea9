// The ADMIN_API_KEY principal decides through the same ABAC policies as everyone: a role-based admin policy
// lets it through with no hand-made attributes (ADMIN_ROLE names the role).
import { expect } from 'chai';
import express, { type Express } from 'express';
import request from 'supertest';
import { loadConfig } from '../../../src/config/index.js';
import { allow } from '../../../src/abac/policy.js';
import { PolicySet, rules } from 'portcullis';
import { createAuth } from '../../../middleware/auth-setup.js';
import { authorize } from '../../../middleware/authorize.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { createStores, type Stores } from '../../../stores/create-stores.js';

const { Eq, Any } = rules;
const ADMIN_KEY = 'bootstrap-admin-key-0123456789abcdef';
const JWT_SECRET = 'bootstrap-admin-secret-of-32-chars-or-more';

function roleIs(role: string): PolicySet {
  return new PolicySet([
    allow({ uid: `${role}s-may-do-anything`, subjects: [{ role: Eq(role) }], actions: [Any()], resources: [Any()] }),
  ]);
}

async function appFor(env: Record<string, string>, role: string): Promise<{ app: Express; stores: Stores }> {
  const config = loadConfig({ ADMIN_API_KEY: ADMIN_KEY, JWT_SECRET, ...env });
  const stores = await createStores(config);
  const auth = createAuth({ config, stores });
  await auth.bootstrapAdmin(config.ADMIN_API_KEY!);
  const app = express();
  app.use(express.json());
  app.use('/admin', auth.authenticate(), authorize({ policies: roleIs(role), action: 'admin', resource: 'admin' }));
  app.use('/admin', auth.principalAdminRouter());
  app.use(errorHandler());
  return { app, stores };
}

describe('the bootstrap admin under role-based ABAC policies', function () {
  const opened: Stores[] = [];
  after(async function () {
    for (const stores of opened) await stores.close();
  });

  it('ADMIN_API_KEY passes a policy that allows role admin, with no attribute patched in by hand', async function () {
    const { app, stores } = await appFor({}, 'admin');
    opened.push(stores);
    const me = await request(app).get('/admin/principals/admin').set('X-API-Key', ADMIN_KEY).expect(200);
    expect(me.body).to.deep.include({ admin: true, attributes: { role: 'admin' } });
  });

  it('ADMIN_ROLE names the role; a policy for another role still refuses it', async function () {
    const custom = await appFor({ ADMIN_ROLE: 'platform-owner' }, 'platform-owner');
    opened.push(custom.stores);
    await request(custom.app).get('/admin/principals').set('X-API-Key', ADMIN_KEY).expect(200);
    const other = await appFor({ ADMIN_ROLE: 'platform-owner' }, 'admin');
    opened.push(other.stores);
    const refused = await request(other.app).get('/admin/principals').set('X-API-Key', ADMIN_KEY);
    expect(refused.status).to.equal(403);
    expect(refused.body.code).to.match(/^forbidden/);
  });

  it('bootstrapping again keeps the attributes an operator added and restores the role', async function () {
    const config = loadConfig({ ADMIN_API_KEY: ADMIN_KEY, JWT_SECRET });
    const stores = await createStores(config);
    opened.push(stores);
    const auth = createAuth({ config, stores });
    await auth.bootstrapAdmin(ADMIN_KEY);
    const record = (await stores.principals.getPrincipal('admin'))!;
    await stores.principals.savePrincipal({ ...record, attributes: { role: 'intern', site: 'berlin' } });
    await auth.bootstrapAdmin(ADMIN_KEY);
    expect((await stores.principals.getPrincipal('admin'))!.attributes).to.deep.equal({
      role: 'admin',
      site: 'berlin',
    });
  });

  it('rejects an ADMIN_ROLE that is not a plain name at start-up, naming the variable', function () {
    expect(() => loadConfig({ ADMIN_ROLE: 'admin role!' })).to.throw(/ADMIN_ROLE/);
  });
});
