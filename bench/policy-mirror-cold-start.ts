// PolicyMirror cold start: a process starting against a store that already holds N policies (MongoDB
// and Redis), until its guard decides locally; vakt's rule-based scenario, as in bench/abac-decisions.ts.
// The policies are seeded through the store's addMany (bulk load), timed as well.
// Run: npx tsx bench/policy-mirror-cold-start.ts [--size 100000] [--batch 1000] [--only mongodb|redis]
//      (uses MONGODB_URI / REDIS_URL when set, else starts throwaway servers like the test run)
import { loadavg } from 'node:os';
import mongoose from 'mongoose';
import { Guard, PolicyMirror, policyFromJSON, type Policy, type PolicyStore } from 'portcullis';
import { MongoPolicyStore } from 'portcullis/mongodb';
import { connectRedis, RedisPolicyStore } from 'portcullis/redis';
import { startMongoServer, startRedisServer, type ServerHandle } from '../test/support/servers.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
};
const SIZE = Number(option('size', '100000'));
const BATCH = Number(option('batch', '1000'));
const ONLY = option('only', 'both');

const word = (i: number) => `u${(i * 2654435761) % 4294967296}`.slice(0, 9);
function policyAt(i: number): Policy {
  return policyFromJSON({
    uid: `rule-${String(i).padStart(7, '0')}`,
    effect: 'allow',
    subjects: [{ name: { type: 'Eq', value: word(i) }, level: { type: 'GreaterOrEqual', value: i % 10 } }],
    actions: [{ type: 'In', values: ['read', 'get'] }],
    resources: [{ type: 'StartsWith', value: `repos/org${i}/`, ci: false }],
    context: { ip: { type: 'CIDR', cidr: '10.0.0.0/8' } },
  });
}
const hit = Math.floor(SIZE / 2);
const inquiry = {
  subject: { name: word(hit), level: 9 },
  action: 'read',
  resource: `repos/org${hit}/x`,
  context: { ip: '10.1.2.3' },
};

async function coldStart(name: string, store: PolicyStore): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const mirror = new PolicyMirror({ store, batchSize: BATCH });
  await mirror.init();
  const guard = new Guard({ policies: mirror, checker: 'rules' });
  const allowed = guard.isAllowed(inquiry);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(44)} cold start ${Math.round(ms).toLocaleString('en-US').padStart(7)} ms for ${mirror.policySet.size.toLocaleString('en-US')} policies ` +
      `(${((ms * 1000) / SIZE).toFixed(1)} µs each; this process's CPU ${Math.round((used.user + used.system) / 1000).toLocaleString('en-US')} ms), first decision ${allowed}`,
  );
  await mirror.close();
}

async function seed(name: string, store: PolicyStore, policies: Policy[]): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await store.addMany(policies);
  const used = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(8)} addMany ${Math.round(performance.now() - started)
      .toLocaleString('en-US')
      .padStart(7)} ms ` +
      `(this process's CPU ${Math.round((used.user + used.system) / 1000).toLocaleString('en-US')} ms)`,
  );
}

const servers: ServerHandle[] = [];
let mongoUrl = process.env.MONGODB_URI;
let redisUrl = process.env.REDIS_URL;
if (!mongoUrl && ONLY !== 'redis')
  servers.push(await startMongoServer().then((server) => ((mongoUrl = server.url), server)));
if (!redisUrl && ONLY !== 'mongodb')
  servers.push(await startRedisServer().then((server) => ((redisUrl = server.url), server)));
console.log(
  `PolicyMirror cold start, ${SIZE.toLocaleString('en-US')} rule-based policies, pages of ${BATCH}. Load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; servers: ${servers.map((s) => s.description).join(', ') || 'from MONGODB_URI / REDIS_URL'}.`,
);
try {
  const policies = Array.from({ length: SIZE }, (_, i) => policyAt(i));

  if (ONLY !== 'redis') {
    const connection = await mongoose.createConnection(mongoUrl!, { serverSelectionTimeoutMS: 10_000 }).asPromise();
    const collection = `bench_policies_${process.pid}`;
    const mongoStore = new MongoPolicyStore({ connection, collection });
    await mongoStore.init();
    await seed('mongodb', mongoStore, policies);
    // Without the snapshot (`snapshot: false`) every start reads every policy document. With it, the first
    // start does that and saves the snapshot; the next ones read the snapshot and the changes logged since.
    await coldStart('mongodb (snapshot: false)', new MongoPolicyStore({ connection, collection, snapshot: false }));
    await coldStart('mongodb (no snapshot yet: read, then save)', mongoStore);
    await coldStart('mongodb (snapshot)', mongoStore);
    for (let i = 0; i < 20; i++) await mongoStore.update(policyAt(i * 1000));
    await coldStart('mongodb (snapshot + 20 logged changes)', mongoStore);
    for (const suffix of ['', '_changes', '_migrations', '_snapshot'])
      await connection.dropCollection(`${collection}${suffix}`).catch(() => undefined);
    await connection.close();
  }
  if (ONLY !== 'mongodb') {
    const redis = await connectRedis(redisUrl!);
    const prefix = `bench:policies:${process.pid}:`;
    const redisStore = new RedisPolicyStore({ client: redis, prefix });
    await redisStore.init?.();
    await seed('redis', redisStore, policies);
    await coldStart('redis', redisStore);
    await redis.quit();
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
