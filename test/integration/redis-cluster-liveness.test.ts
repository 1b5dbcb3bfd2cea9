// A Redis Cluster master that stops answering (SIGSTOP: sockets stay open, nothing replies), on a cluster of
// this test's own (freezing the run's shared cluster would fail other tests): requests fail fast, then recover.
import { expect } from 'chai';
import type { Cluster } from 'ioredis';
import { StoreUnavailableError } from 'portcullis';
import { connectRedisCluster } from '../../stores/connections/redis-cluster.js';
import { RedisPolicyStore } from '../../stores/redis/policies.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/servers.js';

const COMMAND_TIMEOUT = 1000;

async function settle(promise: Promise<unknown>): Promise<{ ok: boolean; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    await promise;
    return { ok: true, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started };
  }
}

describe('Redis Cluster with a frozen master (SIGSTOP)', function () {
  this.timeout(120_000);
  let handle: RedisClusterHandle;
  let cluster: Cluster;
  let onFrozen: string;
  let elsewhere: string;

  before(async function () {
    handle = await startRedisCluster();
    cluster = await connectRedisCluster(handle.nodes, { commandTimeoutMs: COMMAND_TIMEOUT });
    // A key served by master 0, and one served by another master.
    const frozenNode = `127.0.0.1:${handle.masters[0]!.port}`;
    for (let i = 0; !onFrozen || !elsewhere; i += 1) {
      const key = `liveness:${i}`;
      const slot = Number(await cluster.cluster('KEYSLOT', key));
      if (cluster.slots[slot]![0] === frozenNode) onFrozen ??= key;
      else elsewhere ??= key;
    }
    await cluster.set(onFrozen, 'a');
    await cluster.set(elsewhere, 'b');
  });

  after(async function () {
    handle?.resume();
    cluster?.disconnect();
    await handle?.stop();
  });

  it('fails commands to the frozen master fast once its ping goes unanswered, never hangs the others, and recovers after SIGCONT', async function () {
    handle.masters[0]!.pause();
    const results: Awaited<ReturnType<typeof settle>>[] = [];
    const started = performance.now();
    try {
      // Ten commands one after the other, as a request does: without the liveness check each waits the whole
      // command timeout (10 s in all); with it only those sent before the ping's deadline do.
      for (let i = 0; i < 10; i += 1) results.push(await settle(cluster.get(onFrozen)));
      const total = performance.now() - started;
      expect(results.every((result) => !result.ok)).to.equal(true);
      expect(total, `10 commands took ${Math.round(total)} ms`).to.be.lessThan(3.5 * COMMAND_TIMEOUT);
      expect(results.slice(-5).every((result) => result.ms < 200)).to.equal(
        true,
        results.map((result) => Math.round(result.ms)).join(', '),
      );
      // The other masters answer, or (once the cluster marks the master failed: no replica here) refuse with
      // CLUSTERDOWN at once instead of retrying for seconds; through a store either is never a hang nor a 500.
      const other = await settle(cluster.get(elsewhere));
      expect(other.ms).to.be.lessThan(COMMAND_TIMEOUT);
      const store = new RedisPolicyStore({ client: cluster, prefix: 'liveness:policies:' });
      const read = await settle(store.get('some-policy'));
      expect(read.ms).to.be.lessThan(2 * COMMAND_TIMEOUT);
      if (!read.ok) expect(read.error).to.be.instanceOf(StoreUnavailableError);
    } finally {
      handle.masters[0]!.resume();
    }
    const thawed = performance.now();
    for (;;) {
      const result = await settle(cluster.get(onFrozen));
      if (result.ok) break;
      expect(performance.now() - thawed, 'recovery after SIGCONT').to.be.lessThan(20_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await cluster.get(onFrozen)).to.equal('a');
    expect(await cluster.get(elsewhere)).to.equal('b');
  });
});
