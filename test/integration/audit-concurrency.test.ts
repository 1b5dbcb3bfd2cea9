// Concurrent batch writes on real servers: MongoDB goes down and comes back under full load; every event is
// stored once and the chain and digests verify.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createAuditPipeline } from '../../src/audit/pipeline.js';
import { verifyEvents } from '../../src/audit/verify.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { RedisReliabilityQueue } from '../../stores/redis/audit-queue.js';
import { sharedRedis, uniqueName } from '../support/connections.js';
import { startMongoServer, type ServerHandle } from '../support/servers.js';
import { countConcurrentWrites } from '../support/write-counter.js';

describe('audit writeConcurrency through a MongoDB outage (real servers)', function () {
  this.timeout(120_000);
  let server: ServerHandle;
  let mongo: Connection;

  before(async function () {
    server = await startMongoServer();
    mongo = await connectMongo(server.url, { serverSelectionTimeoutMs: 500 });
  });
  after(async function () {
    await mongo?.close().catch(() => undefined);
    await server?.stop();
  });

  it('stores every event exactly once with 3 writes in flight, chain and digests intact', async function () {
    const store = new MongoAuditStore({ connection: mongo, collection: 'concurrent_events' });
    const writes = countConcurrentWrites(store);
    await store.init();
    const key = 'concurrency-test-signing-key-123';
    const redis = await sharedRedis();
    const fallback = new RedisReliabilityQueue({ client: redis, key: uniqueName('audit_concurrency') });
    const pipeline = await createAuditPipeline({
      store,
      fallbacks: [fallback],
      batchSize: 50,
      writeConcurrency: 3,
      flushInterval: 5,
      writeTimeout: 1000,
      retryInterval: 200,
      signingKey: key,
      digestInterval: 300,
    });
    const published: AuditEvent[] = [];
    const publish = async (count: number) => {
      for (let index = 0; index < count; index++) {
        if (pipeline.saturated) await pipeline.waitForSpace();
        const n = published.length;
        published.push(pipeline.record({ action: n % 4 ? 'UPDATE' : 'GET', resource: 'load', resourceId: String(n) })!);
        if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await publish(3000);
    await server.stop({ keepData: true });
    await publish(1500);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.start();
    await publish(3000);
    await pipeline.flush();
    for (let waited = 0; waited < 30_000 && (await pipeline.fallbackDepth()) > 0; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await pipeline.close();

    const events: AuditEvent[] = [];
    for await (const event of store.scan()) events.push(event);
    const ids = new Set(events.map((event) => event.id));
    expect(writes.maxRunning, 'writes at once').to.equal(3);
    expect(pipeline.stats().queued, 'events queued during the outage').to.be.greaterThan(0);
    expect(events.length, 'events stored').to.equal(published.length);
    expect(ids.size, 'distinct ids').to.equal(published.length);
    for (const event of published) expect(ids.has(event.id)).to.equal(true);
    const report = verifyEvents(events, await store.digests(), { key });
    expect(report.ok, JSON.stringify(report.first)).to.equal(true);
    expect(await fallback.size()).to.equal(0);
  });
});
