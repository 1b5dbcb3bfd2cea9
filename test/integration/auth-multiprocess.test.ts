// Two real processes sharing MongoDB and Redis: revocation and rate limits hold across them.
import { expect } from 'chai';
import request from 'supertest';
import { sharedMongo, sharedRedis, sharedRedisCluster, uniqueName } from '../support/connections.js';
import { ADMIN_KEY, buildAuthApp, type AuthApp } from '../http/auth/fixtures.js';
import { startWorker, type Worker } from './auth-worker-process.js';

for (const cluster of [false, true])
  describe(`auth across two processes (shared MongoDB and Redis${cluster ? ' Cluster' : ''})`, function () {
    this.timeout(60_000);
    const env: Record<string, string> = { RATE_LIMIT_MAX: '6', ...(cluster && { CLUSTER: '1' }) };
    let local: AuthApp;
    let worker: Worker;

    before(async function () {
      const prefix = uniqueName('authmp');
      const redis = cluster ? await sharedRedisCluster() : await sharedRedis();
      local = await buildAuthApp({ prefix, mongo: await sharedMongo(), redis, env });
      await request(local.app)
        .put('/admin/principals/dave')
        .set('X-API-Key', ADMIN_KEY)
        .send({ name: 'Dave', groups: [] })
        .expect(201);
      worker = await startWorker(prefix, env);
    });

    after(async function () {
      await worker?.stop();
      await local?.cleanup();
    });

    async function newKey(): Promise<{ id: string; key: string }> {
      const created = await request(local.app)
        .post('/admin/principals/dave/api-keys')
        .set('X-API-Key', ADMIN_KEY)
        .expect(201);
      return created.body;
    }

    it('a key revoked in one process is refused by the other on its very next request', async function () {
      const { id, key } = await newKey();
      // The worker has verified the key and cached its record in Redis and its secret check in memory.
      await request(worker.url).get('/api/whoami').set('X-API-Key', key).expect(200);
      await request(worker.url).get('/api/whoami').set('X-API-Key', key).expect(200);
      await request(local.app).delete(`/admin/api-keys/${id}`).set('X-API-Key', ADMIN_KEY).expect(204);
      const refused = await request(worker.url).get('/api/whoami').set('X-API-Key', key);
      expect(refused.status).to.equal(401);
      expect(refused.headers['content-type']).to.match(/application\/problem\+json/);
      expect(refused.body.detail).to.equal('The credentials are not valid.');
    });

    it('a session revoked in one process is refused by the other', async function () {
      await request(local.app)
        .put('/admin/principals/erin')
        .set('X-API-Key', ADMIN_KEY)
        .send({ password: 'erin-password-1' })
        .expect(201);
      const login = await request(worker.url)
        .post('/auth/login')
        .send({ username: 'erin', password: 'erin-password-1' });
      expect(login.status).to.equal(201);
      const bearer = `Bearer ${login.body.token}`;
      await request(local.app).get('/auth/me').set('Authorization', bearer).expect(200);
      await request(local.app).post('/auth/logout').set('Authorization', bearer).expect(204);
      expect((await request(worker.url).get('/auth/me').set('Authorization', bearer)).status).to.equal(401);
    });

    it('one rate limit is shared: requests alternating between the processes are counted together', async function () {
      const { key } = await newKey();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const target = i % 2 === 0 ? request(local.app) : request(worker.url);
        const response = await target.get('/api/whoami').set('X-API-Key', key);
        statuses.push(response.status);
        if (response.status === 429) {
          expect(response.headers['content-type']).to.match(/application\/problem\+json/);
          expect(Number(response.headers['retry-after'])).to.be.at.least(1);
        }
      }
      expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 200, 429, 429]);
    });
  });
