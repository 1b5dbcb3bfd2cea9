// Generated queries over generated records: the in-memory predicate, the memory store and the real
// MongoDB-compatible server must return exactly the same records in the same order.
import { expect } from 'chai';
import type { RecordStore } from '../../src/contracts/records.js';
import { createQueryCompiler, matchAll, type SchemaInput } from '../../src/filter/index.js';
import { MemoryRecordStore } from '../../stores/memory/records.js';
import { MongoRecordStore } from '../../stores/mongodb/records.js';
import { mongooseSchemaFor } from '../../stores/mongodb/records-schema.js';
import { sharedMongo, uniqueName } from '../support/connections.js';
import { prng } from '../support/prng.js';

const schema: SchemaInput = {
  name: 'string',
  age: 'number',
  active: 'boolean',
  born: 'date',
  owner: 'objectId',
  tags: 'string[]',
  scores: 'number[]',
  'address.city': 'string',
};

const SEED = Number(process.env.DIFF_SEED ?? 20261122);
const random = prng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const words = ['alpha', 'Alpha', 'beta', 'b.e', 'gam(ma)', 'delta', 'x*y', 'Zed', 'zed', 'a', ''];
const cities = ['Oslo', 'Bergen', 'oslo', 'Tromsø'];
const owners = ['64b7f0c2a1b2c3d4e5f60710', '64b7f0c2a1b2c3d4e5f60711', '64b7f0c2a1b2c3d4e5f6071f'];
const dates = ['1990-01-01', '1999-06-15T12:00:00Z', '2005-03-03', '2020-12-31T23:59:59Z'];
const numbers = [-5, 0, 1, 2.5, 3, 10, 42, 100];

function maybe<T>(make: () => T): T | null | undefined {
  const roll = random();
  return roll < 0.12 ? undefined : roll < 0.2 ? null : make();
}

function generateRecord(): Record<string, unknown> {
  const record: Record<string, unknown> = {
    name: maybe(() => pick(words)),
    age: maybe(() => pick(numbers)),
    active: maybe(() => random() < 0.5),
    born: maybe(() => new Date(pick(dates))),
    owner: maybe(() => pick(owners)),
    tags: maybe(() => Array.from({ length: Math.floor(random() * 3) }, () => pick(words))),
    scores: maybe(() => Array.from({ length: Math.floor(random() * 3) }, () => pick(numbers))),
    address: maybe(() => ({ city: maybe(() => pick(cities)) })),
  };
  for (const key of Object.keys(record)) {
    if (record[key] === undefined) delete record[key];
    const nested = record[key] as Record<string, unknown> | null | undefined;
    if (key === 'address' && nested && nested.city === undefined) delete nested.city;
  }
  return record;
}

const valueFor: Record<string, () => string> = {
  name: () => pick(words),
  tags: () => pick(words),
  age: () => String(pick(numbers)),
  scores: () => String(pick(numbers)),
  active: () => pick(['true', 'false']),
  born: () => pick(dates),
  owner: () => pick(owners),
  'address.city': () => pick(cities),
};

const operatorsFor: Record<string, string[]> = {
  name: [
    'eq',
    'ne',
    'in',
    'notin',
    'startswith',
    'contains',
    'notcontains',
    'exists',
    'gt',
    'lt',
    'gte',
    'lte',
    'between',
  ],
  tags: ['eq', 'ne', 'in', 'notin', 'startswith', 'contains', 'notcontains', 'exists', 'gt', 'lte'],
  age: ['eq', 'ne', 'in', 'notin', 'exists', 'gt', 'lt', 'ge', 'le', 'between'],
  scores: ['eq', 'ne', 'in', 'notin', 'exists', 'gt', 'lt', 'between'],
  active: ['eq', 'ne', 'in', 'notin', 'exists'],
  born: ['eq', 'ne', 'in', 'exists', 'gt', 'lt', 'gte', 'lte', 'between'],
  owner: ['eq', 'ne', 'in', 'notin', 'gt', 'lte', 'exists'],
  'address.city': ['eq', 'ne', 'in', 'startswith', 'contains', 'notcontains', 'exists', 'gt', 'between'],
};

function generateCondition(): string {
  const field = pick(Object.keys(operatorsFor));
  const op = pick(operatorsFor[field]!);
  const text = valueFor[field]!;
  const json = (value: string) => (field === 'age' || field === 'scores' ? value : JSON.stringify(value));
  let value: string;
  if (op === 'in' || op === 'notin')
    value = `[${Array.from({ length: 1 + Math.floor(random() * 3) }, () => json(text())).join(',')}]`;
  else if (op === 'between') value = `[${json(text())},${json(text())}]`;
  else if (op === 'exists') value = pick(['true', 'false']);
  else value = text();
  return `${op === 'eq' ? field : `${field}__${op}`}=${encodeURIComponent(value)}`;
}

function generateQuery(): string {
  const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, generateCondition);
  const sortable = ['name', 'age', 'active', 'born', 'owner', 'address.city'];
  const sort = Array.from({ length: Math.floor(random() * 3) }, () => `${random() < 0.5 ? '-' : ''}${pick(sortable)}`);
  const unique = sort.filter((key, i) => sort.findIndex((k) => k.replace('-', '') === key.replace('-', '')) === i);
  if (unique.length > 0) parts.push(`sort=${unique.join(',')}`);
  parts.push('limit=100');
  return parts.join('&');
}

describe(`generated queries: memory predicate = memory store = MongoDB server (seed ${SEED})`, function () {
  this.timeout(120_000);
  const compiler = createQueryCompiler({ schema, maxLimit: 500 });
  const name = uniqueName('records_diff');
  let memory: RecordStore;
  let mongo: RecordStore;
  let records: Record<string, unknown>[] = [];

  before(async function () {
    const connection = await sharedMongo();
    const mongoStore = new MongoRecordStore({ model: connection.model(name, mongooseSchemaFor(schema), name) });
    // With its indexes: they must not change an answer (sorts by them, ties by id in either direction).
    await mongoStore.init();
    mongo = mongoStore;
    memory = new MemoryRecordStore({ schema });
    for (let i = 0; i < 250; i++) {
      const id = `r${String(i).padStart(3, '0')}`;
      const record = generateRecord();
      const [forMemory, forMongo] = await Promise.all([memory.prepare(record), mongo.prepare(record)]);
      expect(forMemory.problems.concat(forMongo.problems)).to.deep.equal([]);
      await memory.insert(id, forMemory.record);
      await mongo.insert(id, forMongo.record);
    }
    records = await memory.find({ where: matchAll, sort: [{ field: 'id', direction: 1 }], limit: 1000 });
  });

  after(async function () {
    const connection = await sharedMongo();
    await connection.dropCollection(name).catch(() => false);
    await connection.dropCollection(`${name}_migrations`).catch(() => false);
    connection.deleteModel(name);
  });

  it('agrees on 400 random queries', async function () {
    let compared = 0;
    let nonEmpty = 0;
    for (let i = 0; i < 400; i++) {
      const qs = generateQuery();
      const query = compiler.compile(qs);
      const request = { where: query.page, sort: query.sortKeys, limit: 1000 };
      const [fromMemory, fromMongo] = await Promise.all([memory.find(request), mongo.find(request)]);
      const predicate = records.filter((record) => query.matches(record)).map((record) => record.id as string);
      const memoryIds = fromMemory.map((record) => record.id);
      const mongoIds = fromMongo.map((record) => record.id);
      expect(mongoIds, `MongoDB vs memory store for ${qs}`).to.deep.equal(memoryIds);
      expect([...memoryIds].sort(), `predicate vs memory store for ${qs}`).to.deep.equal(predicate);
      compared++;
      if (memoryIds.length > 0 && memoryIds.length < records.length) nonEmpty++;
    }
    expect(compared).to.equal(400);
    // The generator must produce selective queries, or the comparison proves little.
    expect(nonEmpty).to.be.greaterThan(200);
  });
});
