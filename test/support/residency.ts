// Country stores for residency tests: de, us and "*" on memory or on the run's MongoDB server (a database
// each), with a record of which country each call reached, seen by the store and by the server.
import mongoose, { type Connection } from 'mongoose';
import type { RecordStore } from '../../src/contracts/records.js';
import { StoreUnavailableError } from '../../src/errors.js';
import type { SchemaInput } from '../../src/filter/index.js';
import { MemoryRecordStore } from '../../stores/memory/records.js';
import { mongooseSchemaFor } from '../../stores/mongodb/records-schema.js';
import { MongoRecordStore } from '../../stores/mongodb/records.js';
import { requireEnv, uniqueName } from './connections.js';

export type ResidencyBackend = 'memory' | 'mongodb';
export const residencyBackends: ResidencyBackend[] = ['memory', 'mongodb'];

/** The countries with a store of their own, and `*` for the others. */
export const COUNTRY_STORES = ['de', 'us', '*'] as const;
export type CountryStore = (typeof COUNTRY_STORES)[number];

export interface CountryStores {
  /** What a `ResidentRecordStore` is given: each country's store, behind a call recorder. */
  stores: Record<CountryStore, RecordStore>;
  /** The same stores without the recorder, for raw reads that the test does not count. */
  raw: Record<CountryStore, RecordStore>;
  /** Calls in order, as `<country>.<method>`, since the last `reset()`. */
  calls: string[];
  /** Countries whose database the server saw a command for since the last `reset()` (MongoDB only). */
  serverSaw(): Set<CountryStore>;
  reset(): void;
  /** Makes the next calls of `method` on `country` fail, as an outage would. */
  failNext(country: CountryStore, method: keyof RecordStore): void;
  /** Runs `hook` (e.g. a concurrent write) before the next call of `method` on `country` goes ahead. */
  beforeNext(country: CountryStore, method: keyof RecordStore, hook: () => Promise<unknown>): void;
  cleanup(): Promise<void>;
}

const METHODS = new Set(['find', 'count', 'distinct', 'get', 'insert', 'insertMany', 'replace', 'remove', 'prepare']);

let monitored: Promise<Connection> | undefined;
const serverLog: string[] = [];

/** One connection with command monitoring: the driver reports every command with its database. */
function monitoredMongo(): Promise<Connection> {
  monitored ??= (async () => {
    const connection = mongoose.createConnection(requireEnv('MONGODB_URI'), {
      monitorCommands: true,
      bufferCommands: false,
      autoCreate: false,
      autoIndex: false,
      serverSelectionTimeoutMS: 5000,
    });
    await connection.asPromise();
    connection.getClient().on('commandStarted', (event) => serverLog.push(event.databaseName));
    return connection;
  })();
  return monitored;
}

export async function closeMonitoredMongo(): Promise<void> {
  const connection = monitored;
  monitored = undefined;
  await (await connection)?.close();
}

export async function countryStores(backend: ResidencyBackend, schema: SchemaInput): Promise<CountryStores> {
  const calls: string[] = [];
  const failing = new Set<string>();
  const hooks = new Map<string, () => Promise<unknown>>();
  const raw = {} as Record<CountryStore, RecordStore>;
  const databases = new Map<string, CountryStore>();
  const drops: (() => Promise<unknown>)[] = [];
  const run = uniqueName('residency');
  for (const country of COUNTRY_STORES) {
    if (backend === 'memory') {
      raw[country] = new MemoryRecordStore({ schema });
    } else {
      const connection = await monitoredMongo();
      const name = `${run}_${country === '*' ? 'other' : country}`;
      const db = connection.useDb(name, { useCache: true });
      const model = db.model('people', mongooseSchemaFor(schema), 'people');
      raw[country] = new MongoRecordStore({ model });
      databases.set(name, country);
      drops.push(() => db.dropDatabase());
    }
  }
  const stores = {} as Record<CountryStore, RecordStore>;
  for (const country of COUNTRY_STORES) {
    const store = raw[country];
    stores[country] = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        // Private fields are the target's: every method runs on it, not on the proxy.
        if (typeof property !== 'string' || !METHODS.has(property)) return value.bind(target) as unknown;
        return (...args: unknown[]) => {
          calls.push(`${country}.${property}`);
          if (failing.delete(`${country}.${property}`)) {
            return Promise.reject(new StoreUnavailableError(store.backend));
          }
          const hook = hooks.get(`${country}.${property}`);
          hooks.delete(`${country}.${property}`);
          const call = () => (value as (...a: unknown[]) => unknown).apply(target, args);
          return hook ? hook().then(call) : call();
        };
      },
    });
  }
  return {
    stores,
    raw,
    calls,
    serverSaw() {
      const seen = new Set<CountryStore>();
      for (const database of serverLog) {
        const country = databases.get(database);
        if (country) seen.add(country);
      }
      return seen;
    },
    reset() {
      calls.length = 0;
      serverLog.length = 0;
    },
    failNext(country, method) {
      failing.add(`${country}.${String(method)}`);
    },
    beforeNext(country, method, hook) {
      hooks.set(`${country}.${String(method)}`, hook);
    },
    async cleanup() {
      for (const drop of drops) await drop().catch(() => undefined);
    },
  };
}

/** The countries the recorded calls reached. */
export function countriesCalled(calls: readonly string[]): Set<string> {
  return new Set(calls.map((call) => call.split('.')[0]!));
}
