// rateLimit({ countFailuresOnly, headers: false }): only failed requests count, and no RateLimit headers are sent.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../../middleware/error-handler.js';
import { rateLimit } from '../../../middleware/rate-limit.js';
import { MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';

describe('rateLimit counting failures only', function () {
  const app = express();
  app.set('trust proxy', false);
  app.use(
    rateLimit({
      store: new MemoryRateLimitStore(),
      name: 'failures',
      limit: 2,
      countFailuresOnly: true,
      headers: false,
    }),
  );
  app.get('/ok', (_req, res) => res.json({ ok: true }));
  app.get('/fail', (_req, res) => res.status(401).json({ ok: false }));
  app.use(errorHandler());

  it('lets successes through however many, refuses after the limit of failures, without RateLimit headers', async function () {
    for (let n = 0; n < 5; n++) {
      const ok = await request(app).get('/ok').expect(200);
      expect(ok.headers).to.not.have.any.keys('ratelimit', 'ratelimit-policy');
    }
    await request(app).get('/fail').expect(401);
    await request(app).get('/fail').expect(401);
    const refused = await request(app).get('/ok').expect(429);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.headers['retry-after']).to.match(/^\d+$/);
  });
});

describe('rateLimit options', function () {
  it('refuses a non-boolean headers or countFailuresOnly, naming the option', function () {
    for (const option of ['headers', 'countFailuresOnly']) {
      expect(() => rateLimit({ store: new MemoryRateLimitStore(), [option]: 'yes' }))
        .to.throw()
        .with.property('option', option);
    }
  });
});
