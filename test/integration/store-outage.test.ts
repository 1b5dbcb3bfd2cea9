// A store outage mid-run: requests that need it get 503, /health says down, the process recovers by itself.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/index.js';
import { createStores, type Stores } from '../../stores/create-stores.js';
import { errorHandler, notFoundHandler } from '../../middleware/error-handler.js';
import { healthHandler } from '../../middleware/health.js';
import { startMongoServer, startRedisServer, type ServerHandle } from '../support/servers.js';

function buildApp(stores: Stores) {
  const app = express();
  app.get('/health', healthHandler({ stores }));
  app.get('/sessions/:id', async (req, res) => {
    const session = await stores.sessions.get(req.params.id);
    res.status(session ? 200 : 404).json({ found: Boolean(session) });
  });
  // Three lookups that each fail open, as a rate limiter, a cache and a session lookup in one request would.
  app.get('/fail-open/:id', async (req, res) => {
    let answered = 0;
    for (let i = 0; i < 3; i++) {
      if (
        await stores.sessions.get(req.params.id).then(
          () => true,
          () => false,
        )
      )
        answered++;
    }
    res.json({ answered });
  });
  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

for (const kind of ['mongodb', 'redis'] as const) {
  describe(`outage of the ${kind} server`, function () {
    this.timeout(90_000);
    let server: ServerHandle;
    let stores: Stores;
    let app: express.Express;

    before(async function () {
      // This test stops and restarts a server, so it starts its own instead of the run's shared one.
      server = kind === 'mongodb' ? await startMongoServer() : await startRedisServer();
      const config = loadConfig(
        kind === 'mongodb'
          ? {
              MONGODB_URI: server.url,
              SESSIONS_BACKEND: 'mongodb',
              MONGODB_SERVER_SELECTION_TIMEOUT: '1s',
              MONGODB_RECONNECT_AFTER: '2s',
            }
          : { REDIS_URL: server.url, SESSIONS_BACKEND: 'redis', REDIS_COMMAND_TIMEOUT: '500ms' },
      );
      stores = await createStores(config);
      app = buildApp(stores);
      await stores.sessions.create({ id: 'outage-session-1', userId: 'alice', ttlMs: 600_000 });
    });

    after(async function () {
      await stores?.close();
      await server?.stop();
    });

    it('serves 503 problem+json while down and recovers by itself', async function () {
      expect((await request(app).get('/sessions/outage-session-1')).status).to.equal(200);
      expect((await request(app).get('/health')).body.stores.sessions).to.include({ status: 'up', backend: kind });

      await server.stop({ keepData: true });

      const started = Date.now();
      const during = await request(app).get('/sessions/outage-session-1');
      expect(during.status).to.equal(503);
      expect(during.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(during.body.detail).to.equal(`The ${kind} store is unavailable; try again shortly.`);
      expect(Date.now() - started, 'a request during an outage must fail fast').to.be.lessThan(5000);

      const health = await request(app).get('/health');
      expect(health.status).to.equal(503);
      expect(health.body.servers[kind].status).to.equal('down');
      expect(health.body.stores.sessions).to.include({ status: 'down', backend: kind });

      await server.start();
      await until('the store to answer again', 45_000, async () => {
        const response = await request(app).get('/sessions/outage-session-1');
        return response.status === 503 ? undefined : response;
      });
      const after = await request(app).get('/sessions/outage-session-1');
      // Redis here runs without persistence, so the session itself is gone after the restart.
      expect(after.status).to.equal(kind === 'mongodb' ? 200 : 404);
      expect((await request(app).get('/health')).status).to.equal(200);
    });

    if (kind === 'redis') {
      it('fails a request started as the server freezes within about REDIS_COMMAND_TIMEOUT', async function () {
        await until('the store to answer', 45_000, async () => {
          const response = await request(app).get('/fail-open/outage-session-1');
          return response.body.answered === 3 ? response : undefined;
        });
        server.pause();
        try {
          const started = Date.now();
          const response = await request(app).get('/fail-open/outage-session-1');
          const elapsed = Date.now() - started;
          expect(response.body).to.deep.equal({ answered: 0 });
          // REDIS_COMMAND_TIMEOUT is 500 ms: the first command times out, the PING sent within 125 ms of the
          // freeze goes unanswered for 500 ms and the others fail at once (3 x 500 ms without the check).
          expect(elapsed, 'three commands against a server frozen as the request started').to.be.lessThan(1000);
        } finally {
          server.resume();
        }
      });

      it('fails commands at once while the server is frozen, once a liveness check went unanswered', async function () {
        await until('the store to answer', 45_000, async () => {
          const response = await request(app).get('/sessions/outage-session-1');
          return response.status === 503 ? undefined : response;
        });
        server.pause();
        try {
          // REDIS_COMMAND_TIMEOUT is 500 ms: the check (every second) trips within about 1.5 s.
          await sleep(2_000);
          const started = Date.now();
          const response = await request(app).get('/fail-open/outage-session-1');
          expect(response.body).to.deep.equal({ answered: 0 });
          expect(Date.now() - started, 'three commands against a frozen server').to.be.lessThan(250);
        } finally {
          server.resume();
        }
        await until('the store to answer after the thaw', 45_000, async () => {
          const response = await request(app).get('/fail-open/outage-session-1');
          return response.body.answered === 3 ? response : undefined;
        });
      });
    }

    if (kind === 'mongodb') {
      it('gives a client whose server stayed unreachable past MONGODB_RECONNECT_AFTER a fresh topology, reported by /health', async function () {
        await until('the store to answer', 45_000, async () => {
          const response = await request(app).get('/sessions/outage-session-1');
          return response.status === 503 ? undefined : response;
        });
        const before = ((await request(app).get('/health')).body.servers.mongodb.recovery?.attempts as number) ?? 0;
        server.pause();
        let during: request.Response;
        try {
          // Unhealthy for 2 s, checked every second: the first attempt starts within about 3 s.
          during = await until('a forced reconnect', 20_000, async () => {
            const response = await request(app).get('/health');
            return response.body.servers.mongodb.recovery?.attempts > before ? response : undefined;
          });
        } finally {
          server.resume();
        }
        expect(during.status).to.equal(503);
        expect(during.body.servers.mongodb.recovery.lastAttemptAt).to.be.a('string');
        const started = Date.now();
        await until('the store to answer after the thaw', 30_000, async () => {
          const response = await request(app).get('/sessions/outage-session-1');
          expect(response.status, 'never a 500').to.be.oneOf([200, 503]);
          return response.status === 200 ? response : undefined;
        });
        expect(Date.now() - started, 'recovery after the thaw').to.be.lessThan(15_000);
        const health = await until('/health to report the reconnect', 15_000, async () => {
          const response = await request(app).get('/health');
          return response.body.servers.mongodb.recovery?.lastOutcome === 'reconnected' ? response : undefined;
        });
        expect(health.status).to.equal(200);
        expect(health.body.servers.mongodb.recovery).to.not.have.property('unhealthyForMs');
      });
    }

    it('serves 503, never 500, while the server is frozen (SIGSTOP), and recovers after it thaws', async function () {
      await until('the store to answer', 45_000, async () => {
        const response = await request(app).get('/sessions/outage-session-1');
        return response.status === 503 ? undefined : response;
      });
      server.pause();
      try {
        const started = Date.now();
        // Requests in flight when the driver gives up on the frozen server fail with its pool-cleared error.
        const answers = await Promise.all(
          Array.from({ length: 3 }, () => request(app).get('/sessions/outage-session-1').timeout(30_000)),
        );
        // A request the server took just before it stopped may still be answered; none may be a 500.
        const statuses = answers.map((answer) => answer.status);
        expect(
          statuses.filter((status) => status !== 200 && status !== 503),
          String(statuses),
        ).to.deep.equal([]);
        const refused = answers.find((answer) => answer.status === 503);
        expect(refused, `${String(statuses)} after ${Date.now() - started} ms`).to.not.equal(undefined);
        expect(refused!.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(Date.now() - started, 'a frozen server must not hold requests for long').to.be.lessThan(20_000);
      } finally {
        server.resume();
      }
      await until('the store to answer after the thaw', 45_000, async () => {
        const response = await request(app).get('/sessions/outage-session-1');
        return response.status === 503 ? undefined : response;
      });
    });
  });
}
