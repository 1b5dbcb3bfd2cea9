// Shared connections to the run's real servers, plus unique names so tests never see each other's data.
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { connectRedis } from '../../stores/connections/redis.js';
import { connectRedisCluster } from '../../stores/connections/redis-cluster.js';
import type { RedisClient } from '../../stores/redis/client.js';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export function requireEnv(name: 'MONGODB_URI' | 'REDIS_URL' | 'PORTCULLIS_TEST_REDIS_CLUSTER'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the mocha global fixture (test/setup/servers.ts) did not run`);
  return value;
}

/** The run's MongoDB URI with a different database name. */
export function mongoUriFor(database: string): string {
  const url = new URL(requireEnv('MONGODB_URI'));
  url.pathname = `/${database}`;
  return url.toString();
}

let mongo: Promise<Connection> | undefined;
let redis: Promise<Redis> | undefined;
let cluster: Promise<Cluster> | undefined;

/** One connection to the run's MongoDB database, closed by the root hook below. */
export function sharedMongo(): Promise<Connection> {
  mongo ??= connectMongo(requireEnv('MONGODB_URI'), { serverSelectionTimeoutMs: 5000 });
  return mongo;
}

export function sharedRedis(): Promise<Redis> {
  redis ??= connectRedis(requireEnv('REDIS_URL'), { commandTimeoutMs: 5000 });
  return redis;
}

/** The node URLs of the run's Redis Cluster (three masters). */
export function redisClusterNodes(): string[] {
  return requireEnv('PORTCULLIS_TEST_REDIS_CLUSTER').split(',');
}

/** One client of the run's Redis Cluster, closed by the root hook below. */
export function sharedRedisCluster(): Promise<Cluster> {
  cluster ??= connectRedisCluster(redisClusterNodes(), { commandTimeoutMs: 5000 });
  return cluster;
}

/** Deletes the keys matching `pattern` on one server or on every master of a cluster. */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  const servers = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  for (const server of servers) {
    const keys = await server.keys(pattern);
    // One key per command: on a cluster the keys of one node may still span several slots.
    await Promise.all(keys.map((key) => client.del(key)));
  }
}

export async function closeSharedConnections(): Promise<void> {
  const [m, r, c] = [mongo, redis, cluster];
  mongo = redis = cluster = undefined;
  await (await m)?.close();
  await (await r)?.quit();
  await (await c)?.quit();
}
