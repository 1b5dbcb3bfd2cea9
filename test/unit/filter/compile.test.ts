// The querystring compiler: every operator, typing, safety refusals, sort, paging, cursors and permissions.
import { expect } from 'chai';
import { ConfigError, ValidationError } from '../../../src/errors.js';
import { createQueryCompiler, ObjectIdRef, type CompiledListQuery } from '../../../src/filter/index.js';
import type { BlindIndexer } from '../../../src/pii/blind-index.js';

const schema = {
  name: 'string',
  age: 'number',
  active: 'boolean',
  born: 'date',
  owner: 'objectId',
  tags: 'string[]',
  'address.city': 'string',
  secret: 'string',
  nationalId: 'string',
  notes: { type: 'string', sortable: false },
  internal: { type: 'string', filterable: false },
} as const;

const SECRET = 'unit-test-cursor-secret-of-32-bytes';
const compiler = createQueryCompiler({ schema, cursorSecret: SECRET, resource: 'people' });

function compile(qs: string, context = {}): CompiledListQuery {
  return compiler.compile(qs, context);
}

function problems(qs: string, context = {}): { field: string; code?: string; message: string }[] {
  try {
    compiler.compile(qs, context);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).status).to.equal(400);
    return (error as ValidationError).errors ?? [];
  }
  throw new Error(`expected ${qs} to be refused`);
}

describe('filter compiler', function () {
  describe('operators', function () {
    const cases: [string, Record<string, unknown>][] = [
      ['name=bob', { name: 'bob' }],
      ['name__eq=bob', { name: 'bob' }],
      ['name__ne=bob', { name: { $ne: 'bob' } }],
      ['name__in=["a","b"]', { name: { $in: ['a', 'b'] } }],
      ['name__notin=["a","b"]', { name: { $nin: ['a', 'b'] } }],
      ['name__startswith=a.b', { name: { $regex: '^a\\.b' } }],
      ['name__contains=(x)', { name: { $regex: '\\(x\\)' } }],
      ['name__notcontains=x*', { name: { $not: { $regex: 'x\\*' } } }],
      ['name__exists=true', { name: { $exists: true } }],
      ['name__exists=false', { name: { $exists: false } }],
      ['age__gt=30', { age: { $gt: 30 } }],
      ['age__lt=30', { age: { $lt: 30 } }],
      ['age__gte=30', { age: { $gte: 30 } }],
      ['age__ge=30', { age: { $gte: 30 } }],
      ['age__lte=30.5', { age: { $lte: 30.5 } }],
      ['age__le=-3', { age: { $lte: -3 } }],
      ['age__between=[0,3]', { age: { $gte: 0, $lte: 3 } }],
      ['tags__between=["a","c"]', { tags: { $gte: 'a', $lte: 'c' } }],
      ['active=true', { active: true }],
      ['address.city=Oslo', { 'address.city': 'Oslo' }],
    ];
    for (const [qs, expected] of cases) {
      it(`compiles ${qs}`, function () {
        expect(JSON.parse(JSON.stringify(compile(qs).filter))).to.deep.equal(expected);
      });
    }

    it('types dates and ObjectIds', function () {
      const query = compile('born__between=["2019-01-01","2019-12-31"]&owner=64b7f0c2a1b2c3d4e5f60718');
      const filter = query.filter as { born: { $gte: Date; $lte: Date }; owner: ObjectIdRef };
      expect(filter.born.$gte).to.be.instanceOf(Date);
      expect(filter.born.$lte.toISOString()).to.equal('2019-12-31T00:00:00.000Z');
      expect(filter.owner).to.be.instanceOf(ObjectIdRef);
      expect(JSON.stringify(filter.owner)).to.equal('{"$oid":"64b7f0c2a1b2c3d4e5f60718"}');
    });

    it('ORs repeated equality keys and ANDs repeated operators', function () {
      expect(compile('name=a&name=b').filter).to.deep.equal({ name: { $in: ['a', 'b'] } });
      expect(compile('name__ne=a&name__ne=b').filter).to.deep.equal({
        $and: [{ name: { $ne: 'a' } }, { name: { $ne: 'b' } }],
      });
    });

    it('lets path filters take precedence over the same querystring field', function () {
      const query = compile('name=querystring&age=3', { pathFilters: { name: 'path' } });
      expect(query.filter).to.deep.equal({ age: 3, name: 'path' });
    });

    it('accepts an already parsed query object of strings', function () {
      expect(compiler.compile({ name: ['a', 'b'], age__gt: '3' }).filter).to.deep.equal({
        name: { $in: ['a', 'b'] },
        age: { $gt: 3 },
      });
    });
  });

  describe('refusals (400 naming the problem)', function () {
    const refused: [string, string, string][] = [
      ['a[$ne]=1', 'a[$ne]', 'filter.forbidden_key'],
      ['name[$regex]=.*', 'name[$regex]', 'filter.forbidden_key'],
      ['name[]=1', 'name[]', 'filter.forbidden_key'],
      ['$where=1', '$where', 'filter.forbidden_key'],
      ['name.$ne=1', 'name.$ne', 'filter.forbidden_key'],
      ['__proto__=1', '__proto__', 'filter.forbidden_key'],
      ['__proto__.polluted=1', '__proto__.polluted', 'filter.forbidden_key'],
      ['constructor.prototype=1', 'constructor.prototype', 'filter.forbidden_key'],
      ['nope=1', 'nope', 'filter.unknown_field'],
      ['age__near=1', 'age__near', 'filter.unknown_operator'],
      ['age__gt=abc', 'age__gt', 'filter.invalid_value'],
      ['age=1e999', 'age', 'filter.invalid_value'],
      ['active=yes', 'active', 'filter.invalid_value'],
      ['born=yesterday', 'born', 'filter.invalid_value'],
      ['name__in=["\\ud800"]', 'name__in', 'filter.invalid_value'],
      // Days that do not exist are refused, not rolled over into the next month.
      ['born=2024-02-30', 'born', 'filter.invalid_value'],
      ['born__gte=2023-02-29T10:00:00Z', 'born__gte', 'filter.invalid_value'],
      ['born__in=["2024-04-31"]', 'born__in', 'filter.invalid_value'],
      ['born=2024-13-45', 'born', 'filter.invalid_value'],
      ['owner=xyz', 'owner', 'filter.invalid_value'],
      ['name__in=a,b', 'name__in', 'filter.invalid_value'],
      ['name__in=[]', 'name__in', 'filter.invalid_value'],
      ['name__in=[{"$gt":""}]', 'name__in', 'filter.invalid_value'],
      ['age__between=[1]', 'age__between', 'filter.invalid_value'],
      ['age__between=[1,2,3]', 'age__between', 'filter.invalid_value'],
      ['name__exists=maybe', 'name__exists', 'filter.invalid_value'],
      ['age__contains=3', 'age__contains', 'filter.unsupported_operator'],
      ['active__gt=true', 'active__gt', 'filter.unsupported_operator'],
      ['internal=x', 'internal', 'filter.unknown_field'],
      ['sort=nope', 'sort', 'filter.unknown_field'],
      ['sort=notes', 'sort', 'filter.unknown_field'],
      ['sort=tags', 'sort', 'filter.unknown_field'],
      ['sort=name,name', 'sort', 'filter.invalid_value'],
      ['limit=0', 'limit', 'filter.invalid_value'],
      ['limit=101', 'limit', 'filter.invalid_value'],
      ['limit=ten', 'limit', 'filter.invalid_value'],
      ['limit=1&limit=2', 'limit', 'filter.repeated_parameter'],
      ['offset=-1', 'offset', 'filter.invalid_value'],
      ['offset=10001', 'offset', 'filter.invalid_value'],
      ['fields=nope', 'fields', 'filter.unknown_field'],
      ['count=perhaps', 'count', 'filter.invalid_value'],
      ['cursor=abc', 'cursor', 'filter.invalid_cursor'],
      ['name=%E0%A4%A', 'name', 'filter.bad_encoding'],
    ];
    for (const [qs, field, code] of refused) {
      it(`refuses ${qs}`, function () {
        const found = problems(qs);
        expect(found.map((p) => p.field)).to.include(field);
        expect(found.find((p) => p.field === field)!.code).to.equal(code);
      });
    }

    it('refuses nested objects from an extended query parser, naming the key', function () {
      let caught: unknown;
      try {
        compiler.compile({ name: { $ne: 'x' } });
      } catch (error) {
        caught = error;
      }
      expect((caught as ValidationError).errors![0]!.field).to.equal('name');
      expect((caught as ValidationError).code).to.equal('filter.forbidden_key');
    });

    it('bounds list sizes, value lengths, condition counts and the querystring length', function () {
      const list = JSON.stringify(Array.from({ length: 101 }, (_, i) => `v${i}`));
      expect(problems(`name__in=${list}`)[0]!.code).to.equal('filter.too_large');
      expect(problems(`name=${'x'.repeat(257)}`)[0]!.code).to.equal('filter.too_large');
      const many = Array.from({ length: 21 }, (_, i) => `name__ne=v${i}`).join('&');
      expect(problems(many)[0]!.code).to.equal('filter.too_large');
      expect(problems(`name=${'x'.repeat(5000)}`)[0]!.field).to.equal('querystring');
    });

    it('reports every problem at once', function () {
      const found = problems('nope=1&age__gt=x&limit=0');
      expect(found.map((p) => p.field)).to.deep.equal(['nope', 'age__gt', 'limit']);
    });

    it('escapes regex metacharacters so user text is never a pattern', function () {
      const filter = compile(`name__contains=${encodeURIComponent('.*(a+)+$')}`).filter as { name: { $regex: string } };
      expect(new RegExp(filter.name.$regex).test('.*(a+)+$')).to.equal(true);
      expect(new RegExp(filter.name.$regex).test('aaaa')).to.equal(false);
    });
  });

  describe('permissions', function () {
    const hiddenFields = new Set(['secret']);

    it('refuses a hidden field exactly like an unknown one, without hinting at it', function () {
      const hidden = problems('secret=1', { hiddenFields });
      const unknown = problems('secrte=1', { hiddenFields });
      expect(hidden[0]!.message).to.equal('Cannot filter on unknown field "secret".');
      expect(hidden[0]!.code).to.equal(unknown[0]!.code);
      expect(unknown[0]!.message).to.not.include('secret"');
      expect(problems('sort=secret', { hiddenFields })[0]!.code).to.equal('filter.unknown_field');
      expect(problems('fields=secret', { hiddenFields })[0]!.code).to.equal('filter.unknown_field');
    });

    it('ANDs OR-ed permission filters into the query, typed by the schema', function () {
      const query = compile('name=x', { filters: [{ active: 'true', age: [1, 2] }, { name: 'y' }] });
      expect(query.filter).to.deep.equal({
        name: 'x',
        $or: [{ active: true, age: { $in: [1, 2] } }, { name: 'y' }],
      });
      expect(query.matches({ name: 'x', active: true, age: 2 })).to.equal(true);
      expect(query.matches({ name: 'x', active: true, age: 3 })).to.equal(false);
    });
  });

  describe('sort, limit, offset, projection and count', function () {
    it('parses several sort keys and appends the id tie-breaker', function () {
      const query = compile('sort=-age,name,+born&limit=5&offset=10&fields=name,age&count=true');
      expect(query.sort).to.deep.equal({ age: -1, name: 1, born: 1, id: 1 });
      expect(query.limit).to.equal(5);
      expect(query.offset).to.equal(10);
      expect(query.projection).to.deep.equal(['id', 'name', 'age']);
      expect(query.count).to.equal(true);
      expect(compile('').limit).to.equal(20);
    });

    it('refuses offset when disabled', function () {
      const strict = createQueryCompiler({ schema, allowOffset: false });
      expect(() => strict.compile('offset=3')).to.throw(ValidationError, /Offset paging/);
    });
  });

  describe('cursors', function () {
    it('round-trips a signed cursor into a keyset condition', function () {
      const first = compile('sort=-age');
      const token = first.nextCursor({ id: 'p5', age: 40, name: 'e' });
      const next = compile(`sort=-age&cursor=${token}`);
      // The id tie-breaker runs the way the last sort key does: descending here.
      expect(next.matches({ id: 'p4', age: 40 })).to.equal(true);
      expect(next.matches({ id: 'p6', age: 40 })).to.equal(false);
      expect(next.matches({ id: 'p1', age: 39 })).to.equal(true);
      expect(next.matches({ id: 'p9', age: 41 })).to.equal(false);
      expect(next.matches({ id: 'p0' })).to.equal(true);
    });

    it('refuses a tampered cursor, one from another sort, filter, view or resource, and one of another secret', function () {
      const token = compile('sort=age&active=true', { view: 'user:ana' }).nextCursor({ id: 'p5', age: 40 });
      const ok = (qs: string, view = 'user:ana') => compile(`${qs}&cursor=${token}`, { view });
      expect(ok('sort=age&active=true').page).to.not.deep.equal(ok('sort=age&active=true').where);
      // Page size and projection may change between pages.
      expect(() => ok('sort=age&active=true&limit=3&fields=name')).to.not.throw();
      const bytes = Buffer.from(token, 'base64url');
      for (let index = 0; index < bytes.length; index += 7) {
        const tampered = Buffer.from(bytes);
        tampered[index] = tampered[index]! ^ 1;
        const qs = `sort=age&active=true&cursor=${tampered.toString('base64url')}`;
        expect(problems(qs, { view: 'user:ana' })[0]!.code, `byte ${index}`).to.equal('filter.invalid_cursor');
      }
      const refused = (qs: string, view = 'user:ana') => problems(`${qs}&cursor=${token}`, { view })[0]!.code;
      expect(refused('sort=-age&active=true')).to.equal('filter.invalid_cursor');
      expect(refused('sort=age&active=false')).to.equal('filter.invalid_cursor');
      expect(refused('sort=age')).to.equal('filter.invalid_cursor');
      expect(refused('sort=age&active=true', 'user:sam')).to.equal('filter.invalid_cursor');
      expect(refused('sort=age&active=true', '')).to.equal('filter.invalid_cursor');
      expect(problems(`sort=age&active=true&cursor=${token.slice(0, -4)}`)[0]!.code).to.equal('filter.invalid_cursor');
      expect(problems(`sort=age&cursor=${token}&offset=2`).map((p) => p.field)).to.include('offset');
      const other = createQueryCompiler({ schema, cursorSecret: SECRET, resource: 'other' });
      expect(() => other.compile(`sort=age&active=true&cursor=${token}`, { view: 'user:ana' })).to.throw(
        ValidationError,
      );
      const rekeyed = createQueryCompiler({
        schema,
        cursorSecret: 'another-cursor-secret-of-32-bytes!',
        resource: 'people',
      });
      expect(() => rekeyed.compile(`sort=age&active=true&cursor=${token}`, { view: 'user:ana' })).to.throw(
        ValidationError,
      );
      const random = createQueryCompiler({ schema, resource: 'people' });
      expect(() => random.compile(`sort=age&active=true&cursor=${token}`, { view: 'user:ana' })).to.throw(
        ValidationError,
      );
    });

    it('reads cursors made by another compiler with the same secret (another process)', function () {
      const token = compile('sort=name').nextCursor({ id: 'p5', name: 'Ada' });
      const peer = createQueryCompiler({ schema, cursorSecret: Buffer.from(SECRET), resource: 'people' });
      expect(peer.compile(`sort=name&cursor=${token}`).matches({ id: 'p6', name: 'Ada' })).to.equal(true);
      // And back: each compiler has its own derived key, so both directions are worth checking.
      const back = peer.compile('sort=name').nextCursor({ id: 'p5', name: 'Ada' });
      expect(compile(`sort=name&cursor=${back}`).matches({ id: 'p4', name: 'Ada' })).to.equal(false);
    });

    it('carries no sort value in readable form, and hides short length differences', function () {
      // Values whose encoding fits the same 32-byte block give cursors of the same length.
      const names = ['ada@example.com', '+44 20 7946', 'Zoë Kern', '123-45-6789'];
      const lengths = new Set<number>();
      for (const name of names) {
        const token = compile('sort=name').nextCursor({ id: 'p_4421', name });
        const bytes = Buffer.from(token, 'base64url');
        for (const text of [token, bytes.toString('latin1'), bytes.toString('utf8')]) {
          expect(text).to.not.include(name);
          expect(text).to.not.include('p_4421');
        }
        lengths.add(token.length);
      }
      expect(lengths.size).to.equal(1);
    });

    it('refuses a cursor secret shorter than 32 bytes at creation, naming the option', function () {
      expect(() => createQueryCompiler({ schema, cursorSecret: 'short' }))
        .to.throw(ConfigError, /cursorSecret.*32 bytes/)
        .with.property('option', 'cursorSecret');
    });
  });

  describe('encrypted fields', function () {
    const blindIndex: BlindIndexer = {
      isEncrypted: (field) => field === 'nationalId' || field === 'secret',
      isSearchable: (field) => field === 'nationalId',
      indexField: (field) => `${field}_bidx`,
      index: (field, plaintext) => `h(${field}:${plaintext})`,
    };
    const encrypted = createQueryCompiler({ schema, blindIndex });

    it('compiles equality and in to the blind index', function () {
      expect(encrypted.compile('nationalId=123').filter).to.deep.equal({ nationalId_bidx: 'h(nationalId:123)' });
      expect(encrypted.compile('nationalId__in=["1","2"]').filter).to.deep.equal({
        nationalId_bidx: { $in: ['h(nationalId:1)', 'h(nationalId:2)'] },
      });
      expect(encrypted.compile('nationalId=1&nationalId=2').filter).to.deep.equal({
        nationalId_bidx: { $in: ['h(nationalId:1)', 'h(nationalId:2)'] },
      });
    });

    it('refuses other operators, sorting and unsearchable encrypted fields', function () {
      for (const qs of ['nationalId__startswith=1', 'nationalId__ne=1', 'sort=nationalId', 'secret=1']) {
        let caught: unknown;
        try {
          encrypted.compile(qs);
        } catch (error) {
          caught = error;
        }
        expect((caught as ValidationError).code, qs).to.equal('filter.encrypted_field');
        expect((caught as ValidationError).message).to.include('encrypted');
      }
    });
  });
});
