// The process that answered a policy write enforces it from that answer on, with policies in MongoDB whose
// change feed other processes poll.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createLogger, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo } from '../../../examples/demo/assemble.js';
import { buildDemoApp } from '../../../examples/demo/app.js';
import { mongoUriFor, uniqueName } from '../../support/connections.js';
import { connectMongo } from '../../../stores/connections/mongodb.js';

describe('demo: a policy write is in force in the writing process when it is answered (MongoDB)', function () {
  this.timeout(120_000);
  const adminKey = `ryw.${randomBytes(24).toString('base64url')}`;
  let uri: string;
  let stores: Stores;
  let parts: Awaited<ReturnType<typeof assembleDemo>>;
  let app: ReturnType<typeof buildDemoApp>;

  before(async function () {
    uri = mongoUriFor(uniqueName('ryw'));
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      MONGODB_URI: uri,
      ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
      BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      ADMIN_API_KEY: adminKey,
    });
    stores = await createStores(config);
    expect(stores.backends.policies).to.equal('mongodb');
    parts = await assembleDemo({
      config,
      stores,
      logger: createLogger({ level: 'silent' }),
      randomKey: () => randomBytes(32).toString('base64'),
    });
    app = buildDemoApp(parts);
  });

  after(async function () {
    await parts?.close();
    await stores?.close();
    const connection = await connectMongo(uri);
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  });

  it('denies at once after the 201 of a deny policy, and allows at once after its deletion', async function () {
    const login = await request(app)
      .post('/auth/login')
      .send({ username: 'ana', password: 'analyst-demo-password' })
      .expect(201);
    const ana = `Bearer ${login.body.token as string}`;
    for (let round = 0; round < 5; round++) {
      expect((await request(app).get('/accounts?limit=1').set('Authorization', ana)).status).to.equal(200);
      await request(app)
        .put(`/admin/policies/block-analysts-${round}`)
        .set('X-API-Key', adminKey)
        .send({
          effect: 'deny',
          subjects: [{ role: { type: 'Eq', value: 'analyst' } }],
          actions: [{ type: 'Any' }],
          resources: [{ type: 'Any' }],
        })
        .expect(201);
      expect((await request(app).get('/accounts?limit=1').set('Authorization', ana)).status, `round ${round}`).to.equal(
        403,
      );
      await request(app).delete(`/admin/policies/block-analysts-${round}`).set('X-API-Key', adminKey).expect(204);
      expect((await request(app).get('/accounts?limit=1').set('Authorization', ana)).status).to.equal(200);
    }
  });
});
