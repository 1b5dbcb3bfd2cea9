// Two processes' pipelines sharing a Redis fallback queue on real servers: the batches a process with a broken
// MongoDB client queued are stored by the healthy one, and the stream stays its owner's to sign and verifies.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createAuditPipeline, type AuditPipeline } from '../../src/audit/pipeline.js';
import { verifyEvents } from '../../src/audit/verify.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { RedisReliabilityQueue } from '../../stores/redis/audit-queue.js';
import { requireEnv, sharedMongo, sharedRedis, uniqueName } from '../support/connections.js';

const KEY = 'shared-queue-signing-key-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
  return Date.now() - started;
}

describe('audit: a healthy process replays the queued batches of a stuck one (MongoDB + Redis)', function () {
  this.timeout(60_000);
  let stuckConnection: Connection;
  let collection: string;
  let queueKey: string;
  const pipelines: AuditPipeline[] = [];

  beforeEach(async function () {
    collection = uniqueName('shared_queue');
    queueKey = uniqueName('shared_queue');
    // Its own client, which the test breaks: the "process" whose MongoDB connection is stuck.
    stuckConnection = await connectMongo(requireEnv('MONGODB_URI'), {
      serverSelectionTimeoutMs: 500,
      reconnectAfterMs: 0,
    });
  });
  afterEach(async function () {
    await Promise.all(pipelines.splice(0).map((pipeline) => pipeline.close().catch(() => undefined)));
    await stuckConnection.close().catch(() => undefined);
    const mongo = await sharedMongo();
    await mongo.dropCollection(collection).catch(() => undefined);
    await mongo.dropCollection(`${collection}_digests`).catch(() => undefined);
    await (await sharedRedis()).del(queueKey);
  });

  async function pipelineOn(connection: Connection): Promise<AuditPipeline> {
    const store = new MongoAuditStore({ connection, collection });
    await store.init();
    const pipeline = await createAuditPipeline({
      store,
      fallbacks: [new RedisReliabilityQueue({ client: await sharedRedis(), key: queueKey })],
      signingKey: KEY,
      digestInterval: 200,
      batchSize: 20,
      flushInterval: 10,
      writeTimeout: 1000,
      retryInterval: 200,
    });
    pipelines.push(pipeline);
    return pipeline;
  }

  async function storedEvents(): Promise<AuditEvent[]> {
    const store = new MongoAuditStore({ connection: await sharedMongo(), collection });
    const events: AuditEvent[] = [];
    for await (const event of store.scan()) events.push(event);
    return events;
  }

  it('stores them while the owner is stuck; the owner signs them once back, and the log verifies', async function () {
    const stuck = await pipelineOn(stuckConnection);
    const healthy = await pipelineOn(await sharedMongo());
    const published: AuditEvent[] = [];
    const publish = async (pipeline: AuditPipeline, count: number, tag: string) => {
      for (let index = 0; index < count; index++) {
        const event = await pipeline.publish({ action: 'UPDATE', resource: tag, resourceId: String(index) });
        published.push(event!);
      }
      await pipeline.flush();
    };
    await publish(stuck, 30, 'before');
    await publish(healthy, 30, 'healthy');

    // The client is closed under the pipeline: every write fails as a broken client's would, so the
    // stuck process queues its batches in Redis; the healthy one has nothing of its own queued.
    await stuckConnection.getClient().close();
    await publish(stuck, 100, 'while-stuck');
    expect(stuck.stats().queued, 'events the stuck process queued').to.equal(100);
    const replayedIn = await until('the healthy process to store the stuck one’s batches', 15_000, async () => {
      const ids = new Set((await storedEvents()).map((event) => event.id));
      return published.every((event) => ids.has(event.id));
    });
    expect(await stuck.fallbackDepth()).to.equal(0);
    expect(healthy.stats().queued, 'the healthy process queued nothing').to.equal(0);

    // Back again: the owner finds its replayed events in the store and signs them, in its next digest
    // and in its close record; the healthy process never signed a stream that is not its own.
    await stuckConnection.getClient().connect();
    await publish(stuck, 10, 'after');
    const store = new MongoAuditStore({ connection: await sharedMongo(), collection });
    const stuckStream = `${stuck.streamPrefix}.w`;
    // A live digest (not only the close record) covers them: the stream verifies even if the process dies now.
    await until('a digest of the owner covering the replayed events', 10_000, async () =>
      (await store.digests({ stream: stuckStream })).some((digest) => digest.toSeq === 140 && !digest.final),
    );
    await Promise.all(pipelines.splice(0).map((pipeline) => pipeline.close()));

    const events = await storedEvents();
    expect(events.length).to.equal(published.length);
    expect(new Set(events.map((event) => event.id)).size, 'no duplicates').to.equal(published.length);
    const digests = await store.digests();
    expect(
      digests.filter((digest) => digest.stream === stuckStream).every((d) => d.keyId),
      'signed',
    ).to.equal(true);
    const close = digests.find((digest) => digest.stream === stuckStream && digest.final);
    expect(close?.toSeq, 'the close record covers the replayed events').to.equal(140);
    const report = verifyEvents(events, digests, { key: KEY });
    expect(report.ok, JSON.stringify(report.first)).to.equal(true);
    expect(report.closed).to.equal(2);
    expect(report.unsigned).to.equal(0);
    console.log(`      replayed by the healthy process within ${replayedIn} ms`);
  });
});
