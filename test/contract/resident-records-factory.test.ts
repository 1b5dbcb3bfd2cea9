// RESIDENCY_STORES and createStores(config).residentRecords(...): each country's records on its own target.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { loadConfig } from '../../src/config/index.js';
import { ConfigErrors } from '../../src/errors.js';
import { matchAll } from '../../src/filter/index.js';
import { createPortcullis } from '../../app/create-portcullis.js';
import { createLogger } from '../../src/logger.js';
import { createStores, type Stores } from '../../stores/create-stores.js';
import { ResidentRecordStore } from '../../stores/resident-records.js';
import { mongoUriFor, requireEnv, uniqueName } from '../support/connections.js';
import { startMongoServer } from '../support/servers.js';

const fields = { name: { type: 'string', required: true }, country: 'string' } as const;

function variableProblem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigErrors);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigErrors');
}

describe('RESIDENCY_STORES', function () {
  it('parses countries on memory and MongoDB URLs, seed lists with commas included', function () {
    const config = loadConfig({
      RESIDENCY_STORES: 'de=mongodb://u:pw@h1:27017,h2:27017/de?replicaSet=rs, us=mongodb+srv://c.example/us,*=memory',
    });
    expect(config.RESIDENCY_STORES).to.deep.equal({
      de: 'mongodb://u:pw@h1:27017,h2:27017/de?replicaSet=rs',
      us: 'mongodb+srv://c.example/us',
      '*': 'memory',
    });
  });

  it('refuses bad codes, repeats and other schemes, naming the variable and never echoing a URL', function () {
    for (const [value, expected] of [
      ['DE=memory', /RESIDENCY_STORES.*"DE"/],
      ['de=memory,de=memory', /RESIDENCY_STORES.*"de" twice/],
      ['de=redis://u:secretpw@h', /RESIDENCY_STORES.*"de" memory or a mongodb/],
      ['xx=memory', /RESIDENCY_STORES.*"xx"/],
      ['de', /RESIDENCY_STORES/],
      ['???', /RESIDENCY_STORES.*"\?\?\?"/],
      // The wrong entry is named, not the one before it.
      ['de=memory,DE=memory', /RESIDENCY_STORES.*"DE"/],
      ['de=memory,*=memory,__proto__=memory', /RESIDENCY_STORES.*"__proto__"/],
      ['de=mongodb://u:secretpw@h1:27017,h2:27017/crm,Us=memory', /RESIDENCY_STORES.*"Us"/],
    ] as const) {
      const message = variableProblem({ RESIDENCY_STORES: value });
      expect(message).to.match(expected);
      expect(message).to.not.include('secretpw');
    }
  });
});

describe('createPortcullis and RESIDENCY_STORES', function () {
  it("builds its stores' resident records on the configured countries", async function () {
    const portcullis = await createPortcullis(loadConfig({ LOG_LEVEL: 'silent', RESIDENCY_STORES: 'de=memory' }), {
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const customers = portcullis.stores.residentRecords('customers', fields);
      expect(customers.countries).to.deep.equal(['de']);
      expect(() => customers.in('us')).to.throw(/No store keeps records of "us"/);
    } finally {
      await portcullis.close();
    }
  });
});

describe('createStores residentRecords', function () {
  let stores: Stores | undefined;
  afterEach(async function () {
    await stores?.close();
    stores = undefined;
  });

  it('keeps every country on memory when RESIDENCY_STORES is unset', async function () {
    stores = await createStores(loadConfig({}));
    const customers = stores.residentRecords('customers', fields);
    expect(customers).to.be.instanceOf(ResidentRecordStore);
    expect(customers.countries).to.deep.equal(['*']);
    expect(stores.residentRecords('customers', fields)).to.equal(customers);
  });

  it('puts each country in its own MongoDB database and the others on memory', async function () {
    const run = uniqueName('residency_factory');
    stores = await createStores(
      loadConfig({ RESIDENCY_STORES: `de=${mongoUriFor(`${run}_de`)},us=${mongoUriFor(`${run}_us`)},*=memory` }),
    );
    const customers = stores.residentRecords('customers', fields, { idPrefix: 'cus_' });
    await customers.init?.();
    for (const [id, name, country] of [
      ['cus_1', 'Anna', 'de'],
      ['cus_2', 'Bob', 'us'],
      ['cus_3', 'Chloé', 'fr'],
    ] as const) {
      const prepared = await customers.prepare({ name, country });
      await customers.insert(id, prepared.record);
    }
    // Raw reads of each database, with a connection of the test's own.
    const raw = await mongoose.createConnection(requireEnv('MONGODB_URI')).asPromise();
    try {
      const idsIn = async (database: string) =>
        (await raw.useDb(database).collection('customers').find({}).toArray()).map((doc) => doc._id);
      expect(await idsIn(`${run}_de`)).to.deep.equal(['cus_1']);
      expect(await idsIn(`${run}_us`)).to.deep.equal(['cus_2']);
      const fr = await customers.in('fr').find({ where: matchAll, sort: [{ field: 'id', direction: 1 }], limit: 5 });
      expect(fr.map((record) => record.id)).to.deep.equal(['cus_3']);
      await raw.useDb(`${run}_de`).dropDatabase();
      await raw.useDb(`${run}_us`).dropDatabase();
    } finally {
      await raw.close();
    }
  });

  it("reports each country's server in health(), and is down while one of them is", async function () {
    this.timeout(60_000);
    const own = await startMongoServer();
    try {
      const run = uniqueName('residency_health');
      const shared = mongoUriFor(run);
      stores = await createStores(
        loadConfig({
          MONGODB_URI: shared,
          RESIDENCY_STORES: `de=${own.url},us=${shared},*=memory`,
          MONGODB_SERVER_SELECTION_TIMEOUT: '500',
        }),
      );
      const up = await stores.health();
      expect(up.status).to.equal('up');
      expect(Object.keys(up.countries ?? {}).sort()).to.deep.equal(['de', 'us']);
      expect(up.countries!.de!.status).to.equal('up');
      expect(up.countries!.us).to.deep.equal(up.servers.mongodb);
      await own.stop({ keepData: true });
      const down = await stores.health();
      expect(down.status).to.equal('down');
      expect(down.countries!.de).to.deep.include({ status: 'down', backend: 'mongodb' });
      expect(down.countries!.us!.status).to.equal('up');
      expect(down.servers.mongodb!.status).to.equal('up');
    } finally {
      await stores?.close();
      stores = undefined;
      await own.stop();
    }
  });

  it('names RESIDENCY_STORES and the host, not the URL, when a country server is unreachable', async function () {
    try {
      stores = await createStores(
        loadConfig({ RESIDENCY_STORES: 'de=mongodb://u:secretpw@127.0.0.1:1/de', STORE_CONNECT_TIMEOUT: '300' }),
      );
      expect.fail('expected a ConfigError');
    } catch (error) {
      expect((error as Error).message).to.match(/RESIDENCY_STORES.*127\.0\.0\.1:1/);
      expect((error as Error).message).to.not.include('secretpw');
    }
  });
});
