// Fault test on real servers: steady audit load while MongoDB, then MongoDB and Redis, go down and come back.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { FileReliabilityQueue } from '../../src/audit/file-queue.js';
import { createAuditPipeline } from '../../src/audit/pipeline.js';
import { verifyEvents } from '../../src/audit/verify.js';
import type { AuditEvent } from '../../src/audit/event.js';
import type { QueuedBatch, ReliabilityQueue } from '../../src/contracts/queue.js';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { connectRedis } from '../../stores/connections/redis.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { RedisReliabilityQueue } from '../../stores/redis/audit-queue.js';
import { startMongoServer, startRedisServer, type ServerHandle } from '../support/servers.js';

/** Counts what goes through a real queue, to show each tier was really used. */
function counted(queue: ReliabilityQueue) {
  const counts = { appended: 0 };
  const wrapper: ReliabilityQueue = {
    backend: queue.backend,
    append: async (batch: QueuedBatch) => {
      await queue.append(batch);
      counts.appended += batch.events.length;
    },
    peek: () => queue.peek(),
    ack: (id) => queue.ack(id),
    size: () => queue.size(),
  };
  return { queue: wrapper, counts };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('audit delivery through MongoDB and Redis outages (real servers)', function () {
  this.timeout(120_000);
  let mongoServer: ServerHandle;
  let redisServer: ServerHandle;
  let mongo: Connection;
  let redis: Redis;
  let dir: string;

  before(async function () {
    [mongoServer, redisServer] = await Promise.all([startMongoServer(), startRedisServer()]);
    mongo = await connectMongo(mongoServer.url, { serverSelectionTimeoutMs: 500 });
    redis = await connectRedis(redisServer.url, { commandTimeoutMs: 500 });
    dir = mkdtempSync(join(tmpdir(), 'portcullis-outage-'));
  });
  after(async function () {
    await mongo?.close().catch(() => undefined);
    redis?.disconnect();
    await Promise.all([mongoServer?.stop(), redisServer?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every published event exactly once, in chain order, after both outages', async function () {
    const store = new MongoAuditStore({ connection: mongo, collection: 'outage_events' });
    await store.init();
    const redisTier = counted(new RedisReliabilityQueue({ client: redis, key: 'outage:fallback' }));
    const fileQueue = new FileReliabilityQueue({ path: join(dir, 'audit-fallback.jsonl') });
    const fileTier = counted(fileQueue);
    const pipeline = await createAuditPipeline({
      store,
      fallbacks: [redisTier.queue, fileTier.queue],
      batchSize: 100,
      flushInterval: 20,
      writeTimeout: 1000,
      retryInterval: 250,
      signingKey: 'outage-test-signing-key-123456',
      digestInterval: 500,
    });

    const published: AuditEvent[] = [];
    let loading = true;
    // Steady load: 5 events every 10 ms (about 400 events/s with timer slack).
    const load = (async () => {
      let n = 0;
      while (loading) {
        for (let i = 0; i < 5; i++) {
          published.push((await pipeline.publish({ action: 'UPDATE', resource: 'load', resourceId: String(n++) }))!);
        }
        await sleep(10);
      }
    })();

    await sleep(1500);
    await mongoServer.stop({ keepData: true });
    await sleep(3500);
    await mongoServer.start();
    await sleep(2500);
    await Promise.all([mongoServer.stop({ keepData: true }), redisServer.stop({ keepData: true })]);
    await sleep(3000);
    await redisServer.start();
    await sleep(500);
    await mongoServer.start();
    await sleep(1500);
    loading = false;
    await load;
    await pipeline.flush();
    for (let waited = 0; waited < 30_000 && (await pipeline.fallbackDepth()) > 0; waited += 200) await sleep(200);
    await pipeline.close();

    const events: AuditEvent[] = [];
    for await (const event of store.scan()) events.push(event);
    const ids = new Set(events.map((event) => event.id));
    expect(published.length).to.be.greaterThan(2000);
    expect(redisTier.counts.appended, 'events queued in Redis').to.be.greaterThan(0);
    expect(fileTier.counts.appended, 'events queued in the local file').to.be.greaterThan(0);
    expect(events.length, 'events stored').to.equal(published.length);
    expect(ids.size, 'distinct ids').to.equal(published.length);
    for (const event of published) expect(ids.has(event.id)).to.equal(true);
    const report = verifyEvents(events, await store.digests(), { key: 'outage-test-signing-key-123456' });
    expect(report.ok, JSON.stringify(report.first)).to.equal(true);
    expect(await fileQueue.size()).to.equal(0);
    await fileQueue.close();
  });
});
