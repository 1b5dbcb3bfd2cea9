// Runs one contract suite against every implementation of a store kind, each against its real server.
import type { Connection } from 'mongoose';
import type { RedisClient } from '../../stores/redis/client.js';
import {
  closeSharedConnections,
  sharedMongo,
  sharedRedis,
  sharedRedisCluster,
  uniqueName,
} from '../support/connections.js';

export interface BackendContext {
  /** A connection to the run's MongoDB database. */
  mongo(): Promise<Connection>;
  /** The run's single Redis server, or its Redis Cluster in the `onEachRedis` variant. */
  redis(): Promise<RedisClient>;
  /** A name unique to this test: a collection name or a key prefix. */
  name: string;
}

export interface Implementation<S> {
  name: 'memory' | 'mongodb' | 'redis' | string;
  /** Builds a fresh, empty store; `cleanup` drops what it created. */
  create(context: BackendContext): Promise<{ store: S; cleanup?: () => Promise<void> }>;
}

/**
 * A Redis implementation twice: on the run's single Redis server and on its three-master Redis Cluster,
 * so every Redis store is held to its contract with its keys spread over several servers.
 */
export function onEachRedis<S>(implementation: Implementation<S>): Implementation<S>[] {
  return [
    implementation,
    {
      name: `${implementation.name} cluster`,
      create: (context) => implementation.create({ ...context, redis: sharedRedisCluster }),
    },
  ];
}

/**
 * Declares `describe(<kind> store contract (<impl>))` for every implementation and calls `suite` inside it
 * with a getter for the current test's fresh store.
 */
export function contractSuite<S>(
  kind: string,
  implementations: Implementation<S>[],
  suite: (store: () => S) => void,
): void {
  for (const implementation of implementations) {
    describe(`${kind} store contract (${implementation.name})`, function () {
      let current: { store: S; cleanup?: () => Promise<void> } | undefined;
      beforeEach(async function () {
        current = await implementation.create({
          mongo: sharedMongo,
          redis: sharedRedis,
          name: uniqueName(kind.replace(/\W+/g, '_')),
        });
      });
      afterEach(async function () {
        await current?.cleanup?.();
        current = undefined;
      });
      suite(() => {
        if (!current) throw new Error('store used outside a test');
        return current.store;
      });
    });
  }
}

// Close the shared connections once, after every suite of the run.
after(async function () {
  await closeSharedConnections();
});
