// What AUDIT_DURABILITY=acknowledged costs: PATCH requests through auditTrail() into MongoDB, with the Redis
// fallback queue as the demo has it, answered at once (async) or once their event is durable (acknowledged).
// Run: npx tsx bench/audit-durability.ts [seconds per round, default 5]   (uses MONGODB_URI / REDIS_URL, else
// starts throwaway servers). One client, then 20 concurrent ones; 3 alternating rounds each, medians.
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import { auditTrail, createAuditPipeline } from 'portcullis';
import { connectMongo, MongoAuditStore } from 'portcullis/mongodb';
import { connectRedis, RedisReliabilityQueue } from 'portcullis/redis';
import { startMongoServer, startRedisServer, type ServerHandle } from '../test/support/servers.js';

const SECONDS = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 5);
const ROUNDS = 3;
const MODES = ['async', 'acknowledged'] as const;

interface Round {
  rps: number;
  p50: number;
  p99: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function round(app: express.Express, connections: number, seconds: number): Promise<Round> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/accounts/7`,
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: '{"plan":"team"}',
    connections,
    duration: seconds,
  });
  server.close();
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const servers: ServerHandle[] = [];
try {
  let mongoUrl = process.env.MONGODB_URI;
  let redisUrl = process.env.REDIS_URL;
  if (!mongoUrl) servers.push(await startMongoServer().then((server) => ((mongoUrl = server.url), server)));
  if (!redisUrl) servers.push(await startRedisServer().then((server) => ((redisUrl = server.url), server)));
  const mongo = await connectMongo(mongoUrl!);
  const redis = await connectRedis(redisUrl!);
  console.log(`AUDIT_DURABILITY: PATCH /accounts/:id through auditTrail() into MongoDB, ${SECONDS} s rounds`);
  console.log(`servers: ${servers.map((s) => s.description).join(', ') || 'from MONGODB_URI / REDIS_URL'}`);
  const store = new MongoAuditStore({ connection: mongo, collection: `bench_durability_${Date.now()}` });
  await store.init();
  const apps = new Map<(typeof MODES)[number], express.Express>();
  const pipelines = [];
  for (const durability of MODES) {
    const pipeline = await createAuditPipeline({
      store,
      fallbacks: [new RedisReliabilityQueue({ client: redis, key: `bench:durability:${Date.now()}` })],
    });
    pipelines.push(pipeline);
    const app = express();
    app.use(auditTrail({ pipeline, durability }));
    app.patch('/accounts/:id', (req, res) => void res.json({ id: req.params.id, name: 'Ann', plan: 'team' }));
    apps.set(durability, app);
  }
  for (const connections of [1, 20]) {
    for (const durability of MODES) await round(apps.get(durability)!, connections, 1); // warm-up
    const rounds = new Map<string, Round[]>(MODES.map((mode) => [mode, []]));
    for (let n = 0; n < ROUNDS; n++) {
      for (const durability of MODES)
        rounds.get(durability)!.push(await round(apps.get(durability)!, connections, SECONDS));
    }
    console.log(`\n${connections} connection${connections > 1 ? 's' : ''}`);
    const medians: Record<string, number> = {};
    for (const durability of MODES) {
      const list = rounds.get(durability)!;
      medians[durability] = median(list.map((r) => r.rps));
      console.log(
        `  ${durability.padEnd(13)} ${Math.round(medians[durability]!).toLocaleString('en').padStart(7)} req/s` +
          `  p50 ${median(list.map((r) => r.p50))} ms  p99 ${median(list.map((r) => r.p99))} ms` +
          `  (rounds ${list.map((r) => Math.round(r.rps)).join(', ')})`,
      );
    }
    console.log(`  ratio acknowledged / async ${(medians.acknowledged! / medians.async!).toFixed(2)}`);
  }
  await Promise.all(pipelines.map((pipeline) => pipeline.close()));
  await store
    .collection()
    .drop()
    .catch(() => undefined);
  await mongo.close();
  await redis.quit();
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
