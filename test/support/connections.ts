// Shared connections to the run's real servers, plus unique names so tests never see each other's data.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { connectRedis } from '../../stores/connections/redis.js';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export function requireEnv(name: 'MONGODB_URI' | 'REDIS_URL'): string {
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

/** One connection to the run's MongoDB database, closed by the root hook below. */
export function sharedMongo(): Promise<Connection> {
  mongo ??= connectMongo(requireEnv('MONGODB_URI'), { serverSelectionTimeoutMs: 5000 });
  return mongo;
}

export function sharedRedis(): Promise<Redis> {
  redis ??= connectRedis(requireEnv('REDIS_URL'), { commandTimeoutMs: 5000 });
  return redis;
}

export async function closeSharedConnections(): Promise<void> {
  const [m, r] = [mongo, redis];
  mongo = redis = undefined;
  await (await m)?.close();
  await (await r)?.quit();
}
