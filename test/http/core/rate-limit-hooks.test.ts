// rateLimit() is exception-safe: throwing hooks and stores end in an error response, never a hang or an unhandled rejection.
import { expect } from 'chai';
import express from 'express';
import type { Store } from 'express-rate-limit';
import request from 'supertest';
import { errorHandler } from '../../../middleware/error-handler.js';
import { rateLimit } from '../../../middleware/rate-limit.js';
import type { Logger } from '../../../src/logger.js';
import { MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';

/** A minimal conforming express-rate-limit store that records the keys it is given. */
class RecordingStore implements Store {
  readonly keys: string[] = [];
  readonly #hits = new Map<string, number>();
  windowMs = 0;
  init(options: { windowMs: number }): void {
    this.windowMs = options.windowMs;
  }
  increment(key: string) {
    this.keys.push(key);
    const totalHits = (this.#hits.get(key) ?? 0) + 1;
    this.#hits.set(key, totalHits);
    return { totalHits, resetTime: new Date(Date.now() + this.windowMs) };
  }
  decrement(key: string): void {
    this.#hits.set(key, (this.#hits.get(key) ?? 1) - 1);
  }
  resetKey(key: string): void {
    this.#hits.delete(key);
  }
}

describe('rateLimit is exception-safe', function () {
  // Each request must answer well inside this; a hang fails the test by its timeout.
  this.timeout(3000);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));
  afterEach(async function () {
    // Give a stray rejection a turn of the event loop to surface.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled, 'unhandled rejections').to.deep.equal([]);
  });

  function appWith(limiter: express.RequestHandler, status = 200): express.Express {
    const app = express();
    app.get('/', limiter, (_req, res) => {
      res.status(status).json({ ok: status < 400 });
    });
    app.use(errorHandler());
    return app;
  }

  it('a throwing onLimited becomes the error response of the refused request', async function () {
    const onLimited = () => {
      throw new Error('metrics backend broke');
    };
    const app = appWith(rateLimit({ store: new MemoryRateLimitStore(), limit: 1, onLimited }));
    await request(app).get('/').expect(200);
    const refused = await request(app).get('/').expect(500);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.text).to.not.include('metrics backend broke');
  });

  it('a store whose decrement throws synchronously: the request answers, the failure is logged', async function () {
    const store = new RecordingStore();
    store.decrement = () => {
      throw new Error('decrement exploded');
    };
    const warnings: Record<string, unknown>[] = [];
    const logger = {
      warn: (fields: Record<string, unknown>) => warnings.push(fields),
      debug() {},
    } as unknown as Logger;
    const app = appWith(rateLimit({ store, countFailuresOnly: true, name: 'failures', logger }));
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(200);
    // The decrement runs when the response has finished.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).to.deep.include({ code: 'rate_limit.store_error', limit: 'failures', err: 'Error' });
  });

  it('a keyGenerator returning a promise is awaited: each client gets its own counter', async function () {
    const store = new RecordingStore();
    const keyGenerator = async (req: express.Request) => `tenant:${String(req.headers['x-tenant'])}`;
    const app = appWith(rateLimit({ store, limit: 1, keyGenerator }));
    await request(app).get('/').set('X-Tenant', 'a').expect(200);
    await request(app).get('/').set('X-Tenant', 'b').expect(200);
    await request(app).get('/').set('X-Tenant', 'a').expect(429);
    expect(store.keys).to.deep.equal(['tenant:a', 'tenant:b', 'tenant:a']);
  });

  it('a keyGenerator that throws, rejects or gives no string is the error of that request', async function () {
    const generators: ((req: express.Request) => string | Promise<string>)[] = [
      () => {
        throw new Error('no tenant');
      },
      () => Promise.reject(new Error('tenant lookup failed')),
      () => Promise.resolve(undefined as unknown as string),
    ];
    for (const keyGenerator of generators) {
      const store = new RecordingStore();
      const answer = await request(appWith(rateLimit({ store, keyGenerator })))
        .get('/')
        .expect(500);
      expect(answer.type).to.equal('application/problem+json');
      expect(store.keys).to.deep.equal([]);
    }
  });

  it('refuses a keyGenerator or onLimited that is not a function at creation, naming it', function () {
    for (const option of ['keyGenerator', 'onLimited']) {
      expect(() => rateLimit({ store: new MemoryRateLimitStore(), [option]: 'key' }))
        .to.throw()
        .with.property('option', option);
    }
    expect(() => rateLimit({ store: { increment() {} } as never }))
      .to.throw(/express-rate-limit Store/)
      .with.property('option', 'store');
  });
});
