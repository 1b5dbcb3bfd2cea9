// Revoking or disabling during a Redis stall: two processes share a Redis server that freezes (SIGSTOP).
import { expect } from 'chai';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../src/errors.js';
import { connectRedis } from '../../stores/connections/redis.js';
import { MemoryPrincipalStore } from '../../stores/memory/principals.js';
import { RedisPrincipalCache } from '../../stores/redis/principal-cache.js';
import { ADMIN_KEY, buildAuthApp, type AuthApp } from '../http/auth/fixtures.js';
import { deleteKeys, sharedMongo, sharedRedis, uniqueName } from '../support/connections.js';
import { startRedisServer, type ServerHandle } from '../support/servers.js';

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('principal cache: a change made during a Redis stall', function () {
  this.timeout(60_000);
  let server: ServerHandle;
  let clients: Redis[];
  let one: AuthApp;
  let two: AuthApp;
  let prefix: string;

  before(async function () {
    // This test freezes its Redis server, so it starts its own instead of the run's shared one.
    server = await startRedisServer();
    clients = await Promise.all([0, 1].map(() => connectRedis(server.url, { commandTimeoutMs: 500 })));
    const mongo = await sharedMongo();
    prefix = uniqueName('pcoutage');
    // Two processes: separate Redis connections and caches, one store of record and one shared Redis.
    one = await buildAuthApp({ prefix, mongo, redis: clients[0]! });
    two = await buildAuthApp({ prefix, mongo, redis: clients[1]! });
    await request(one.app)
      .put('/admin/principals/sam')
      .set('X-API-Key', ADMIN_KEY)
      .send({ name: 'Sam', password: 'correct horse battery' })
      .expect(201);
  });

  after(async function () {
    server?.resume();
    await one?.cleanup();
    await Promise.all((clients ?? []).map((client) => client.quit().catch(() => undefined)));
    await server?.stop();
  });

  async function stall(during: () => Promise<void>): Promise<void> {
    server.pause();
    // As in a stall that outlasts the liveness check: the clients have dropped their connections.
    await until('both processes to notice', 10_000, async () => clients.every((client) => client.status !== 'ready'));
    try {
      await during();
    } finally {
      await thaw();
    }
  }

  async function thaw(): Promise<void> {
    server.resume();
    await until('both processes to reach Redis again', 20_000, async () =>
      (
        await Promise.all(
          clients.map((client) =>
            client.ping().then(
              () => true,
              () => false,
            ),
          ),
        )
      ).every(Boolean),
    );
  }

  const whoami = (fixture: AuthApp, header: string, value: string) =>
    request(fixture.app).get('/api/whoami').set(header, value);

  it('refuses a key revoked during the stall on every process at once, after the admin got 204', async function () {
    const created = await request(one.app)
      .post('/admin/principals/sam/api-keys')
      .set('X-API-Key', ADMIN_KEY)
      .send({ name: 'stall' })
      .expect(201);
    const { key, id } = created.body as { key: string; id: string };
    // Both processes have the key in the shared cache.
    for (const fixture of [one, two]) expect((await whoami(fixture, 'X-API-Key', key)).status).to.equal(200);

    let answer = 0;
    await stall(async () => {
      const during = await request(one.app).delete(`/admin/api-keys/${id}`).set('X-API-Key', ADMIN_KEY);
      answer = during.status;
      expect(answer).to.be.oneOf([204, 503]);
      if (answer === 503) {
        expect(during.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(during.body.code).to.equal('store_unavailable');
      }
    });
    if (answer === 503) {
      // Refused, store untouched (the cache entry could not be invalidated): the key works until the admin retries.
      expect((await whoami(two, 'X-API-Key', key)).status).to.equal(200);
      await request(one.app).delete(`/admin/api-keys/${id}`).set('X-API-Key', ADMIN_KEY).expect(204);
    }
    for (const fixture of [one, two]) expect((await whoami(fixture, 'X-API-Key', key)).status).to.equal(401);
    // Deleting it again is answered the same and leaves it refused.
    await request(two.app).delete(`/admin/api-keys/${id}`).set('X-API-Key', ADMIN_KEY).expect(204);
    for (const fixture of [one, two]) expect((await whoami(fixture, 'X-API-Key', key)).status).to.equal(401);
  });

  it('leaves a principal enabled when disabling it answered 503, and disables it everywhere on the retry', async function () {
    const login = await request(one.app)
      .post('/auth/login')
      .send({ username: 'sam', password: 'correct horse battery' });
    expect(login.body.token).to.be.a('string');
    const bearer = `Bearer ${login.body.token as string}`;
    for (const fixture of [one, two]) expect((await whoami(fixture, 'Authorization', bearer)).status).to.equal(200);

    await stall(async () => {
      const during = await request(one.app)
        .put('/admin/principals/sam')
        .set('X-API-Key', ADMIN_KEY)
        .send({ name: 'Sam', disabled: true });
      expect(during.status).to.equal(503);
    });
    // What the 503 said is what happened: nothing changed, in the store of record and on either process.
    const stored = await (await sharedMongo()).collection(`${prefix}_principals`).findOne({ _id: 'sam' as never });
    expect(stored?.disabled ?? false).to.equal(false);
    for (const fixture of [one, two]) expect((await whoami(fixture, 'Authorization', bearer)).status).to.equal(200);

    await request(one.app)
      .put('/admin/principals/sam')
      .set('X-API-Key', ADMIN_KEY)
      .send({ name: 'Sam', disabled: true })
      .expect(200);
    for (const fixture of [one, two]) expect((await whoami(fixture, 'Authorization', bearer)).status).to.equal(401);
  });

  for (const [label, writeMs, ttlMs, expected] of [
    ['answers as usual when Redis stalls during a quick store write: the mark set before still holds', 0, 30_000, 'ok'],
    ['answers 503 when Redis stalls during a store write slower than half the mark lifetime', 700, 1000, 'refused'],
  ] as const) {
    it(label, async function () {
      const client = clients[0]!;
      const prefix = `${uniqueName('pcslow')}:`;
      // Redis freezes once the change is under way, after the mark was set.
      class StallingStore extends MemoryPrincipalStore {
        override async revokeApiKey(id: string, at: Date) {
          server.pause();
          await until('the process to notice', 10_000, async () => client.status !== 'ready');
          await sleep(writeMs);
          return super.revokeApiKey(id, at);
        }
      }
      const store = new StallingStore();
      const cache = new RedisPrincipalCache({ store, client, prefix, ttlMs });
      await cache.createApiKey({
        id: 'slow-key-1',
        principalId: 'sam',
        secretHash: 'hmac-sha256$abc',
        scopes: [],
        createdAt: new Date(),
      });
      const outcome = await cache
        .revokeApiKey('slow-key-1', new Date())
        .then(
          () => 'ok',
          (error: unknown) => error,
        )
        .finally(thaw);
      if (expected === 'ok') expect(outcome).to.equal('ok');
      else expect(outcome).to.be.instanceOf(StoreUnavailableError);
      // Either way the change is made and the cache never answers the old record.
      expect((await store.getApiKey('slow-key-1'))?.revokedAt).to.be.instanceOf(Date);
      expect((await cache.getApiKey('slow-key-1'))?.revokedAt).to.be.instanceOf(Date);
    });
  }
});

describe('principal cache: a read racing a change', function () {
  it('never fills the entry with a value the reader loaded before the change', async function () {
    const client = await sharedRedis();
    const prefix = `${uniqueName('pcrace')}:`;
    let held: Promise<void> | undefined;
    // The store of record, with a reader that stalls after loading (a slow process or network).
    class SlowStore extends MemoryPrincipalStore {
      override async getApiKey(id: string) {
        const record = await super.getApiKey(id);
        await held;
        return record;
      }
    }
    const store = new SlowStore();
    const reader = new RedisPrincipalCache({ store, client, prefix });
    const writer = new RedisPrincipalCache({ store, client, prefix });
    try {
      await writer.createApiKey({
        id: 'race-key-1',
        principalId: 'sam',
        secretHash: 'hmac-sha256$abc',
        scopes: [],
        createdAt: new Date(),
      });
      // As once the entry expired: the next read misses and fills it.
      await client.del(`${prefix}pc:k:race-key-1`);
      let release!: () => void;
      held = new Promise((resolve) => (release = resolve));
      const slowRead = reader.getApiKey('race-key-1');
      await sleep(50);
      await writer.revokeApiKey('race-key-1', new Date());
      release();
      expect((await slowRead)?.revokedAt, 'the read began before the revocation').to.equal(undefined);
      held = undefined;
      expect((await reader.getApiKey('race-key-1'))?.revokedAt).to.be.instanceOf(Date);
    } finally {
      await deleteKeys(client, `${prefix}*`);
    }
  });
});
