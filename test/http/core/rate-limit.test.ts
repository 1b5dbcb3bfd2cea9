// rateLimit(): draft-8 headers, refusals, client keys by address, and what a failing counter store does.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { Store } from 'express-rate-limit';
import { errorHandler } from '../../../middleware/error-handler.js';
import { addressKey, rateLimit } from '../../../middleware/rate-limit.js';
import { MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';
import type { Logger } from '../../../src/logger.js';

const POLICY = /^"(\w+)"; q=(\d+); w=(\d+); pk=:([A-Za-z0-9+/=]+):$/;

describe('rateLimit', function () {
  it('sends the draft-8 headers on every answer, refuses past the limit with Retry-After, per client', async function () {
    const app = express();
    app.set('trust proxy', true);
    app.use(rateLimit({ store: new MemoryRateLimitStore(), limit: 3, windowMs: 60_000 }));
    app.get('/', (_req, res) => res.json({ ok: true }));
    app.use(errorHandler());
    const remaining: string[] = [];
    for (let n = 0; n < 3; n++) {
      const ok = await request(app).get('/').set('X-Forwarded-For', '192.0.2.1').expect(200);
      expect(ok.headers['ratelimit-policy']).to.match(POLICY);
      remaining.push(/r=(\d+)/.exec(ok.headers.ratelimit as string)![1]!);
      expect(ok.headers.ratelimit).to.match(/^"global"; r=\d+; t=(60|59)$/);
    }
    expect(remaining).to.deep.equal(['2', '1', '0']);
    const refused = await request(app).get('/').set('X-Forwarded-For', '192.0.2.1').expect(429);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.body.code).to.equal('rate_limited');
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    expect(refused.headers.ratelimit).to.match(/^"global"; r=0; t=\d+$/);
    // Another client has its own counter, and its own partition key.
    const other = await request(app).get('/').set('X-Forwarded-For', '192.0.2.2').expect(200);
    expect(POLICY.exec(other.headers['ratelimit-policy'] as string)![4]).to.not.equal(
      POLICY.exec(refused.headers['ratelimit-policy'] as string)![4],
    );
  });

  it('lets two limiters each add their own header values', async function () {
    const store = new MemoryRateLimitStore();
    const app = express();
    app.use(rateLimit({ store, name: 'ip', limit: 10 }), rateLimit({ store, name: 'api', limit: 5 }));
    app.get('/', (_req, res) => res.json({ ok: true }));
    const ok = await request(app).get('/').expect(200);
    expect(ok.headers.ratelimit).to.match(/^"ip"; r=9; t=\d+, "api"; r=4; t=\d+$/);
    expect(ok.headers['ratelimit-policy']).to.match(/^"ip"; q=10; w=60; pk=:.+:, "api"; q=5; w=60; pk=:.+:$/);
  });

  it('counts IPv4-mapped IPv6 clients as their IPv4 address and IPv6 clients per /56 (ipKeyGenerator)', async function () {
    const app = express();
    app.set('trust proxy', true);
    app.use(rateLimit({ store: new MemoryRateLimitStore(), limit: 2 }));
    app.get('/', (_req, res) => res.json({ ok: true }));
    app.use(errorHandler());
    const from = (ip: string) => request(app).get('/').set('X-Forwarded-For', ip);
    await from('1.2.3.4').expect(200);
    await from('::ffff:1.2.3.4').expect(200);
    await from('1.2.3.4').expect(429);
    await from('2001:db8:0:1::1').expect(200);
    await from('2001:db8:0:ff::9').expect(200);
    await from('2001:db8:0:42::7').expect(429);
    await from('2001:db8:0:100::1').expect(200);
    expect(addressKey({ ip: '::ffff:1.2.3.4' } as express.Request)).to.equal('1.2.3.4');
  });

  describe('when the counter store fails', function () {
    // express-rate-limit wants one store instance per limiter.
    const failing = (): Store => ({
      increment: () => Promise.reject(new Error('counter store down')),
      decrement: () => Promise.resolve(),
      resetKey: () => Promise.resolve(),
    });
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    const throwing: Store = {
      ...failing(),
      increment: () => {
        throw new Error('thrown, not rejected');
      },
    };
    const app = express();
    app.get('/open', rateLimit({ store: failing(), name: 'open', logger }), (_req, res) => res.json({ ok: true }));
    app.get('/throwing', rateLimit({ store: throwing, name: 'throwing', onStoreError: 'closed' }), (_req, res) =>
      res.json({ ok: true }),
    );
    app.get('/closed', rateLimit({ store: failing(), name: 'closed', onStoreError: 'closed', logger }), (_req, res) =>
      res.json({ ok: true }),
    );
    app.use(errorHandler());

    it('serves unlimited when open, answers 503 problem+json when closed, and logs each time', async function () {
      await request(app).get('/open').expect(200);
      const closed = await request(app).get('/closed').expect(503);
      expect(closed.type).to.equal('application/problem+json');
      expect(closed.body.code).to.equal('store_unavailable');
      expect(closed.text).to.not.include('counter store down');
      const thrown = await request(app).get('/throwing').expect(503);
      expect(thrown.body.code).to.equal('store_unavailable');
      expect(warnings).to.deep.equal([
        { code: 'rate_limit.store_error', limit: 'open', err: 'Error' },
        { code: 'rate_limit.store_error', limit: 'closed', err: 'Error' },
      ]);
    });
  });
});
