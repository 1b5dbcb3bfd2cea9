// A separate process for the cross-process test: mirrors a real policy store and answers inquiries
// read as JSON lines on stdin with one decision line on stdout.
import { createInterface } from 'node:readline';
import { Guard, PolicyMirror, type PolicyStore } from 'portcullis';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { connectRedis } from '../../stores/connections/redis.js';
import { connectRedisCluster } from '../../stores/connections/redis-cluster.js';
import { MongoPolicyStore } from '../../stores/mongodb/policies.js';
import { RedisPolicyStore } from '../../stores/redis/policies.js';

const [backend, name] = process.argv.slice(2) as ['redis' | 'redis cluster' | 'mongodb', string];
let store: PolicyStore;
let closeConnection: () => Promise<unknown>;
if (backend === 'redis' || backend === 'redis cluster') {
  const client =
    backend === 'redis'
      ? await connectRedis(process.env.REDIS_URL!)
      : await connectRedisCluster(process.env.PORTCULLIS_TEST_REDIS_CLUSTER!.split(','));
  store = new RedisPolicyStore({ client, prefix: `${name}:` });
  closeConnection = () => client.quit();
} else {
  const connection = await connectMongo(process.env.MONGODB_URI!);
  store = new MongoPolicyStore({ connection, collection: name, pollIntervalMs: 100 });
  closeConnection = () => connection.close();
}
const mirror = new PolicyMirror({ store });
await mirror.init();
const guard = new Guard({ policies: mirror, cache: true });
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'quit') break;
  const decision = guard.decideSync(JSON.parse(line) as object);
  process.stdout.write(`${JSON.stringify({ allowed: decision.allowed, cached: decision.cached })}\n`);
}
await mirror.close();
await closeConnection();
