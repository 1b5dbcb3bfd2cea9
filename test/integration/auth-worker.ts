// A second Portcullis process for the multi-process tests: same MongoDB, Redis (or cluster) and prefix; prints its port.
import { connectMongo } from '../../stores/connections/mongodb.js';
import { connectRedis } from '../../stores/connections/redis.js';
import { connectRedisCluster } from '../../stores/connections/redis-cluster.js';
import { buildAuthApp } from '../http/auth/fixtures.js';

const prefix = process.env.AUTH_TEST_PREFIX!;
const env = JSON.parse(process.env.AUTH_TEST_ENV ?? '{}') as Record<string, string>;
const mongo = await connectMongo(process.env.MONGODB_URI!, { serverSelectionTimeoutMs: 5000 });
const redis = env.CLUSTER
  ? await connectRedisCluster(process.env.PORTCULLIS_TEST_REDIS_CLUSTER!.split(','), { commandTimeoutMs: 5000 })
  : await connectRedis(process.env.REDIS_URL!, { commandTimeoutMs: 5000 });
const { app } = await buildAuthApp({ prefix, mongo, redis, env });
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
// The parent closes our stdin when it is done (or dies): then we exit.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
