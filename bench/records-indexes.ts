// List latency of the MongoDB records store over 10 000 and 100 000 records, without and with the indexes
// its init() builds (migration 1), through the store as the CRUD router calls it.
// Run: npx tsx bench/records-indexes.ts   (uses MONGODB_URI, else starts a throwaway MongoDB-compatible
// server: mongod when on PATH, else FerretDB v1). BENCH_SIZES (default 10000,100000) and BENCH_RUNS
// (default 5; the median is reported) override the defaults.
import mongoose from 'mongoose';
import { createQueryCompiler, type SchemaInput } from 'portcullis';
import { MongoRecordStore, mongooseSchemaFor } from 'portcullis/mongodb';
import { startMongoServer, type ServerHandle } from '../test/support/servers.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BATCH = 2000;

const schema: SchemaInput = {
  name: 'string',
  status: { type: 'string', enum: ['new', 'active', 'closed'] },
  age: 'number',
  balance: 'number',
  country: 'string',
};
const statuses = ['new', 'active', 'closed'];
const countries = ['NO', 'SE', 'DK', 'FI', 'IS', 'GB', 'DE', 'FR'];

const queries = [
  'sort=-balance&limit=20',
  'status=active&sort=-balance&limit=20',
  'country=NO&limit=20',
  'balance__gte=9990&limit=20',
];

function document(i: number): Record<string, unknown> {
  return {
    _id: `acc_${String(i).padStart(7, '0')}`,
    _version: 1,
    name: `Customer ${i}`,
    status: statuses[i % 3],
    age: 18 + ((i * 7) % 70),
    // Spread so that ties are few and the top of the sort is not the insertion order.
    balance: (i * 7919) % 100_000,
    country: countries[i % countries.length],
  };
}

async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < RUNS; index += 1) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  let server: ServerHandle | undefined;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    server = await startMongoServer();
    uri = server.url;
  }
  const connection = await mongoose.createConnection(uri).asPromise();
  const info = await connection.db!.admin().command({ buildInfo: 1 });
  const serverName =
    typeof info.ferretdbVersion === 'string' ? `FerretDB ${info.ferretdbVersion}` : `MongoDB ${info.version}`;
  console.log(`records store list latency, ${serverName}, median of ${RUNS} runs (ms)`);
  const compiler = createQueryCompiler({ schema });
  try {
    for (const size of SIZES) {
      const name = `bench_records_${size}_${Date.now().toString(36)}`;
      const model = connection.model(name, mongooseSchemaFor(schema), name);
      const store = new MongoRecordStore({ model, schema });
      const started = performance.now();
      for (let from = 0; from < size; from += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, size - from) }, (_, index) => document(from + index));
        await connection.db!.collection(name).insertMany(batch as never[], { ordered: false });
      }
      console.log(`\n${size} records inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const results = new Map<string, number[]>();
      for (const phase of ['without indexes', 'with indexes'] as const) {
        if (phase === 'with indexes') {
          const building = performance.now();
          await store.init();
          console.log(`indexes built in ${((performance.now() - building) / 1000).toFixed(1)} s`);
        }
        for (const text of queries) {
          const query = compiler.compile(text);
          const ms = await median(() => store.find({ where: query.page, sort: query.sortKeys, limit: query.limit }));
          results.set(text, [...(results.get(text) ?? []), ms]);
        }
      }
      console.log(`${'query'.padEnd(40)} ${'without'.padStart(9)} ${'with'.padStart(9)}`);
      for (const [text, [without, withIndexes]] of results) {
        console.log(`${text.padEnd(40)} ${without!.toFixed(1).padStart(9)} ${withIndexes!.toFixed(1).padStart(9)}`);
      }
      await connection.dropCollection(name);
      await connection.dropCollection(`${name}_migrations`).catch(() => undefined);
      connection.deleteModel(name);
    }
  } finally {
    await connection.close();
    await server?.stop();
  }
}

await main();
