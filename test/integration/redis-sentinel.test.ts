// Redis Sentinel by configuration: the variables, every Redis store through a real sentinel, and a failover.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { allow } from '../../src/abac/policy.js';
import type { PolicyChange } from '../../src/contracts/policies.js';
import { loadConfig, type Env } from '../../src/config/index.js';
import { ConfigError, ConfigErrors } from '../../src/errors.js';
import { createStores } from '../../stores/create-stores.js';
import type { Stores } from '../../src/contracts/store-set.js';
import { uniqueName } from '../support/connections.js';
import { demoLogin, startDemo } from '../support/demo-process.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../support/servers.js';
import { sealedEvents } from '../unit/audit/events.js';

function problems(env: Env): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigErrors);
    return (error as Error).message;
  }
  return '';
}

async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${what}: still failing after ${timeoutMs}ms (${(last as Error)?.message})`);
}

describe('Redis Sentinel', function () {
  describe('REDIS_SENTINELS and REDIS_SENTINEL_*', function () {
    it('parse host:port lists and make Redis configured for the auto backends', function () {
      const config = loadConfig({
        REDIS_SENTINELS: 's1.example:26379, [::1]:26380,10.0.0.3:1',
        REDIS_SENTINEL_NAME: 'mymaster',
        SESSIONS_BACKEND: 'redis',
      });
      expect(config.REDIS_SENTINELS).to.deep.equal([
        { host: 's1.example', port: 26379 },
        { host: '::1', port: 26380 },
        { host: '10.0.0.3', port: 1 },
      ]);
      expect(config.REDIS_SENTINEL_NAME).to.equal('mymaster');
    });

    it('refuse a bad address, a missing name, settings without sentinels and a second Redis deployment', function () {
      for (const bad of ['s1', 's1:', ':26379', 's1:0', 's1:65536', 's1:26379:1', 's1:port', 'bad host:1']) {
        expect(problems({ REDIS_SENTINELS: bad, REDIS_SENTINEL_NAME: 'm' }), bad).to.match(
          /^Invalid configuration:\n {2}- REDIS_SENTINELS: (.* is not host:port|must be an IP address or a host name)[^\n]*$/,
        );
      }
      expect(problems({ REDIS_SENTINELS: 's1:26379' })).to.match(
        /REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/,
      );
      const orphan = problems({ REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_MASTER_PASSWORD: 's3cret' });
      expect(orphan).to.match(/REDIS_SENTINEL_NAME: is set but REDIS_SENTINELS is not/);
      expect(orphan).to.match(/REDIS_SENTINEL_MASTER_PASSWORD: is set but REDIS_SENTINELS is not/);
      expect(orphan).to.not.include('s3cret');
      const sentinel = { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm' };
      expect(problems({ ...sentinel, REDIS_URL: 'redis://a:1' })).to.match(
        /REDIS_SENTINELS: cannot be set together with REDIS_URL/,
      );
      expect(problems({ ...sentinel, REDIS_CLUSTER_NODES: 'redis://a:1' })).to.match(
        /REDIS_SENTINELS: cannot be set together with REDIS_CLUSTER_NODES/,
      );
      expect(problems({ AUDIT_BACKEND: 'redis' })).to.match(
        /AUDIT_BACKEND: is redis but none of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS is set/,
      );
    });
  });

  describe('through a real sentinel (master, replica, one sentinel)', function () {
    this.timeout(60_000);
    let sentinel: RedisSentinelHandle;
    const opened: Stores[] = [];

    before(async function () {
      sentinel = await startRedisSentinel();
      console.log(`      [${sentinel.description}: sentinel ${sentinel.sentinels}]`);
    });
    afterEach(async function () {
      for (const stores of opened.splice(0)) await stores.close();
    });
    after(async function () {
      await sentinel?.stop();
    });

    const env = (extra: Env = {}): Env => ({
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_SENTINEL_PASSWORD: sentinel.password,
      REDIS_SENTINEL_MASTER_PASSWORD: sentinel.password,
      ...extra,
    });
    const open = async (extra: Env = {}) => {
      const stores = await createStores(loadConfig(env(extra)));
      opened.push(stores);
      return stores;
    };
    // A direct client of one server, to see where the stores' keys are.
    const direct = async (port: number) => {
      const client = new Redis({ port, host: '127.0.0.1', password: sentinel.password, lazyConnect: true });
      await client.connect();
      return client;
    };

    it('a wrong password is a start-up ConfigError naming REDIS_SENTINELS, without the password', async function () {
      const error = await createStores(
        loadConfig(env({ REDIS_SENTINEL_MASTER_PASSWORD: 'not-the-password', STORE_CONNECT_TIMEOUT: '300' })),
      ).then(
        () => expect.fail('connected with a wrong password'),
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).message).to.match(/^REDIS_SENTINELS: cannot connect to 127\.0\.0\.1:\d+ \(master /);
      expect((error as ConfigError).message)
        .to.include('WRONGPASS')
        .and.not.include('not-the-password');
    });

    it('sessions, rate limits, policies with their change feed, the principal cache and audit work on the master', async function () {
      const stores = await open();
      expect(stores.backends).to.deep.include({
        sessions: 'redis',
        policies: 'redis',
        audit: 'redis',
        rateLimit: 'redis',
      });
      const tag = uniqueName('sentinel');

      await stores.sessions.create({ id: `${tag}-s1`, userId: `${tag}-u`, ttlMs: 60_000 });
      await stores.sessions.create({ id: `${tag}-s2`, userId: `${tag}-u`, ttlMs: 60_000 });
      expect((await stores.sessions.listByUser(`${tag}-u`)).map((s) => s.id).sort()).to.deep.equal([
        `${tag}-s1`,
        `${tag}-s2`,
      ]);
      expect(await stores.sessions.revokeAllForUser(`${tag}-u`)).to.equal(2);
      expect(await stores.sessions.get(`${tag}-s1`)).to.equal(undefined);

      expect((await stores.rateLimit.increment(tag)).totalHits).to.equal(1);
      expect((await stores.rateLimit.increment(tag)).totalHits).to.equal(2);
      expect((await stores.quotas.consume(tag, 5, 60_000)).remaining).to.equal(4);

      const changes: PolicyChange[] = [];
      const unsubscribe = await stores.policies.subscribe((change) => changes.push(change));
      try {
        await stores.policies.add(allow({ uid: tag, subjects: ['ana'], actions: ['read'], resources: ['doc'] }));
        const found = await stores.policies.findForInquiry(
          { subject: 'ana', action: 'read', resource: 'doc' },
          'exact',
        );
        expect(found.map((policy) => policy.uid)).to.include(tag);
        await eventually('the change notice', async () =>
          expect(changes.map((c) => ('uid' in c ? c.uid : c.kind))).to.include(tag),
        );
      } finally {
        await unsubscribe();
        await stores.policies.delete(tag);
      }

      await stores.principals.savePrincipal({ id: `${tag}-p`, type: 'user', groups: [], attributes: {} });
      expect((await stores.principals.getPrincipal(`${tag}-p`))?.id).to.equal(`${tag}-p`);
      await stores.principals.deletePrincipal(`${tag}-p`);

      const events = sealedEvents(3);
      await stores.audit.write(events);
      expect(await stores.audit.get(events[1]!.id)).to.deep.equal(events[1]);
      const page = await stores.audit.list({ limit: 1000 });
      expect(page.events.map((event) => event.id)).to.include.members(events.map((event) => event.id));
      expect(await stores.health()).to.deep.include({ status: 'up' });

      // The writes went to the master the sentinel names, and were replicated.
      const master = await direct(sentinel.master.port);
      try {
        expect(await master.call('ROLE').then((role) => (role as string[])[0])).to.equal('master');
        expect(await master.exists(`portcullis:rl:${tag}`, `portcullis:quota:${tag}`)).to.be.above(0);
      } finally {
        master.disconnect();
      }
    });

    it('the demo runs through the sentinel: health, login, sessions and a policy write', async function () {
      const adminKey = `pk_${uniqueName('admin')}`;
      const demo = await startDemo({ ...(env() as Record<string, string>), ADMIN_API_KEY: adminKey });
      try {
        const health = (await (await fetch(`${demo.baseUrl}/health`)).json()) as {
          status: string;
          stores: Record<string, { backend: string }>;
        };
        expect(health.status).to.equal('up');
        expect(health.stores.sessions?.backend).to.equal('redis');
        const token = await demoLogin(demo.baseUrl);
        const sessions = await fetch(`${demo.baseUrl}/auth/sessions`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(sessions.status).to.equal(200);
        const uid = uniqueName('policy');
        const put = await fetch(`${demo.baseUrl}/admin/policies/${uid}`, {
          method: 'PUT',
          headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
          body: JSON.stringify({ uid, effect: 'allow', subjects: ['x'], actions: ['y'], resources: ['z'] }),
        });
        expect(put.status, await put.clone().text()).to.be.oneOf([200, 201]);
      } finally {
        expect(await demo.stop()).to.equal(0);
      }
    });

    it('follows a failover: the master freezes, the sentinel promotes the replica, writes and the policy feed resume there', async function () {
      const stores = await open({ REDIS_COMMAND_TIMEOUT: '500' });
      const writer = await open({ REDIS_COMMAND_TIMEOUT: '500' });
      const tag = uniqueName('failover');
      await stores.sessions.create({ id: `${tag}-before`, userId: tag, ttlMs: 60_000 });
      const changes: string[] = [];
      let gaps = 0;
      const unsubscribe = await stores.policies.subscribe(
        (change) => changes.push('uid' in change ? change.uid : change.kind),
        () => (gaps += 1),
      );
      sentinel.master.pause();
      try {
        const started = Date.now();
        await eventually('the sentinel to promote the replica', async () =>
          expect(sentinel.currentMasterPort()).to.equal(sentinel.replica.port),
        );
        // Commands fail fast (503) until the client has moved; then they succeed on the new master.
        await eventually('a session write after the failover', () =>
          stores.sessions.create({ id: `${tag}-after`, userId: tag, ttlMs: 60_000 }),
        );
        console.log(`      [failover: writes resumed ${Date.now() - started} ms after the master froze]`);
        expect((await stores.sessions.listByUser(tag)).map((s) => s.id).sort()).to.deep.equal([
          `${tag}-after`,
          `${tag}-before`,
        ]);
        const promoted = await direct(sentinel.replica.port);
        try {
          expect(await promoted.call('ROLE').then((role) => (role as string[])[0])).to.equal('master');
          expect(await promoted.exists(`portcullis:session:${tag}-after`)).to.equal(1);
        } finally {
          promoted.disconnect();
        }
        // The feed's connection moves too (a little later: it has no commands to fail): it reports the gap,
        // on which a mirror reloads, then hears another process's policy write made on the new master.
        await eventually('the feed to report its reconnection', async () => expect(gaps).to.be.above(0));
        await eventually('a policy write after the failover', () =>
          writer.policies.add(allow({ uid: tag, subjects: ['x'], actions: ['y'], resources: ['z'] })),
        );
        await eventually('the change notice after the failover', async () => expect(changes).to.include(tag));
        expect((await stores.policies.get(tag))?.uid).to.equal(tag);
        await writer.policies.delete(tag);
      } finally {
        await unsubscribe();
        sentinel.master.resume();
      }
    });
  });
});
