// Mocha global fixture: real MongoDB-compatible and Redis servers for the whole run.
// Uses MONGODB_URI / REDIS_URL / PORTCULLIS_TEST_REDIS_CLUSTER when set; otherwise starts throwaway servers
// (MongoDB, one Redis and a three-master Redis Cluster) and stops them at the end.
import { startMongoServer, startRedisCluster, startRedisServer, type ServerHandle } from '../support/servers.js';

const started: ServerHandle[] = [];

export async function mochaGlobalSetup(): Promise<void> {
  try {
    if (process.env.MONGODB_URI) {
      console.log('[test servers] MongoDB: using MONGODB_URI from the environment');
    } else {
      const mongo = await startMongoServer();
      started.push(mongo);
      process.env.MONGODB_URI = mongo.url;
      console.log(`[test servers] started ${mongo.description} on 127.0.0.1:${mongo.port}`);
    }
    if (process.env.REDIS_URL) {
      console.log('[test servers] Redis: using REDIS_URL from the environment');
    } else {
      const redis = await startRedisServer();
      started.push(redis);
      process.env.REDIS_URL = redis.url;
      console.log(`[test servers] started ${redis.description} on 127.0.0.1:${redis.port}`);
    }
    // Not REDIS_CLUSTER_NODES: processes the tests start inherit the environment and must keep one Redis.
    if (process.env.PORTCULLIS_TEST_REDIS_CLUSTER) {
      console.log('[test servers] Redis Cluster: using PORTCULLIS_TEST_REDIS_CLUSTER from the environment');
    } else {
      const cluster = await startRedisCluster();
      started.push(cluster);
      process.env.PORTCULLIS_TEST_REDIS_CLUSTER = cluster.nodes.join(',');
      console.log(`[test servers] started ${cluster.description} on ${cluster.nodes.join(', ')}`);
    }
  } catch (error) {
    await stopAll();
    console.error(`[test servers] cannot start the test servers: ${(error as Error).message}`);
    throw error;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => process.exit(130));
    });
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopAll();
}

async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((server) => server.stop()));
}
