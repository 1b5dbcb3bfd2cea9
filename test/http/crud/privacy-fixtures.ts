// Stores of the privacy tests: notes (privacy, owner, list) and list memberships, on either backend.
import type { RecordStore } from '../../../src/contracts/records.js';
import type { SchemaInput } from '../../../src/filter/index.js';
import { mongooseSchemaFor } from '../../../stores/mongodb/records-schema.js';
import { MongoRecordStore } from '../../../stores/mongodb/records.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { sharedMongo, uniqueName } from '../../support/connections.js';
import type { Backend } from './app.js';

export const noteFields: SchemaInput = {
  title: 'string',
  privacy: 'string',
  owner: 'string',
  listId: 'string',
  score: 'number',
};
export const memberFields: SchemaInput = { principalId: 'string', listId: 'string', level: 'string' };

/** A membership store on the backend, dropped by `cleanup`. */
export async function memberStore(backend: Backend): Promise<{ store: RecordStore; cleanup(): Promise<void> }> {
  if (backend === 'memory') return { store: new MemoryRecordStore({ schema: memberFields }), cleanup: async () => {} };
  const connection = await sharedMongo();
  const name = uniqueName('members');
  const model = connection.model(name, mongooseSchemaFor(memberFields), name);
  return {
    store: new MongoRecordStore({ model }),
    async cleanup() {
      await connection.dropCollection(name).catch(() => false);
      connection.deleteModel(name);
    },
  };
}
