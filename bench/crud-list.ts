// List latency over HTTP for 10 000 records, memory and MongoDB backends side by side, with a bare Express
// handler returning the same page as the floor. Run: npx tsx bench/crud-list.ts
// Uses MONGODB_URI when set, else starts a throwaway MongoDB-compatible server (FerretDB or mongod).
import autocannon from 'autocannon';
import express from 'express';
import mongoose from 'mongoose';
import type { AddressInfo } from 'node:net';
import { crudRouter, errorHandler, type SchemaInput } from 'portcullis';
import { MemoryRecordStore } from 'portcullis/memory';
import { MongoRecordStore, mongooseSchemaFor } from 'portcullis/mongodb';
import { startMongoServer, type ServerHandle } from '../test/support/servers.js';

const RECORDS = 10_000;
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const schema: SchemaInput = {
  name: 'string',
  email: 'string',
  status: { type: 'string', enum: ['new', 'active', 'closed'] },
  age: 'number',
  balance: 'number',
  country: 'string',
  tags: 'string[]',
};
const statuses = ['new', 'active', 'closed'];
const countries = ['NO', 'SE', 'DK', 'FI', 'IS', 'GB', 'DE', 'FR'];

function record(i: number): Record<string, unknown> {
  return {
    name: `Customer ${String(i).padStart(5, '0')}`,
    email: `c${i}@example.com`,
    status: statuses[i % 3],
    age: 18 + ((i * 7) % 70),
    balance: (i * 37) % 10_000,
    country: countries[i % countries.length],
    tags: i % 5 === 0 ? ['vip'] : [],
  };
}

const scenarios = [
  '/people?status=active&age__gt=30&sort=-age&limit=20',
  '/people?country__in=["NO","SE"]&balance__gte=5000&sort=name&limit=50',
];

async function listen(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function load(label: string, url: string, connections: number): Promise<void> {
  // One request alone first: its status proves the route answers, its time is the unloaded latency.
  const started = performance.now();
  const single = await fetch(url);
  await single.arrayBuffer();
  const alone = Math.round(performance.now() - started);
  if (single.status !== 200) throw new Error(`${label}: status ${single.status}`);
  const result = await autocannon({ url, connections, duration: DURATION, timeout: 60 });
  const errors = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${label.padEnd(58)} alone ${String(alone).padStart(4)} ms  ${result.requests.average.toFixed(1).padStart(7)} req/s  p50 ${String(result.latency.p50).padStart(4)} ms  p99 ${String(result.latency.p99).padStart(4)} ms${errors ? `  (${errors} errors!)` : ''}`,
  );
}

let mongoServer: ServerHandle | undefined;
const uri = process.env.MONGODB_URI ?? (mongoServer = await startMongoServer()).url;
const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000 }).asPromise();
console.log(
  `list latency over HTTP, ${RECORDS} records, ${DURATION}s per run, 10 connections (2 for MongoDB), node ${process.version}`,
);
console.log(`MongoDB: ${mongoServer ? mongoServer.description : 'MONGODB_URI'}`);

try {
  const memoryRouter = crudRouter({ resource: 'people', store: new MemoryRecordStore({ schema }) });
  const model = connection.model('bench_people', mongooseSchemaFor(schema), `bench_people_${Date.now()}`);
  const mongoRouter = crudRouter({ resource: 'people', store: new MongoRecordStore({ model }) });
  const documents = [];
  for (let i = 0; i < RECORDS; i++) {
    const id = `p${String(i).padStart(6, '0')}`;
    await memoryRouter.store.insert(id, record(i));
    documents.push({ _id: id, _version: 1, ...record(i) });
  }
  for (let i = 0; i < documents.length; i += 1000) {
    await model.collection.insertMany(documents.slice(i, i + 1000) as never[]);
  }
  await model.collection.createIndex({ age: -1 });
  await model.collection.createIndex({ name: 1 });

  // The floor: Express answering with a precomputed page of the same size, no filtering at all.
  const bare = express();
  const page = { items: documents.slice(0, 20), nextCursor: null };
  bare.get('/people', (_req, res) => {
    res.json(page);
  });
  const apps: [string, express.Express][] = [['bare express (static page)', bare]];
  for (const [name, router] of [
    ['memory', memoryRouter],
    ['mongodb', mongoRouter],
  ] as const) {
    const app = express();
    app.use('/people', router);
    app.use(errorHandler());
    apps.push([name, app]);
  }
  for (const [name, app] of apps) {
    const server = await listen(app);
    try {
      for (const path of name.startsWith('bare') ? [scenarios[0]!] : scenarios)
        await load(`${name} ${path}`, `${server.url}${path}`, name === 'mongodb' ? 2 : 10);
    } finally {
      await server.close();
    }
  }
  await model.collection.drop().catch(() => undefined);
} finally {
  await connection.close();
  await mongoServer?.stop();
}
