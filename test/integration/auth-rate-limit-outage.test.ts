// The rate limiter while its Redis restarts: fail-open keeps serving, fail-closed answers 503, both recover.
import { expect } from 'chai';
import express from 'express';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorHandler } from '../../middleware/error-handler.js';
import { rateLimit } from '../../middleware/rate-limit.js';
import { connectRedis } from '../../stores/connections/redis.js';
import { RedisRateLimitStore } from '../../stores/redis/rate-limit.js';
import { startRedisServer, type ServerHandle } from '../support/servers.js';

describe('rate limit while Redis restarts (own Redis server)', function () {
  this.timeout(60_000);
  let server: ServerHandle;
  let client: Redis;
  let app: express.Express;

  before(async function () {
    server = await startRedisServer();
    client = await connectRedis(server.url, { commandTimeoutMs: 500 });
    const store = new RedisRateLimitStore({ client, prefix: 'outage:' });
    app = express();
    app.set('trust proxy', true);
    app.get('/open', rateLimit({ store, name: 'open', limit: 3, onStoreError: 'open' }), (_req, res) => res.json({}));
    app.get('/closed', rateLimit({ store, name: 'closed', limit: 3, onStoreError: 'closed' }), (_req, res) =>
      res.json({}),
    );
    app.use(errorHandler());
  });

  after(async function () {
    client?.disconnect();
    await server?.stop();
  });

  async function statuses(path: string, count: number, ip = '192.0.2.1'): Promise<number[]> {
    const result: number[] = [];
    for (let i = 0; i < count; i++) result.push((await request(app).get(path).set('X-Forwarded-For', ip)).status);
    return result;
  }

  it('counts with a TTL on every key', async function () {
    expect(await statuses('/open', 4)).to.deep.equal([200, 200, 200, 429]);
    const keys = await client.keys('outage:*');
    expect(keys).to.have.length.greaterThan(0);
    for (const key of keys) expect(await client.pttl(key)).to.be.within(1, 60_000);
  });

  it('IPv6 clients of one /56 share a counter; another /56 does not', async function () {
    expect(await statuses('/closed', 3, '2001:db8:0:1::1')).to.deep.equal([200, 200, 200]);
    expect(await statuses('/closed', 1, '2001:db8:0:2::99')).to.deep.equal([429]);
    expect(await statuses('/closed', 1, '2001:db8:1:0::1')).to.deep.equal([200]);
  });

  it('while Redis is down: fail-open serves, fail-closed answers 503 problem+json', async function () {
    await server.stop({ keepData: true });
    await sleep(100);
    expect(await statuses('/open', 5, '192.0.2.50')).to.deep.equal([200, 200, 200, 200, 200]);
    const closed = await request(app).get('/closed').set('X-Forwarded-For', '192.0.2.50');
    expect(closed.status).to.equal(503);
    expect(closed.headers['content-type']).to.match(/application\/problem\+json/);
    expect(JSON.stringify(closed.body)).to.not.match(/ECONN|Connection|stack/);
  });

  it('after Redis comes back (empty, script cache flushed) limiting resumes by itself', async function () {
    await server.start();
    const deadline = Date.now() + 15_000;
    while (client.status !== 'ready' && Date.now() < deadline) await sleep(100);
    expect(client.status).to.equal('ready');
    expect(await statuses('/closed', 4, '192.0.2.60')).to.deep.equal([200, 200, 200, 429]);
    expect(await statuses('/open', 4, '192.0.2.60')).to.deep.equal([200, 200, 200, 429]);
  });
});
