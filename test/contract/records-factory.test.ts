// createStores(config).records(resource, fields): one records store per resource on the RECORDS backend.
import { expect } from 'chai';
import { loadConfig } from '../../src/config/index.js';
import { createStores, type Stores } from '../../stores/create-stores.js';
import { MemoryRecordStore } from '../../stores/memory/records.js';
import { MongoRecordStore } from '../../stores/mongodb/records.js';
import { mongoUriFor, uniqueName } from '../support/connections.js';

const fields = { name: { type: 'string', required: true }, age: 'number' } as const;

describe('createStores records factory', function () {
  let stores: Stores | undefined;
  afterEach(async function () {
    await stores?.close();
    stores = undefined;
  });

  it('builds memory collections by default, one per resource', async function () {
    stores = await createStores(loadConfig({}));
    const accounts = stores.records('accounts', fields, { idPrefix: 'acc_' });
    expect(accounts).to.be.instanceOf(MemoryRecordStore);
    expect(stores.records('accounts', fields)).to.equal(accounts);
    expect(accounts.newId()).to.match(/^acc_/);
  });

  it('builds MongoDB collections when RECORDS_BACKEND is mongodb', async function () {
    const database = uniqueName('records_factory');
    stores = await createStores(loadConfig({ MONGODB_URI: mongoUriFor(database), RECORDS_BACKEND: 'mongodb' }));
    const accounts = stores.records('accounts', fields, { idPrefix: 'acc_' });
    expect(accounts).to.be.instanceOf(MongoRecordStore);
    const prepared = await accounts.prepare({ name: 'Ada', age: 36 });
    const id = accounts.newId();
    await accounts.insert(id, prepared.record);
    expect((await accounts.get(id))?.name).to.equal('Ada');
    expect((await accounts.prepare({ age: 'x' })).problems.map((p) => p.field).sort()).to.deep.equal(['age', 'name']);
    await stores.connections.mongodb!.dropDatabase();
  });
});
