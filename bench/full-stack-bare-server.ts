// The baseline of bench/full-stack.ts: bare Express serving the demo's accounts from the same store kind,
// the same page the analyst gets from the demo: her countries only, filtered and sorted as asked. What a
// hand-written app does instead of Portcullis: read two query parameters, trust them, query the store.
import express from 'express';
import mongoose from 'mongoose';
import { createServer } from 'node:http';
import { MemoryRecordStore } from 'portcullis/memory';
import { type RecordStore } from 'portcullis';
import { MongoRecordStore, connectMongo, mongooseSchemaFor } from 'portcullis/mongodb';
import { accountFields, seedAccounts } from '../examples/demo/accounts.js';
import { bareListHandler } from './full-stack-servers.js';

async function buildStore(): Promise<RecordStore> {
  const uri = process.env.MONGODB_URI;
  if (!uri) return new MemoryRecordStore({ schema: accountFields, idPrefix: 'acc_' });
  const connection = await connectMongo(uri);
  const model = connection.model('BareAccount', mongooseSchemaFor(accountFields), 'bench_bare_accounts');
  await model.deleteMany({});
  void mongoose;
  return new MongoRecordStore({ model, idPrefix: 'acc_' });
}

const store = await buildStore();
await store.init?.();
for (const { id, ...fields } of seedAccounts())
  await store.insert(id, { ...fields, createdAt: new Date(), updatedAt: new Date() });

const app = express();

app.get('/accounts', bareListHandler(store));
const server = createServer(app).listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
