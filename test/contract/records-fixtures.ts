// Shared fixtures for the records store tests: a people schema, stores on both backends, seed data.
import type { RecordStore } from '../../src/contracts/records.js';
import type { SchemaInput } from '../../src/filter/index.js';
import { MemoryRecordStore } from '../../stores/memory/records.js';
import { MongoRecordStore } from '../../stores/mongodb/records.js';
import { mongooseSchemaFor } from '../../stores/mongodb/records-schema.js';
import type { Implementation } from './harness.js';

export const peopleSchema: SchemaInput = {
  name: { type: 'string', required: true, maxLength: 40 },
  age: { type: 'number', min: 0, max: 150 },
  active: 'boolean',
  born: 'date',
  owner: 'objectId',
  tags: 'string[]',
  scores: 'number[]',
  status: { type: 'string', enum: ['new', 'active', 'closed'] },
  'address.city': 'string',
  'address.zip': 'string',
};

export function recordImplementations(
  schema: SchemaInput = peopleSchema,
  idPrefix?: string,
): Implementation<RecordStore>[] {
  return [
    {
      name: 'memory',
      create: async () => ({ store: new MemoryRecordStore({ schema, ...(idPrefix ? { idPrefix } : {}) }) }),
    },
    {
      name: 'mongodb',
      async create(context) {
        const connection = await context.mongo();
        const model = connection.model(context.name, mongooseSchemaFor(schema), context.name);
        const store = new MongoRecordStore({ model, ...(idPrefix ? { idPrefix } : {}) });
        return {
          store,
          async cleanup() {
            await connection.dropCollection(context.name).catch(() => false);
            connection.deleteModel(context.name);
          },
        };
      },
    },
  ];
}

export const people: (Record<string, unknown> & { id: string })[] = [
  {
    id: 'p1',
    name: 'Alice',
    age: 31,
    active: true,
    born: new Date('1993-04-01T00:00:00Z'),
    owner: '64b7f0c2a1b2c3d4e5f60718',
    tags: ['admin', 'ops'],
    scores: [1, 9],
    status: 'active',
    address: { city: 'Oslo', zip: '0150' },
  },
  {
    id: 'p2',
    name: 'Bob',
    age: 25,
    active: false,
    born: new Date('1999-12-31T00:00:00Z'),
    owner: '64b7f0c2a1b2c3d4e5f60719',
    tags: ['dev'],
    scores: [5],
    status: 'new',
    address: { city: 'Bergen', zip: '5003' },
  },
  { id: 'p3', name: 'Carol', age: 47, active: true, tags: [], scores: [], status: 'closed', address: { city: 'Oslo' } },
  { id: 'p4', name: 'Dave.x', age: 31, born: new Date('1977-06-15T00:00:00Z'), tags: ['ops', 'dev'], scores: [2, 3] },
  { id: 'p5', name: 'Eve (admin)', active: false, status: 'new', age: null },
];

export async function seed(store: RecordStore, records = people): Promise<void> {
  for (const { id, ...fields } of records) {
    const prepared = await store.prepare(fields);
    if (prepared.problems.length > 0) throw new Error(`bad fixture ${id}: ${JSON.stringify(prepared.problems)}`);
    await store.insert(id, prepared.record);
  }
}
