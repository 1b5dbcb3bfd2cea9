// MongoDB records store indexes: what init() builds (migration 1), how a changed plan is applied, and their use.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { ConfigError } from '../../src/errors.js';
import { createQueryCompiler } from '../../src/filter/index.js';
import { mongooseSchemaFor } from '../../stores/mongodb/records-schema.js';
import { MongoRecordStore } from '../../stores/mongodb/records.js';
import { sharedMongo, uniqueName } from '../support/connections.js';
import { indexesUsed, isFerretDb } from '../support/mongo-plan.js';

const fields = {
  name: 'string',
  status: { type: 'string', enum: ['active', 'closed'] },
  balance: 'number',
  country: 'string',
  notes: { type: 'string', filterable: false, sortable: false },
} as const;

interface Explained {
  sortPushdown?: boolean;
  queryPlanner?: { winningPlan?: unknown };
}

describe('MongoRecordStore indexes (real server)', function () {
  let connection: Connection;
  let ferretdb: boolean;
  const collections: string[] = [];

  before(async function () {
    connection = await sharedMongo();
    ferretdb = await isFerretDb(connection);
  });
  after(async function () {
    for (const name of collections) {
      await connection.dropCollection(name).catch(() => undefined);
      await connection.dropCollection(`${name}_migrations`).catch(() => undefined);
    }
  });

  function store(indexes?: ConstructorParameters<typeof MongoRecordStore>[0]['indexes'], name = uniqueName('rec_ix')) {
    if (!collections.includes(name)) collections.push(name);
    const model = connection.models[name] ?? connection.model(name, mongooseSchemaFor(fields), name);
    return new MongoRecordStore({ model, extraPaths: ['name_bidx'], ...(indexes && { indexes }) });
  }

  async function keysOf(created: MongoRecordStore): Promise<Record<string, unknown>> {
    const indexes = await connection.db!.collection(collections.at(-1)!).indexes();
    void created;
    return Object.fromEntries(indexes.map((index) => [index.name, index.key]));
  }

  it('builds { field: 1, _id: 1 } for each filterable or sortable field and extra path, recorded as migration 1', async function () {
    const created = store();
    await created.init();
    expect(await keysOf(created)).to.deep.equal({
      _id_: { _id: 1 },
      pc_name_id: { name: 1, _id: 1 },
      pc_status_id: { status: 1, _id: 1 },
      pc_balance_id: { balance: 1, _id: 1 },
      pc_country_id: { country: 1, _id: 1 },
      pc_name_bidx_id: { name_bidx: 1, _id: 1 },
    });
    expect(await created.appliedMigrations()).to.deep.equal([1]);
    // init() again is a no-op; migrating down drops exactly the store's indexes.
    await created.init();
    expect(await created.migrateDown()).to.deep.equal([1]);
    expect(Object.keys(await keysOf(created))).to.deep.equal(['_id_']);
  });

  it('follows a changed plan at init(): creates the new compound indexes, drops its old ones, keeps foreign ones', async function () {
    const name = uniqueName('rec_ix');
    await store(undefined, name).init();
    await connection.db!.collection(name).createIndex({ notes: 1 }, { name: 'operator_notes' });
    const changed = store([['country', '-balance'], 'status'], name);
    await changed.init();
    expect(await keysOf(changed)).to.deep.equal({
      _id_: { _id: 1 },
      operator_notes: { notes: 1 },
      pc_country_desc_balance_id: { country: 1, balance: -1, _id: -1 },
      pc_status_id: { status: 1, _id: 1 },
    });
    await store('none', name).init();
    expect(Object.keys(await keysOf(changed)).sort()).to.deep.equal(['_id_', 'operator_notes']);
  });

  it('refuses an index plan naming an undeclared field or no field, naming the option', function () {
    expect(() => store([['balance', 'nope']])).to.throw(ConfigError, /MongoRecordStore\.indexes\[0\].*"nope"/);
    expect(() => store([[]])).to.throw(ConfigError, /MongoRecordStore\.indexes\[0\]/);
    expect(() => store('all' as never)).to.throw(ConfigError, /MongoRecordStore\.indexes/);
  });

  it('answers a page sorted by -balance from pc_balance_id where the server uses indexes (FerretDB v1 sorts in memory)', async function () {
    const created = store();
    await created.init();
    const records = Array.from({ length: 200 }, (_, index) => ({
      name: `n${index}`,
      status: index % 2 ? 'active' : 'closed',
      balance: index % 50,
      country: 'FR',
    }));
    for (const [index, record] of records.entries()) await created.insert(`r${String(index).padStart(3, '0')}`, record);
    const compiler = createQueryCompiler({ schema: fields });
    const query = compiler.compile('sort=-balance&limit=5');
    const page = await created.find({ where: query.page, sort: query.sortKeys, limit: 5 });
    // Ties on balance go by id descending too: the direction of the last key.
    expect(page.map((record) => record.id)).to.deep.equal(['r199', 'r149', 'r099', 'r049', 'r198']);
    const plan = (await connection
      .db!.collection(collections.at(-1)!)
      .find({})
      .sort({ balance: -1, _id: -1 })
      .limit(5)
      .explain()) as Explained;
    if (ferretdb) expect(plan.sortPushdown).to.equal(false);
    else expect(indexesUsed(plan.queryPlanner?.winningPlan)).to.deep.equal(['pc_balance_id']);
  });
});
