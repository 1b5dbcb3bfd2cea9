// `portcullis/redis`: the Redis stores and helpers; each store takes a connected ioredis client.
// Gives `Stores.connections.redis` its ioredis type.
import './connection-type.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './sessions.js';
export { RedisPolicyStore, type RedisPolicyStoreOptions } from './policies.js';
export { connectRedis, redisHealth, type RedisConnectOptions, type RedisSentinelTarget } from '../connections/redis.js';
export { connectRedisCluster } from '../connections/redis-cluster.js';
export { isCluster, type RedisClient } from './client.js';
export { RedisPrincipalCache, type RedisPrincipalCacheOptions } from './principal-cache.js';
export { RedisRateLimitStore, RedisQuotaStore, type RedisCounterOptions } from './rate-limit.js';
export { RedisAuditStore, type RedisAuditStoreOptions } from './audit.js';
export { RedisReliabilityQueue, type RedisReliabilityQueueOptions } from './audit-queue.js';
export { redisCall, isRedisUnavailable } from './errors.js';
