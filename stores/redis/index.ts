// The Redis store implementations; each takes a connected ioredis client.
export { RedisSessionStore, type RedisSessionStoreOptions } from './sessions.js';
export { connectRedis, redisHealth, type RedisConnectOptions } from '../connections/redis.js';
