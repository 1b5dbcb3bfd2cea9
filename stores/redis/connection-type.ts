// Types `Stores.connections.redis` wherever this backend's types are loaded (portcullis/redis,
// portcullis/stores); the root's `Connections` names no driver. Loads nothing at run time.
import type { RedisClient } from './client.js';

declare module '../../src/contracts/store-set.js' {
  interface Connections {
    /** One Redis server (or the master `REDIS_SENTINELS` names), or a `Cluster` when `REDIS_CLUSTER_NODES` is set. */
    redis?: RedisClient;
  }
}
