// Audit capture throughput: events/s into MongoDB and Redis Streams through the batching pipeline, beside
// the raw driver writing the same documents, and the per-request cost of auditTrail() over HTTP.
// Run: npx tsx bench/audit-throughput.ts   (uses MONGODB_URI / REDIS_URL, else starts throwaway servers;
// BENCH_EVENTS, BENCH_BATCH and BENCH_CONCURRENCY override 30 000 events, batches of 1 000, 2 in flight)
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import { pino } from 'pino';
import { auditTrail, createAuditPipeline, type AuditStore, type AuditEventInput } from 'portcullis';
import { MemoryAuditStore } from 'portcullis/memory';
import { connectMongo, MongoAuditStore } from 'portcullis/mongodb';
import { connectRedis, RedisAuditStore } from 'portcullis/redis';
import { startMongoServer, startRedisServer, type ServerHandle } from '../test/support/servers.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
// Full batches in flight at once into MongoDB, for the pipeline and the raw driver alike.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);

function input(n: number): AuditEventInput {
  return {
    action: n % 5 === 0 ? 'CREATE' : 'UPDATE',
    resource: 'accounts',
    resourceId: String(n % 1000),
    method: 'PUT',
    path: `/accounts/${n % 1000}`,
    status: 200,
    outcome: 'allowed',
    requestId: randomUUID(),
    user: { id: `user-${n % 50}`, kind: 'user', name: 'Ann Example', sourceIp: '10.0.0.7', userAgent: 'curl/8.5' },
    decision: { allowed: true, deciders: ['p-accounts-write'], reason: 'allowed' },
    body: { name: 'Ann', plan: 'pro', seats: n % 20, email: 'ann@example.com', tags: ['a', 'b'] },
    changes: { before: { plan: 'free', seats: 1 }, after: { plan: 'pro', seats: n % 20 } },
    latencyMs: 1.25,
  };
}

async function throughput(name: string, store: AuditStore, writeConcurrency = 1, events = EVENTS): Promise<number> {
  const pipeline = await createAuditPipeline({
    store,
    batchSize: BATCH,
    writeConcurrency,
    flushInterval: 20,
  });
  const started = performance.now();
  for (let n = 0; n < events; n++) {
    if (pipeline.saturated) await pipeline.waitForSpace();
    pipeline.record(input(n));
    // Like a server between requests: let the writer run while events keep coming.
    if (n % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await pipeline.flush();
  const seconds = (performance.now() - started) / 1000;
  await pipeline.close();
  const { stored } = pipeline.stats();
  if (stored !== events) throw new Error(`${name}: ${stored} of ${events} events stored`);
  const rate = events / seconds;
  if (name) console.log(`  ${name.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(9)} events/s`);
  return rate;
}

/**
 * The peer: the driver alone writing documents of the same shape (queryable fields plus the JSON of the
 * rest) into a collection with the same indexes, in the same batch size and as many batches at once: no
 * masking, sealing, buffering or retry.
 */
async function rawMongo(
  connection: Awaited<ReturnType<typeof connectMongo>>,
  label: string,
  indexes: 'auto' | 'all',
  events = EVENTS,
): Promise<number> {
  const name = `bench_raw_${Date.now()}`;
  await new MongoAuditStore({ connection, collection: name, indexes }).init();
  const collection = connection.collection(name);
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < events) {
      const n = next;
      next += BATCH;
      const docs = [];
      for (let i = n; i < Math.min(n + BATCH, events); i++) {
        const event = { id: randomUUID(), time: new Date().toISOString(), ...input(i), stream: 's', seq: i };
        const { id, time, body, changes, decision, latencyMs, ...fields } = event;
        const date = new Date(time);
        const rest = JSON.stringify({ body, changes, decision, latencyMs });
        docs.push({ _id: id, time: date, expireAt: date, ...fields, prevHash: 'p', hash: 'h', rest });
      }
      await collection.insertMany(docs as never[], { ordered: false });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const rate = events / ((performance.now() - started) / 1000);
  const stored = await collection.countDocuments();
  if (stored !== events) throw new Error(`raw driver: ${stored} of ${events} documents stored`);
  if (label) console.log(`  ${label.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(9)} events/s`);
  await collection.drop().catch(() => undefined);
  await connection.dropCollection(`${name}_digests`).catch(() => undefined);
  return rate;
}

const ROUNDS = 3;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/**
 * The pipeline beside the raw driver into one index plan: a warm-up of each (so neither pays for the JIT
 * or the server's first pages), then alternating rounds into fresh collections; medians of the rounds.
 */
async function mongoPair(mongo: Awaited<ReturnType<typeof connectMongo>>, indexes: 'auto' | 'all') {
  const stores: MongoAuditStore[] = [];
  const fresh = async () => {
    const store = new MongoAuditStore({ connection: mongo, collection: `bench_audit_${Date.now()}`, indexes });
    await store.init();
    stores.push(store);
    return store;
  };
  const plan = (await fresh()).secondaryIndexes
    ? 'all secondary indexes'
    : 'no secondary index (the server cannot use them)';
  console.log(` indexes: '${indexes}' -> ${plan}`);
  await throughput('', stores[0]!, CONCURRENCY, 5000);
  await rawMongo(mongo, '', indexes, 5000);
  const ours: number[] = [];
  const raw: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    ours.push(await throughput(`round ${round}: portcullis pipeline -> MongoAuditStore`, await fresh(), CONCURRENCY));
    raw.push(await rawMongo(mongo, `round ${round}: raw driver insertMany, same documents`, indexes));
  }
  const [oursMedian, rawMedian] = [median(ours), median(raw)];
  const rate = (value: number) => Math.round(value).toLocaleString('en');
  console.log(`  median: portcullis ${rate(oursMedian)} events/s, raw driver ${rate(rawMedian)} events/s`);
  console.log(`  ratio portcullis / raw driver (medians): ${(oursMedian / rawMedian).toFixed(2)}`);
  for (const store of stores) {
    await store
      .collection()
      .drop()
      .catch(() => undefined);
    await mongo.dropCollection(`${store.collection().collectionName}_digests`).catch(() => undefined);
  }
  return oursMedian;
}

async function rawRedis(client: Awaited<ReturnType<typeof connectRedis>>): Promise<number> {
  const key = `bench:raw:${Date.now()}`;
  const started = performance.now();
  for (let n = 0; n < EVENTS; n += BATCH) {
    const pipeline = client.pipeline();
    for (let i = n; i < Math.min(n + BATCH, EVENTS); i++) {
      pipeline.xadd(key, '*', 'e', JSON.stringify({ id: randomUUID(), ...input(i) }));
    }
    await pipeline.exec();
  }
  const rate = EVENTS / ((performance.now() - started) / 1000);
  console.log(
    `  ${'raw XADD pipeline (no dedup, mask, seal)'.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(9)} events/s`,
  );
  await client.del(key);
  return rate;
}

/** pino writing the same events to a discarded stream: what a plain "audit log" costs. */
async function pinoLog(): Promise<number> {
  const { Writable } = await import('node:stream');
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const logger = pino({ base: undefined }, sink);
  const started = performance.now();
  for (let n = 0; n < EVENTS; n++) logger.info(input(n));
  const rate = EVENTS / ((performance.now() - started) / 1000);
  console.log(
    `  ${'pino.info to a null stream (no store)'.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(9)} events/s`,
  );
  return rate;
}

async function http(name: string, app: express.Express): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/accounts/7?plan=pro`;
  const request = { url };
  await autocannon({ ...request, connections: 20, duration: 2 }); // warm-up
  const result = await autocannon({ ...request, connections: 20, duration: 5 });
  server.close();
  const rps = result.requests.average;
  console.log(
    `  ${name.padEnd(44)} ${Math.round(rps).toLocaleString('en').padStart(9)} req/s  p99 ${result.latency.p99} ms`,
  );
  return rps;
}

function app(withAudit?: Parameters<typeof auditTrail>[0]): express.Express {
  const application = express();
  if (withAudit) application.use(auditTrail(withAudit));
  application.get('/accounts/:id', (req, res) => void res.json({ id: req.params.id, name: 'Ann', plan: 'pro' }));
  return application;
}

const servers: ServerHandle[] = [];
try {
  let mongoUrl = process.env.MONGODB_URI;
  let redisUrl = process.env.REDIS_URL;
  if (!mongoUrl) servers.push(await startMongoServer().then((server) => ((mongoUrl = server.url), server)));
  if (!redisUrl) servers.push(await startRedisServer().then((server) => ((redisUrl = server.url), server)));
  const mongo = await connectMongo(mongoUrl!);
  const redis = await connectRedis(redisUrl!);
  console.log(`audit throughput, ${EVENTS} events of ~${JSON.stringify(input(1)).length} bytes, batches of ${BATCH}`);
  console.log(`servers: ${servers.map((s) => s.description).join(', ') || 'from MONGODB_URI / REDIS_URL'}`);

  console.log(`\nMongoDB (${CONCURRENCY} batches in flight)`);
  const ours = await mongoPair(mongo, 'auto');
  console.log(`  goal >= 10 000 events/s (median of ${ROUNDS} rounds): ${ours >= 10_000 ? 'met' : 'NOT met'}`);
  await mongoPair(mongo, 'all');

  console.log('\nRedis Streams');
  const prefix = `bench:${Date.now()}:`;
  const redisOurs = await throughput(
    'portcullis pipeline -> RedisAuditStore',
    new RedisAuditStore({ client: redis, prefix }),
  );
  const redisRaw = await rawRedis(redis);
  console.log(`  ratio portcullis / raw XADD: ${(redisOurs / redisRaw).toFixed(2)}`);
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));

  console.log('\nIn process');
  const memory = await throughput(
    'portcullis pipeline -> MemoryAuditStore',
    new MemoryAuditStore({ maxEvents: EVENTS }),
  );
  const logged = await pinoLog();
  console.log(`  ratio portcullis (memory) / pino: ${(memory / logged).toFixed(2)}`);

  console.log('\nHTTP: GET /accounts/:id, 20 connections, 5 s (autocannon)');
  const bare = await http('bare Express', app());
  const memoryPipeline = await createAuditPipeline({ store: new MemoryAuditStore({ maxEvents: 10_000 }) });
  const withMemory = await http('auditTrail() -> memory store', app({ pipeline: memoryPipeline }));
  const mongoHttpStore = new MongoAuditStore({ connection: mongo, collection: `bench_http_${Date.now()}` });
  await mongoHttpStore.init();
  const mongoPipeline = await createAuditPipeline({ store: mongoHttpStore, batchSize: BATCH });
  const withMongo = await http('auditTrail() -> MongoDB store', app({ pipeline: mongoPipeline }));
  await Promise.all([memoryPipeline.close(), mongoPipeline.close()]);
  await mongoHttpStore
    .collection()
    .drop()
    .catch(() => undefined);
  const overhead = (rps: number) => ((1 / rps - 1 / bare) * 1e6).toFixed(0);
  console.log(`  ratio memory / bare ${(withMemory / bare).toFixed(2)}, overhead ${overhead(withMemory)} µs/request`);
  console.log(`  ratio MongoDB / bare ${(withMongo / bare).toFixed(2)}, overhead ${overhead(withMongo)} µs/request`);

  await mongo.close();
  await redis.quit();
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
