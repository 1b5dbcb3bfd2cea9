// PolicyMirror cold start: a process starting against a store that already holds N policies (MongoDB
// and Redis), until its guard decides locally; vakt's rule-based scenario, as in bench/abac-decisions.ts.
// Run: npx tsx bench/policy-mirror-cold-start.ts [--size 100000] [--batch 1000]
//      (uses MONGODB_URI / REDIS_URL when set, else starts throwaway servers like the test run)
import { loadavg } from 'node:os';
import mongoose from 'mongoose';
import { Guard, PolicyMirror, policyFromJSON, type Policy, type PolicyStore } from 'portcullis';
import { MongoPolicyStore } from 'portcullis/mongodb';
import { connectRedis, RedisPolicyStore } from 'portcullis/redis';
import { indexKeysOf, rawStringsOf, serializePolicy } from '../stores/policy-documents.js';
import { startMongoServer, startRedisServer, type ServerHandle } from '../test/support/servers.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
};
const SIZE = Number(option('size', '100000'));
const BATCH = Number(option('batch', '1000'));

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
    `${name.padEnd(8)} cold start ${Math.round(ms).toLocaleString('en-US').padStart(7)} ms for ${mirror.policySet.size.toLocaleString('en-US')} policies ` +
      `(${((ms * 1000) / SIZE).toFixed(1)} µs each; this process's CPU ${Math.round((used.user + used.system) / 1000).toLocaleString('en-US')} ms), first decision ${allowed}`,
  );
  await mirror.close();
}

const servers: ServerHandle[] = [];
let mongoUrl = process.env.MONGODB_URI;
let redisUrl = process.env.REDIS_URL;
if (!mongoUrl) servers.push(await startMongoServer().then((server) => ((mongoUrl = server.url), server)));
if (!redisUrl) servers.push(await startRedisServer().then((server) => ((redisUrl = server.url), server)));
console.log(
  `PolicyMirror cold start, ${SIZE.toLocaleString('en-US')} rule-based policies, pages of ${BATCH}. Load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; servers: ${servers.map((s) => s.description).join(', ') || 'from MONGODB_URI / REDIS_URL'}.`,
);
try {
  const policies = Array.from({ length: SIZE }, (_, i) => policyAt(i));

  // MongoDB: seeded straight in the store's document form (one write per policy with its change log
  // would take minutes on FerretDB), after init() so the migrations are recorded as done.
  const connection = await mongoose.createConnection(mongoUrl!, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  const collection = `bench_policies_${process.pid}`;
  const mongoStore = new MongoPolicyStore({ connection, collection });
  await mongoStore.init();
  let seeded = performance.now();
  for (let i = 0; i < SIZE; i += 5000) {
    await connection.collection(collection).insertMany(
      policies.slice(i, i + 5000).map((policy) => ({
        _id: policy.uid as never,
        doc: serializePolicy(policy),
        type: policy.type,
        effect: policy.effect,
        ix: indexKeysOf(policy),
        raw: rawStringsOf(policy),
      })),
      { ordered: false },
    );
  }
  console.log(`mongodb  seeded in ${Math.round(performance.now() - seeded).toLocaleString('en-US')} ms`);
  await coldStart('mongodb', mongoStore);
  for (const suffix of ['', '_changes', '_migrations'])
    await connection.dropCollection(`${collection}${suffix}`).catch(() => undefined);
  await connection.close();

  // Redis: through the store's own writes, pipelined.
  const redis = await connectRedis(redisUrl!);
  const prefix = `bench:policies:${process.pid}:`;
  const redisStore = new RedisPolicyStore({ client: redis, prefix });
  await redisStore.init?.();
  seeded = performance.now();
  for (let i = 0; i < SIZE; i += 1000) await Promise.all(policies.slice(i, i + 1000).map((p) => redisStore.add(p)));
  console.log(`redis    seeded in ${Math.round(performance.now() - seeded).toLocaleString('en-US')} ms`);
  await coldStart('redis', redisStore);
  await redis.quit();
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
