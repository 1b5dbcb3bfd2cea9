// The records store contract on memory and MongoDB: every operator, sort, paging, writes and versions.
import { expect } from 'chai';
import type { RecordStore } from '../../src/contracts/records.js';
import { ConflictError } from '../../src/errors.js';
import { createQueryCompiler, matchAll, type FilterNode } from '../../src/filter/index.js';
import { randomBytes } from 'node:crypto';
import { createFieldEncryption } from '../../src/pii/field-encryption.js';
import { EncryptedRecordStore } from '../../stores/encrypted-records.js';
import { contractSuite } from './harness.js';
import { peopleSchema, recordImplementations, seed } from './records-fixtures.js';

const compiler = createQueryCompiler({ schema: peopleSchema, cursorSecret: 'contract-tests-cursor-secret-32-bytes' });

async function ids(store: RecordStore, qs: string): Promise<string[]> {
  const query = compiler.compile(qs);
  const found = await store.find({ where: query.page, sort: query.sortKeys, limit: query.limit, skip: query.offset });
  return found.map((record) => record.id);
}

// Each operator with the ids it must return (sorted by id), the same on every backend.
const operatorCases: [string, string[]][] = [
  ['name=Alice', ['p1']],
  ['name=Alice&name=Bob', ['p1', 'p2']],
  ['name__ne=Alice', ['p2', 'p3', 'p4', 'p5']],
  ['name__in=["Bob","Carol","Zed"]', ['p2', 'p3']],
  ['name__notin=["Bob","Carol"]', ['p1', 'p4', 'p5']],
  ['name__startswith=Da', ['p4']],
  ['name__startswith=.', []],
  ['name__contains=.', ['p4']],
  ['name__contains=(admin)', ['p5']],
  ['name__notcontains=o', ['p1', 'p4', 'p5']],
  ['born__exists=true', ['p1', 'p2', 'p4']],
  ['born__exists=false', ['p3', 'p5']],
  ['age__exists=true', ['p1', 'p2', 'p3', 'p4', 'p5']],
  ['age__gt=31', ['p3']],
  ['age__gte=31', ['p1', 'p3', 'p4']],
  ['age__ge=31', ['p1', 'p3', 'p4']],
  ['age__lt=31', ['p2']],
  ['age__lte=31', ['p1', 'p2', 'p4']],
  ['age__le=31', ['p1', 'p2', 'p4']],
  ['age__between=[25,31]', ['p1', 'p2', 'p4']],
  ['age=31', ['p1', 'p4']],
  ['age__ne=31', ['p2', 'p3', 'p5']],
  ['active=true', ['p1', 'p3']],
  ['active=false', ['p2', 'p5']],
  ['active__ne=true', ['p2', 'p4', 'p5']],
  ['born__gt=1990-01-01', ['p1', 'p2']],
  ['born__between=["1990-01-01","1999-12-31"]', ['p1', 'p2']],
  ['born__lt=1980-01-01T00:00:00Z', ['p4']],
  ['owner=64b7f0c2a1b2c3d4e5f60718', ['p1']],
  ['owner__in=["64b7f0c2a1b2c3d4e5f60718","64b7f0c2a1b2c3d4e5f60719"]', ['p1', 'p2']],
  ['owner__gt=64b7f0c2a1b2c3d4e5f60718', ['p2']],
  ['tags=ops', ['p1', 'p4']],
  ['tags__ne=ops', ['p2', 'p3', 'p5']],
  ['tags__in=["dev","nope"]', ['p2', 'p4']],
  ['tags__notin=["ops"]', ['p2', 'p3', 'p5']],
  ['tags__startswith=ad', ['p1']],
  ['tags__contains=e', ['p2', 'p4']],
  ['tags__notcontains=e', ['p1', 'p3', 'p5']],
  ['scores__gt=4', ['p1', 'p2']],
  // On arrays: some element >= low and some element <= high (MongoDB's range semantics on arrays).
  ['scores__between=[4,6]', ['p1', 'p2']],
  ['scores__between=[2,8]', ['p1', 'p2', 'p4']],
  ['scores__between=[6,8]', ['p1']],
  ['scores__between=[10,12]', []],
  ['address.city=Oslo', ['p1', 'p3']],
  ['address.zip__exists=false', ['p3', 'p4', 'p5']],
  ['address.city__startswith=Ber', ['p2']],
  ['status__in=["new","closed"]&active=false', ['p2', 'p5']],
  ['age__gt=20&age__lt=40&name__ne=Bob', ['p1', 'p4']],
];

contractSuite('records', recordImplementations(), (store) => {
  describe('every operator', function () {
    beforeEach(async function () {
      await seed(store());
    });
    for (const [qs, expected] of operatorCases) {
      it(`${qs} → ${expected.join(',') || 'nothing'}`, async function () {
        expect(await ids(store(), qs)).to.deep.equal(expected);
        // The in-memory predicate agrees with the store on the same query.
        const query = compiler.compile(qs);
        const all = await store().find({ where: matchAll, sort: [{ field: 'id', direction: 1 }], limit: 100 });
        expect(all.filter((record) => query.matches(record)).map((r) => r.id)).to.deep.equal(expected);
      });
    }
  });

  describe('sort and paging', function () {
    beforeEach(async function () {
      await seed(store());
    });

    it('sorts by several keys with nulls and missing first ascending, last descending', async function () {
      expect(await ids(store(), 'sort=age')).to.deep.equal(['p5', 'p2', 'p1', 'p4', 'p3']);
      // p1 and p4 tie on age: the id tie-breaker runs descending like the last key.
      expect(await ids(store(), 'sort=-age')).to.deep.equal(['p3', 'p4', 'p1', 'p2', 'p5']);
      expect(await ids(store(), 'sort=-age,-name')).to.deep.equal(['p3', 'p4', 'p1', 'p2', 'p5']);
      expect(await ids(store(), 'sort=born')).to.deep.equal(['p3', 'p5', 'p4', 'p1', 'p2']);
      expect(await ids(store(), 'sort=address.city,name')).to.deep.equal(['p4', 'p5', 'p2', 'p1', 'p3']);
    });

    it('pages by offset', async function () {
      expect(await ids(store(), 'sort=name&limit=2&offset=2')).to.deep.equal(['p3', 'p4']);
    });

    for (const sort of ['age', '-age', 'born', '-born', '-age,name', 'address.city,-id', 'active,-age']) {
      it(`walks every page with cursors (sort=${sort}) and sees each record once`, async function () {
        const all = await ids(store(), `sort=${sort}&limit=100`);
        const walked: string[] = [];
        let qs = `sort=${sort}&limit=2`;
        for (let i = 0; i < 10; i++) {
          const query = compiler.compile(qs);
          const page = await store().find({ where: query.page, sort: query.sortKeys, limit: query.limit });
          walked.push(...page.map((record) => record.id));
          if (page.length < query.limit) break;
          qs = `sort=${sort}&limit=2&cursor=${query.nextCursor(page.at(-1)!)}`;
        }
        expect(walked).to.deep.equal(all);
      });
    }

    it('keeps cursor pages stable when records are inserted before the cursor', async function () {
      const first = compiler.compile('sort=name&limit=2');
      const page = await store().find({ where: first.page, sort: first.sortKeys, limit: 2 });
      const prepared = await store().prepare({ name: 'Aaron' });
      await store().insert('p0', prepared.record);
      const next = compiler.compile(`sort=name&limit=10&cursor=${first.nextCursor(page.at(-1)!)}`);
      const rest = await store().find({ where: next.page, sort: next.sortKeys, limit: 10 });
      expect(rest.map((record) => record.id)).to.deep.equal(['p3', 'p4', 'p5']);
    });

    it('counts and lists distinct values, array elements included', async function () {
      expect(await store().count(compiler.compile('active=true').where)).to.equal(2);
      expect(await store().distinct('tags', matchAll, 100)).to.have.members(['admin', 'ops', 'dev']);
      expect(await store().distinct('address.city', matchAll, 100)).to.have.members(['Oslo', 'Bergen']);
      expect(await store().distinct('status', compiler.compile('active=false').where, 100)).to.have.members(['new']);
    });
  });

  describe('writes', function () {
    it('inserts, reads, replaces at the expected version and removes', async function () {
      const id = store().newId();
      const prepared = await store().prepare({ name: 'Zed', age: 40, born: '2000-01-02T00:00:00Z' });
      expect(prepared.problems).to.deep.equal([]);
      expect(prepared.record.born).to.be.instanceOf(Date);
      const created = await store().insert(id, prepared.record);
      expect(created).to.include({ id, _version: 1, name: 'Zed' });
      const read = await store().get(id);
      expect(read?.born).to.be.instanceOf(Date);
      expect(await store().replace(id, 2, { name: 'stale' })).to.equal(undefined);
      const replaced = await store().replace(id, 1, { name: 'Zed II', age: 41 });
      expect(replaced).to.include({ id, _version: 2, name: 'Zed II' });
      expect((await store().get(id))?.born).to.equal(undefined);
      expect(await store().remove(id, 1)).to.equal(false);
      expect(await store().remove(id, 2)).to.equal(true);
      expect(await store().get(id)).to.equal(undefined);
      expect(await store().remove(id)).to.equal(false);
    });

    it("hands out records that are the caller's own: changing them changes nothing stored", async function () {
      const born = new Date('1990-05-06T00:00:00Z');
      await store().insert('own', { name: 'Own', tags: ['a'], address: { city: 'Oslo' }, born });
      const spoil = (record: Record<string, unknown> | undefined) => {
        expect(record).to.not.equal(undefined);
        (record!.tags as string[]).push('spoiled');
        (record!.address as Record<string, unknown>).city = 'spoiled';
        (record!.born as Date).setTime(0);
        record!.name = 'spoiled';
        delete record!._version;
      };
      spoil(
        (await store().find({ where: matchAll, sort: [{ field: 'id', direction: 1 }], limit: 100 })).find(
          (r) => r.id === 'own',
        ),
      );
      spoil(await store().get('own'));
      born.setTime(1);
      expect(await store().get('own')).to.deep.include({
        name: 'Own',
        tags: ['a'],
        address: { city: 'Oslo' },
        born: new Date('1990-05-06T00:00:00Z'),
        _version: 1,
      });
    });

    it('refuses a duplicate id with ConflictError', async function () {
      await store().insert('dup', { name: 'a' });
      let caught: unknown;
      await store()
        .insert('dup', { name: 'b' })
        .catch((error) => (caught = error));
      expect(caught).to.be.instanceOf(ConflictError);
    });

    it('gets a record only when it matches the extra filter', async function () {
      await store().insert('g1', { name: 'a', status: 'new' });
      const onlyClosed: FilterNode = { kind: 'cond', op: 'eq', field: 'status', value: 'closed' };
      expect(await store().get('g1', onlyClosed)).to.equal(undefined);
      expect((await store().get('g1', matchAll))?.name).to.equal('a');
      expect(await store().get({ $ne: 1 } as unknown as string)).to.equal(undefined);
    });

    it('reports every schema problem at once, naming each field', async function () {
      const { problems } = await store().prepare({
        age: 'old',
        status: 'weird',
        unknownField: 1,
        address: { planet: 'x' },
      });
      const fields = problems.map((problem) => problem.field).sort();
      expect(fields).to.deep.equal(['address.planet', 'age', 'name', 'status', 'unknownField']);
    });

    it('answers the same problems on every backend, without echoing the submitted values', async function () {
      // 21 emoji are 42 UTF-16 code units: over a maxLength of 40 on every backend (lengths count code units).
      const long = '\u{1F600}'.repeat(21);
      const { problems } = await store().prepare({ name: long, age: 151, status: 'weird', tags: ['x'] });
      expect(problems).to.deep.equal([
        { field: 'name', code: 'validation.length', message: '"name" must have at most 40 characters.' },
        { field: 'age', code: 'validation.max', message: '"age" must be at most 150.' },
        { field: 'status', code: 'validation.enum', message: '"status" must be one of new, active, closed.' },
      ]);
      expect((await store().prepare({ name: '\u{1F600}'.repeat(20) })).problems).to.deep.equal([]);
    });

    it('generates unique ids', async function () {
      const generated = new Set(Array.from({ length: 200 }, () => store().newId()));
      expect(generated.size).to.equal(200);
    });
  });
});

/** The batch-insert contract, shared by the plain stores and their encrypted wrappers. */
function batchInserts(store: () => RecordStore): void {
  describe('batch inserts (insertMany)', function () {
    it('inserts every record at version 1, in the order given', async function () {
      const records = await Promise.all(
        ['Ann', 'Ben', 'Cid'].map(async (name, age) => ({
          id: store().newId(),
          record: (await store().prepare({ name, age, born: '2001-02-03T00:00:00Z' })).record,
        })),
      );
      const stored = await store().insertMany(records);
      expect(stored.map((record) => [record.id, record.name, record._version])).to.deep.equal(
        records.map(({ id, record }) => [id, record.name, 1]),
      );
      for (const { id } of records) expect((await store().get(id))?.born).to.deep.equal(new Date('2001-02-03'));
      expect(await store().insertMany([])).to.deep.equal([]);
    });

    it('stores nothing when one id already exists, and leaves that record as it was', async function () {
      await store().insert('taken', { name: 'Original' });
      const batch = ['b1', 'b2', 'taken', 'b3'].map((id) => ({ id, record: { name: `new ${id}` } }));
      let caught: unknown;
      await store()
        .insertMany(batch)
        .catch((error) => (caught = error));
      expect(caught).to.be.instanceOf(ConflictError);
      for (const id of ['b1', 'b2', 'b3']) expect(await store().get(id), id).to.equal(undefined);
      expect(await store().get('taken')).to.deep.include({ name: 'Original', _version: 1 });
      expect(await store().count(matchAll)).to.equal(1);
    });

    it('stores nothing when the batch repeats an id', async function () {
      let caught: unknown;
      await store()
        .insertMany([
          { id: 'r1', record: { name: 'a' } },
          { id: 'r2', record: { name: 'b' } },
          { id: 'r1', record: { name: 'c' } },
        ])
        .catch((error) => (caught = error));
      expect(caught).to.be.instanceOf(ConflictError);
      expect(await store().count(matchAll)).to.equal(0);
    });

    it("keeps its own copy of the caller's records", async function () {
      const record = { name: 'Copy', tags: ['x'] };
      await store().insertMany([{ id: 'c1', record }]);
      record.tags.push('spoiled');
      expect((await store().get('c1'))?.tags).to.deep.equal(['x']);
    });
  });
}

contractSuite('records', recordImplementations(), batchInserts);

// The EncryptedRecordStore encrypts each record of a batch and keeps the inner store's all-or-nothing.
const innerOf = new WeakMap<RecordStore, RecordStore>();
contractSuite(
  'records, encrypted',
  recordImplementations().map((implementation) => ({
    name: implementation.name,
    async create(context: Parameters<typeof implementation.create>[0]) {
      const encryption = createFieldEncryption({
        keys: `1:${randomBytes(32).toString('base64')}`,
        fields: ['name'],
      });
      const inner = await implementation.create(context);
      const store = new EncryptedRecordStore({ store: inner.store, encryption });
      innerOf.set(store, inner.store);
      return { store: store as RecordStore, ...(inner.cleanup ? { cleanup: inner.cleanup } : {}) };
    },
  })),
  (store) => {
    batchInserts(store);
    it('keeps only ciphertext in the inner store', async function () {
      await store().insertMany([{ id: 'e1', record: { name: 'Plain Name' } }]);
      expect((await store().get('e1'))?.name).to.equal('Plain Name');
      const raw = await innerOf.get(store())!.get('e1');
      expect(JSON.stringify(raw)).to.not.include('Plain Name');
    });
  },
);

contractSuite('records with an id prefix', recordImplementations(peopleSchema, 'acc_'), (store) => {
  it('prefixes generated ids', function () {
    expect(store().newId()).to.match(/^acc_[0-9a-z]{16}$/);
  });
});
