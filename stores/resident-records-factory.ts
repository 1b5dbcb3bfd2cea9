// Resident records stores per resource from the RESIDENCY_STORES targets: memory, or a MongoDB connection each.
import type { Connection } from 'mongoose';
import type { ResidencyStores } from '../src/config/schema/residency.js';
import type { RecordStore } from '../src/contracts/records.js';
import type { ResidentRecordFactory } from '../src/contracts/store-set.js';
import { recordStoreFactory } from './records-factory.js';
import { ResidentRecordStore } from './resident-records.js';
import type * as MongoBackend from './mongodb/index.js';

/** Each country's store: `memory`, or a connected MongoDB connection (its database holds the collections). */
export type ResidencyConnections = Readonly<Record<string, Connection | 'memory'>>;

/** Connects each distinct URL of the targets once (`connect` decides how, and may reuse a connection). */
export async function connectResidency(
  targets: ResidencyStores,
  connect: (url: string) => Promise<Connection>,
): Promise<ResidencyConnections> {
  const byUrl = new Map<string, Connection>();
  const connections: Record<string, Connection | 'memory'> = {};
  for (const [country, target] of Object.entries(targets)) {
    if (target === 'memory') {
      connections[country] = 'memory';
      continue;
    }
    let connection = byUrl.get(target);
    if (!connection) {
      connection = await connect(target);
      byUrl.set(target, connection);
    }
    connections[country] = connection;
  }
  return connections;
}

/** One `ResidentRecordStore` per resource (cached by name), each country's store built on its own target. */
export function residentRecordFactory(
  targets: ResidencyConnections,
  mongo: typeof MongoBackend | undefined,
): ResidentRecordFactory {
  const factories = Object.entries(targets).map(
    ([country, target]) =>
      [
        country,
        target === 'memory'
          ? recordStoreFactory('memory', undefined)
          : recordStoreFactory('mongodb', mongo && { connection: target, backend: mongo }),
      ] as const,
  );
  const stores = new Map<string, ResidentRecordStore>();
  return (resource, fields, options = {}) => {
    const existing = stores.get(resource);
    if (existing) return existing;
    const { field, ...common } = options;
    const byCountry: Record<string, RecordStore> = {};
    for (const [country, factory] of factories) byCountry[country] = factory(resource, fields, common);
    const store = new ResidentRecordStore({ stores: byCountry, ...(field !== undefined ? { field } : {}) });
    stores.set(resource, store);
    return store;
  };
}
