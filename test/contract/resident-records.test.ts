// ResidentRecordStore on memory and on MongoDB (a database per country): where records live, which stores a
// query reaches (seen by the store and by the server), fan-out paging, and moves.
import { expect } from 'chai';
import type { RecordStore, StoredRecord } from '../../src/contracts/records.js';
import { ConfigError, ValidationError } from '../../src/errors.js';
import { compileSchema, createQueryCompiler, matchAll, type SchemaInput } from '../../src/filter/index.js';
import { countriesOf, isCountryCode } from '../../src/residency/countries.js';
import { MemoryRecordStore } from '../../stores/memory/records.js';
import { ResidentRecordStore } from '../../stores/resident-records.js';
import { prng } from '../support/prng.js';
import {
  closeMonitoredMongo,
  countriesCalled,
  countryStores,
  residencyBackends,
  type CountryStores,
} from '../support/residency.js';

const schema: SchemaInput = {
  name: { type: 'string', required: true },
  country: 'string',
  score: 'number',
  city: 'string',
  born: 'date',
};
const compiler = createQueryCompiler({
  schema: compileSchema({ ...schema }),
  cursorSecret: 'residency-tests-cursor-secret-32by',
  maxLimit: 500,
});

async function write(store: RecordStore, id: string, fields: Record<string, unknown>): Promise<StoredRecord> {
  const prepared = await store.prepare(fields);
  expect(prepared.problems).to.deep.equal([]);
  return store.insert(id, prepared.record);
}

function problemOf(error: unknown): { code: string | undefined; field: string | undefined } {
  expect(error).to.be.instanceOf(ValidationError);
  const problem = (error as ValidationError).errors?.[0];
  return { code: problem?.code, field: problem?.field };
}

async function refused(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('country codes and the countries a filter names', function () {
  it('accepts lower-case ISO 3166-1 alpha-2 codes only', function () {
    expect(['de', 'us', 'fr', 'jp'].every(isCountryCode)).to.equal(true);
    expect(['DE', 'xx', 'zz', 'deu', '', 'd', 7, null].some(isCountryCode)).to.equal(false);
  });

  it('reads eq and in conditions, intersecting ANDs and uniting ORs', function () {
    const where = (qs: string) => compiler.compile(qs).where;
    expect(countriesOf(where('country=de'), 'country')).to.deep.equal(new Set(['de']));
    expect(countriesOf(where('country__in=["de","us"]&score__gt=1'), 'country')).to.deep.equal(new Set(['de', 'us']));
    expect(countriesOf(where('country__in=["de","us"]&country=us'), 'country')).to.deep.equal(new Set(['us']));
    expect(countriesOf(where('country=de&country=us'), 'country')).to.deep.equal(new Set(['de', 'us']));
    expect(countriesOf(where('country__ne=de'), 'country')).to.equal(undefined);
    expect(countriesOf(where('score__gt=1'), 'country')).to.equal(undefined);
    expect(countriesOf(matchAll, 'country')).to.equal(undefined);
  });
});

describe('ResidentRecordStore configuration', function () {
  const store = () => new MemoryRecordStore({ schema });
  it('refuses bad country keys, a missing field and mismatched stores, naming the option', function () {
    const cases: [() => unknown, string][] = [
      [() => new ResidentRecordStore({ stores: {} }), 'ResidentRecordStore.stores'],
      [() => new ResidentRecordStore({ stores: { DE: store() } }), 'ResidentRecordStore.stores.DE'],
      [() => new ResidentRecordStore({ stores: { xx: store() } }), 'ResidentRecordStore.stores.xx'],
      [() => new ResidentRecordStore({ stores: { de: store() }, field: 'region' }), 'ResidentRecordStore.field'],
      [
        () =>
          new ResidentRecordStore({
            stores: { de: store(), us: new MemoryRecordStore({ schema: { country: 'string' } }) },
          }),
        'ResidentRecordStore.stores.us',
      ],
    ];
    for (const [build, option] of cases) {
      expect(build).to.throw(ConfigError).with.property('option', option);
    }
  });
});

for (const backend of residencyBackends) {
  describe(`ResidentRecordStore (${backend}, stores de, us and *)`, function () {
    let countries: CountryStores;
    let resident: ResidentRecordStore;

    beforeEach(async function () {
      countries = await countryStores(backend, schema);
      resident = new ResidentRecordStore({ stores: countries.stores });
    });
    afterEach(async function () {
      await countries.cleanup();
    });
    after(async function () {
      await closeMonitoredMongo();
    });

    it('keeps a record written for de in the de store only (raw reads of the others find nothing)', async function () {
      await write(resident, 'r-de', { name: 'Anna', country: 'de', city: 'Berlin' });
      await write(resident, 'r-us', { name: 'Bob', country: 'us', city: 'Boston' });
      await write(resident, 'r-fr', { name: 'Chloé', country: 'fr', city: 'Paris' });
      const everything = { where: matchAll, sort: [{ field: 'id', direction: 1 as const }], limit: 10 };
      const idsIn = async (store: RecordStore) => (await store.find(everything)).map((record) => record.id);
      expect(await idsIn(countries.raw.de)).to.deep.equal(['r-de']);
      expect(await idsIn(countries.raw.us)).to.deep.equal(['r-us']);
      expect(await idsIn(countries.raw['*'])).to.deep.equal(['r-fr']);
      expect(await countries.raw.us.get('r-de')).to.equal(undefined);
      expect(await countries.raw['*'].get('r-de')).to.equal(undefined);
      expect((await countries.raw.de.get('r-de'))?.city).to.equal('Berlin');
    });

    it('answers a query for us from the us store alone (seen by the store and by the server)', async function () {
      await write(resident, 'r-de', { name: 'Anna', country: 'de', score: 3 });
      await write(resident, 'r-us', { name: 'Bob', country: 'us', score: 3 });
      countries.reset();
      const query = compiler.compile('country=us&score__gte=1&sort=-score');
      const found = await resident.find({ where: query.page, sort: query.sortKeys, limit: 10 });
      expect(found.map((record) => record.id)).to.deep.equal(['r-us']);
      expect(await resident.count(query.where)).to.equal(1);
      expect(await resident.distinct('name', query.where, 10)).to.deep.equal(['Bob']);
      // A de id asked of the us store is not found there, and de is never asked.
      expect(await resident.get('r-de', query.where)).to.equal(undefined);
      expect(await resident.in('us').get('r-de')).to.equal(undefined);
      expect(await resident.in('us').remove('r-de')).to.equal(false);
      expect(countriesCalled(countries.calls)).to.deep.equal(new Set(['us']));
      if (backend === 'mongodb') expect(countries.serverSaw()).to.deep.equal(new Set(['us']));
      expect(await countries.raw.de.get('r-de')).to.not.equal(undefined);
    });

    it('refuses a query that names no country, or several, naming the field, and asks no store', async function () {
      countries.reset();
      for (const qs of ['score__gt=1', 'country__in=["de","us"]', 'country__ne=de']) {
        const where = compiler.compile(qs).where;
        const error = await refused(resident.find({ where, sort: [{ field: 'id', direction: 1 }], limit: 5 }));
        expect(problemOf(error)).to.deep.equal({ code: 'residency.country_required', field: 'country' });
      }
      expect(countries.calls).to.deep.equal([]);
    });

    it('refuses codes that are no country, or have no store, naming the field', async function () {
      const strict = new ResidentRecordStore({ stores: { de: countries.stores.de, us: countries.stores.us } });
      for (const [country, store] of [
        ['xx', resident],
        ['DE', resident],
        ['fr', strict],
        [42, resident],
      ] as const) {
        expect(problemOf(await refused(() => store.in(country)))).to.deep.equal({
          code: 'residency.unknown_country',
          field: 'country',
        });
      }
      const prepared = await strict.prepare({ name: 'Eve', country: 'fr' });
      expect(prepared.problems.map((problem) => problem.field)).to.deep.equal(['country']);
      expect(problemOf(await refused(strict.insert('x', { name: 'Eve', country: 'fr' })))).to.deep.include({
        field: 'country',
      });
    });

    it('keeps the countries that share the * store apart', async function () {
      await write(resident, 'r-fr', { name: 'Chloé', country: 'fr' });
      await write(resident, 'r-it', { name: 'Dario', country: 'it' });
      const all = { where: matchAll, sort: [{ field: 'id', direction: 1 as const }], limit: 10 };
      expect((await resident.in('fr').find(all)).map((record) => record.id)).to.deep.equal(['r-fr']);
      expect(await resident.in('fr').get('r-it')).to.equal(undefined);
      expect(await resident.in('fr').remove('r-it')).to.equal(false);
      expect(await countries.raw['*'].get('r-it')).to.not.equal(undefined);
      const view = resident.in('fr');
      const record = (await view.get('r-fr'))!;
      const { id: _id, _version, ...fields } = record;
      const error = await refused(view.replace('r-fr', record._version, { ...fields, country: 'it' }));
      expect(problemOf(error)).to.deep.equal({ code: 'residency.country_changed', field: 'country' });
    });

    it('fans out when allowed: every page merged in order, each record once (random data and sorts)', async function () {
      this.timeout(60_000);
      const random = prng(backend === 'memory' ? 23 : 24);
      const reference = new MemoryRecordStore({ schema });
      const codes = ['de', 'us', 'fr', 'it'];
      const cities = ['Berlin', 'Boston', 'Paris', 'Rome', 'Oslo'];
      for (let index = 0; index < 60; index++) {
        const fields = {
          name: `n${Math.floor(random() * 20)}`,
          country: codes[Math.floor(random() * codes.length)],
          ...(random() < 0.8 ? { score: Math.floor(random() * 6) } : {}),
          ...(random() < 0.8 ? { city: cities[Math.floor(random() * cities.length)] } : {}),
          born: new Date(Date.UTC(1970 + Math.floor(random() * 5), 0, 1)),
        };
        const id = `r${String(index).padStart(3, '0')}`;
        await write(resident, id, fields);
        await write(reference, id, fields);
      }
      const sorts = ['score', '-score', 'city,-score', '-born,name', 'country,-city', '-id', 'name,-born,score'];
      for (const sort of sorts) {
        for (const filter of ['', 'country__in=["de","fr","it"]&', 'score__gte=2&']) {
          const limit = 1 + Math.floor(random() * 7);
          const expected = await reference.find({
            ...((q) => ({ where: q.page, sort: q.sortKeys }))(compiler.compile(`${filter}sort=${sort}`)),
            limit: 500,
          });
          const walked: string[] = [];
          let qs = `${filter}sort=${sort}&limit=${limit}`;
          for (let pages = 0; pages < 100; pages++) {
            const query = compiler.compile(qs);
            const view = resident.forQuery(query.where, { fanOut: true });
            const page = await view.find({ where: query.page, sort: query.sortKeys, limit: query.limit });
            walked.push(...page.map((record) => record.id));
            if (page.length < query.limit) break;
            qs = `${filter}sort=${sort}&limit=${limit}&cursor=${query.nextCursor(page.at(-1)!)}`;
          }
          const label = `sort=${sort} filter=${filter} limit=${limit}`;
          expect(walked, label).to.deep.equal(expected.map((record) => record.id));
          const view = resident.forQuery(compiler.compile(filter).where, { fanOut: true });
          expect(await view.count(compiler.compile(filter).where), label).to.equal(expected.length);
          // Offset paging over the merged order too.
          const offset = compiler.compile(`${filter}sort=${sort}&limit=${limit}&offset=${limit}`);
          const second = await view.find({ where: offset.page, sort: offset.sortKeys, limit, skip: limit });
          expect(
            second.map((record) => record.id),
            label,
          ).to.deep.equal(expected.slice(limit, 2 * limit).map((record) => record.id));
        }
      }
    });

    it('moves a record by writing to the new country before deleting from the old', async function () {
      await write(resident, 'r1', { name: 'Anna', country: 'de', city: 'Berlin' });
      countries.reset();
      const moved = await resident.move('r1', 'de', 'us');
      expect(moved).to.include({ id: 'r1', country: 'us', city: 'Berlin' });
      const writes = countries.calls.filter((call) => /\.(insert|remove)$/.test(call));
      expect(writes).to.deep.equal(['us.insert', 'de.remove']);
      expect(await countries.raw.de.get('r1')).to.equal(undefined);
      expect((await countries.raw.us.get('r1'))?.country).to.equal('us');
    });

    it('keeps the record where it was when the write to the new country fails', async function () {
      await write(resident, 'r1', { name: 'Anna', country: 'de' });
      countries.failNext('us', 'insert');
      await refused(resident.move('r1', 'de', 'us'));
      expect((await countries.raw.de.get('r1'))?.country).to.equal('de');
      expect(await countries.raw.us.get('r1')).to.equal(undefined);
    });

    it('keeps the record in both countries, never in neither, when the delete fails', async function () {
      await write(resident, 'r1', { name: 'Anna', country: 'de' });
      countries.failNext('de', 'remove');
      await refused(resident.move('r1', 'de', 'us'));
      expect(await countries.raw.de.get('r1')).to.not.equal(undefined);
      expect(await countries.raw.us.get('r1')).to.not.equal(undefined);
    });

    it('undoes the copy when the record changed before the delete', async function () {
      const record = await write(resident, 'r1', { name: 'Anna', country: 'de' });
      expect(await resident.move('r1', 'de', 'us', { expectedVersion: record._version + 1 })).to.equal(undefined);
      // A write between the read and the delete: the delete finds another version and the copy goes.
      countries.beforeNext('de', 'remove', async () => {
        const current = (await countries.raw.de.get('r1'))!;
        const { id: _id, _version, ...fields } = current;
        await countries.raw.de.replace('r1', _version, { ...fields, city: 'Köln' });
      });
      const moved = resident.move('r1', 'de', 'us');
      expect(await moved).to.equal(undefined);
      expect((await countries.raw.de.get('r1'))?.city).to.equal('Köln');
      expect(await countries.raw.us.get('r1')).to.equal(undefined);
    });
  });
}
