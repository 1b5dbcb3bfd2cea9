// Redis Cluster by configuration: the variable, where the stores' keys land, and the demo running on a cluster.
import { expect } from 'chai';
import type { Cluster } from 'ioredis';
import { HashChain } from '../../src/audit/chain.js';
import { loadConfig } from '../../src/config/index.js';
import { ConfigErrors } from '../../src/errors.js';
import { allow } from '../../src/abac/policy.js';
import { createStores } from '../../stores/create-stores.js';
import { RedisAuditStore } from '../../stores/redis/audit.js';
import { RedisPolicyStore } from '../../stores/redis/policies.js';
import { RedisSessionStore } from '../../stores/redis/sessions.js';
import { deleteKeys, redisClusterNodes, sharedRedisCluster, uniqueName } from '../support/connections.js';
import { demoLogin, startDemo } from '../support/demo-process.js';
import { sealedEvents } from '../unit/audit/events.js';

/** For each master of the cluster, how many keys matching the pattern it holds. */
async function keysPerMaster(cluster: Cluster, pattern: string): Promise<number[]> {
  return Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(pattern)).length));
}

describe('Redis Cluster (three local masters)', function () {
  this.timeout(90_000);

  describe('REDIS_CLUSTER_NODES', function () {
    it('makes Redis configured for the auto backends, as REDIS_URL does', function () {
      const config = loadConfig({ REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000, redis://10.0.0.2:7000' });
      expect(config.REDIS_CLUSTER_NODES).to.deep.equal(['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000']);
      expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000', SESSIONS_BACKEND: 'redis' })).to.be.an(
        'object',
      );
    });

    it('is refused with REDIS_URL, and a node that is no redis URL is named without echoing it', function () {
      const problems = (env: Record<string, string>) => {
        try {
          loadConfig(env);
        } catch (error) {
          expect(error).to.be.instanceOf(ConfigErrors);
          return (error as Error).message;
        }
        return '';
      };
      expect(problems({ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'redis://b:2' })).to.match(
        /REDIS_CLUSTER_NODES: cannot be set together with REDIS_URL/,
      );
      const message = problems({ REDIS_CLUSTER_NODES: 'http://user:s3cret@b:2' });
      expect(message).to.match(/REDIS_CLUSTER_NODES: must list redis:\/\/ or rediss:\/\/ URLs/);
      expect(message).to.not.include('s3cret');
    });
  });

  describe('key layout', function () {
    let cluster: Cluster;
    let name: string;

    beforeEach(async function () {
      cluster = await sharedRedisCluster();
      name = uniqueName('spread');
    });
    afterEach(async function () {
      await deleteKeys(cluster, `*${name}*`);
    });

    it('spreads the sessions of different users over the masters, each with its user index', async function () {
      const sessions = new RedisSessionStore({ client: cluster, prefix: `${name}:` });
      for (let index = 0; index < 30; index += 1) {
        await sessions.create({ id: `session-${index}`, userId: `user${index}`, ttlMs: 60_000 });
      }
      const perMaster = await keysPerMaster(cluster, `${name}:session:*`);
      expect(perMaster.reduce((a, b) => a + b)).to.equal(30);
      expect(
        perMaster.filter((count) => count > 0),
        `sessions per master: ${perMaster}`,
      ).to.have.length(3);
      const indexes = await keysPerMaster(cluster, `${name}:user-sessions:*`);
      expect(indexes.filter((count) => count > 0)).to.have.length(3);
      expect(await sessions.revokeAllForUser('user7')).to.equal(1);
      expect(await sessions.get('session-7')).to.equal(undefined);
      expect(await sessions.get('session-8')).to.include({ userId: 'user8' });
    });

    it('spreads audit streams over the masters, each stream with its id keys and digests in one slot', async function () {
      const audit = new RedisAuditStore({ client: cluster, prefix: `${name}:` });
      const events = Array.from({ length: 12 }, (_, index) =>
        sealedEvents(2, () => ({}), new HashChain(`p${index}`)),
      ).flat();
      await audit.write(events);
      const streams = await keysPerMaster(cluster, `*${name}:audit:*}:stream`);
      expect(
        streams.filter((count) => count > 0),
        `audit streams per master: ${streams}`,
      ).to.have.length.above(1);
      for (const event of events) expect(await audit.get(event.id)).to.deep.equal(event);
      // Each event's id key shares its stream's hash slot: the script that writes both needs it.
      for (const event of events.slice(0, 6)) {
        const slots = new Set<number>();
        for (const stream of audit.streamKeys) {
          const idKey = stream.replace(/stream$/, `id:${event.id}`);
          if ((await cluster.exists(idKey)) === 1) {
            slots.add(Number(await cluster.cluster('KEYSLOT', idKey)));
            slots.add(Number(await cluster.cluster('KEYSLOT', stream)));
          }
        }
        expect(slots.size, event.id).to.equal(1);
      }
    });

    it('spreads policies over the masters, each with its index sets in its shard', async function () {
      const policies = new RedisPolicyStore({ client: cluster, prefix: `${name}:` });
      await policies.init();
      for (let index = 0; index < 30; index += 1) {
        await policies.add(
          allow({ uid: `p${index}`, subjects: [`user${index}`], actions: ['read'], resources: ['x'] }),
        );
      }
      const perMaster = await keysPerMaster(cluster, `{${name}:*}:docs`);
      expect(
        perMaster.filter((count) => count > 0),
        `policy shards per master: ${perMaster}`,
      ).to.have.length.above(1);
      const found = await policies.findForInquiry({ subject: 'user3', action: 'read', resource: 'x' }, 'exact');
      expect(found.map((policy) => policy.uid)).to.deep.equal(['p3']);
      // Uid order across the shards: p0, p1, p10…p19, p2, p20…
      expect((await policies.getAll(5, 10)).map((policy) => policy.uid)).to.deep.equal([
        'p18',
        'p19',
        'p2',
        'p20',
        'p21',
      ]);
      const batches: string[] = [];
      for await (const batch of policies.retrieveAll(7)) batches.push(...batch.map((policy) => policy.uid));
      expect(batches)
        .to.deep.equal([...batches].sort())
        .and.to.have.length(30);
    });
  });

  it('createStores connects the cluster from REDIS_CLUSTER_NODES and every Redis store works on it', async function () {
    const stores = await createStores(loadConfig({ REDIS_CLUSTER_NODES: redisClusterNodes().join(',') }));
    const cluster = stores.connections.redis as Cluster;
    const tag = uniqueName('stores');
    try {
      expect(cluster.isCluster).to.equal(true);
      expect(stores.backends).to.deep.include({
        sessions: 'redis',
        policies: 'redis',
        audit: 'redis',
        rateLimit: 'redis',
      });
      await stores.sessions.create({ id: `${tag}-s1`, userId: `${tag}-u`, ttlMs: 60_000 });
      expect((await stores.sessions.listByUser(`${tag}-u`)).map((s) => s.id)).to.deep.equal([`${tag}-s1`]);
      await stores.policies.add(allow({ uid: tag, subjects: ['a'], actions: ['b'], resources: ['c'] }));
      expect((await stores.policies.get(tag))?.uid).to.equal(tag);
      const events = sealedEvents(3);
      await stores.audit.write(events);
      expect(await stores.audit.get(events[1]!.id)).to.deep.equal(events[1]);
      expect((await stores.rateLimit.increment(tag)).totalHits).to.equal(1);
      expect((await stores.health()).status).to.equal('up');
    } finally {
      await stores.policies.delete(tag).catch(() => undefined);
      await stores.close();
    }
  });

  it('the demo runs on the cluster: login, sessions, a policy write and audit events', async function () {
    const adminKey = `pk_${uniqueName('admin')}`;
    const demo = await startDemo({ REDIS_CLUSTER_NODES: redisClusterNodes().join(','), ADMIN_API_KEY: adminKey });
    try {
      const health = (await (await fetch(`${demo.baseUrl}/health`)).json()) as {
        status: string;
        stores: Record<string, { backend: string }>;
      };
      expect(health.status).to.equal('up');
      expect(health.stores.sessions?.backend).to.equal('redis');
      const token = await demoLogin(demo.baseUrl);
      const listed = await fetch(`${demo.baseUrl}/auth/sessions`, { headers: { authorization: `Bearer ${token}` } });
      expect(listed.status).to.equal(200);
      const admin = { 'x-api-key': adminKey, 'content-type': 'application/json' };
      const uid = uniqueName('policy');
      const put = await fetch(`${demo.baseUrl}/admin/policies/${uid}`, {
        method: 'PUT',
        headers: admin,
        body: JSON.stringify({ uid, effect: 'allow', subjects: ['x'], actions: ['y'], resources: ['z'] }),
      });
      expect(put.status, await put.clone().text()).to.be.oneOf([200, 201]);
      let events: { action: string }[] = [];
      for (let attempt = 0; attempt < 50 && events.length === 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const page = await fetch(`${demo.baseUrl}/audit/events?limit=50`, { headers: admin });
        expect(page.status).to.equal(200);
        events = ((await page.json()) as { items: { action: string }[] }).items;
      }
      expect(events.length).to.be.above(0);
    } finally {
      expect(await demo.stop()).to.equal(0);
    }
  });
});
