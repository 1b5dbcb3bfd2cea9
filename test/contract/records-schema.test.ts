// One field declaration for both records stores: the MongoDB store keeps the flags mongoose has no form for.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { ConfigError } from '../../src/errors.js';
import { createQueryCompiler, type CompiledSchema } from '../../src/filter/index.js';
import { MemoryRecordStore } from '../../stores/memory/records.js';
import { MongoRecordStore } from '../../stores/mongodb/records.js';
import { mongooseSchemaFor } from '../../stores/mongodb/records-schema.js';
import { sharedMongo, uniqueName } from '../support/connections.js';

const fields = {
  name: 'string',
  notes: { type: 'string', filterable: false, sortable: false },
  nationalId: { type: 'string', sortable: false },
  age: 'number',
  tags: 'string[]',
} as const;

function flags(schema: CompiledSchema): string[] {
  return [...schema.fields.values()].map(
    (f) => `${f.path}:${f.type}${f.array ? '[]' : ''}:${f.filterable}:${f.sortable}`,
  );
}

describe('records stores take one field declaration', function () {
  let connection: Connection;
  before(async function () {
    connection = await sharedMongo();
  });

  it('gives MongoDB exactly the memory store’s fields and flags, from the schema or the mongoose schema', function () {
    const memory = new MemoryRecordStore({ schema: fields });
    const explicit = new MongoRecordStore({
      model: connection.model(uniqueName('Explicit'), mongooseSchemaFor(fields)),
      schema: fields,
    });
    const implicit = new MongoRecordStore({
      model: connection.model(uniqueName('Implicit'), mongooseSchemaFor(fields)),
    });
    expect(flags(explicit.schema)).to.deep.equal(flags(memory.schema));
    expect(flags(implicit.schema)).to.deep.equal(flags(memory.schema));
    for (const store of [memory, explicit, implicit]) {
      const compiler = createQueryCompiler({ schema: store.schema });
      for (const query of ['notes=x', 'sort=notes', 'sort=nationalId'])
        expect(() => compiler.compile(query), `${store.backend} ${query}`).to.throw(/unknown field/);
      expect(() => compiler.compile('nationalId=x&sort=-age')).to.not.throw();
    }
  });

  it('refuses a declaration that does not describe the model', function () {
    const model = connection.model(uniqueName('Mismatch'), mongooseSchemaFor({ name: 'string', age: 'number' }));
    expect(() => new MongoRecordStore({ model, schema: { name: 'string', age: 'string' } })).to.throw(
      ConfigError,
      /age/,
    );
    expect(() => new MongoRecordStore({ model, schema: { name: 'string', missing: 'string' } })).to.throw(
      ConfigError,
      /missing/,
    );
  });
});
