// The Redis clients a store accepts (one server or a Redis Cluster) and how keys are grouped into slots.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A connected ioredis client: a `Redis` (one server, or a Sentinel-managed primary) or a `Cluster`.
 * On a cluster every script and transaction touches the keys of one hash slot only; the stores name
 * their keys so (see docs/deployment.md).
 */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/**
 * Which of `count` shards a name belongs to, stable across processes and versions: the shards' keys
 * carry different hash tags, so a cluster spreads them over its masters.
 */
export function shardOf(name: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('sha1').update(name).digest().readUInt32BE(0) % count;
}

/** Keys with a hash tag must not carry a second `{`: only the first `{...}` decides the slot. */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 2) > open;
}
