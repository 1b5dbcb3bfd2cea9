// A community express-rate-limit store (rate-limit-redis) serves rateLimit() unchanged, against the run's Redis.
import { expect } from 'chai';
import express from 'express';
import type { Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import request from 'supertest';
import { errorHandler } from '../../middleware/error-handler.js';
import { rateLimit } from '../../middleware/rate-limit.js';
import type { RateLimitStore } from '../../src/contracts/rate-limit.js';
import { sharedRedis, uniqueName } from '../support/connections.js';

// Portcullis' own stores are express-rate-limit stores: this line does not compile if they drift apart.
const conforms: (store: RateLimitStore) => Store = (store) => store;

describe('rateLimit with rate-limit-redis (a community store)', function () {
  let client: Redis;
  let prefix: string;

  before(async function () {
    client = await sharedRedis();
    prefix = `${uniqueName('rlr')}:`;
  });

  after(async function () {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  });

  function store(name: string): RedisStore {
    return new RedisStore({
      sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as Promise<RedisReply>,
      prefix: `${prefix}${name}:`,
    });
  }

  it('counts, sends the draft-8 headers and refuses with 429 problem+json', async function () {
    const app = express();
    app.set('trust proxy', true);
    app.use(rateLimit({ store: store('api'), name: 'api', limit: 2, windowMs: 60_000 }));
    app.get('/', (_req, res) => res.json({ ok: true }));
    app.use(errorHandler());
    const from = (ip: string) => request(app).get('/').set('X-Forwarded-For', ip);
    const first = await from('198.51.100.7').expect(200);
    expect(first.headers.ratelimit).to.match(/^"api"; r=1; t=(60|59)$/);
    await from('::ffff:198.51.100.7').expect(200);
    const refused = await from('198.51.100.7').expect(429);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.body.code).to.equal('rate_limited');
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    await from('198.51.100.8').expect(200);
    // The counter lives in Redis under the store's own prefix and our client key, with the window as its TTL.
    const key = `${prefix}api:ip:198.51.100.7`;
    expect(await client.get(key)).to.equal('3');
    expect(await client.pttl(key)).to.be.within(1, 60_000);
  });

  it('takes successes back when counting failures only', async function () {
    const app = express();
    app.use(rateLimit({ store: store('failures'), name: 'failures', limit: 1, countFailuresOnly: true }));
    app.get('/ok', (_req, res) => res.json({ ok: true }));
    app.get('/fail', (_req, res) => res.status(401).json({ ok: false }));
    app.use(errorHandler());
    for (let n = 0; n < 3; n++) await request(app).get('/ok').expect(200);
    await request(app).get('/fail').expect(401);
    await request(app).get('/ok').expect(429);
  });

  it('Portcullis stores type-check as express-rate-limit stores', function () {
    expect(conforms).to.be.a('function');
  });
});
