// The filter language searching encrypted fields through the blind index, on the real MongoDB-compatible server.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { ValidationError } from '../../src/errors.js';
import { createQueryCompiler, toMongoFilter } from '../../src/filter/index.js';
import { createFieldEncryption } from '../../src/pii/field-encryption.js';
import { fieldEncryption } from '../../stores/mongodb/encryption-plugin.js';
import { sharedMongo, uniqueName } from '../support/connections.js';

describe('pii blind index through the filter language (integration)', function () {
  this.timeout(30_000);
  const encryption = createFieldEncryption({
    keys: `1:${randomBytes(32).toString('base64')}`,
    blindIndexKey: randomBytes(32),
    fields: [{ path: 'ssn', searchable: true }, { path: 'email', searchable: true, normalize: 'lowercase' }, 'notes'],
  });
  const compiler = createQueryCompiler({
    schema: { name: 'string', ssn: 'string', email: 'string', notes: 'string' },
    blindIndex: encryption,
  });
  let connection: Connection;
  let collection: string;

  before(async () => {
    connection = await sharedMongo();
    collection = uniqueName('pii_filter');
  });
  after(async () => {
    await connection.dropCollection(collection).catch(() => false);
  });

  it('answers equality and in on encrypted fields, and 400 with a reason for anything else', async () => {
    const schema = new Schema({ name: String, ssn: String, email: String, notes: String });
    schema.plugin(fieldEncryption, { encryption });
    const People = connection.model(uniqueName('FilterPerson'), schema, collection);
    await People.create([
      { name: 'Ada', ssn: '123-45-6789', email: 'ada@example.org' },
      { name: 'Bob', ssn: '987-65-4321', email: 'bob@example.org' },
      { name: 'Cy', ssn: '555-12-3456', email: 'cy@example.org' },
    ]);
    const run = async (querystring: string) => {
      const query = compiler.compile(querystring);
      const filter = toMongoFilter(query.where);
      // Straight to the driver: the index fields are what the filter language wrote.
      const raw = await connection.collection(collection).find(filter).sort({ name: 1 }).toArray();
      // And through the plugin-enabled model, which leaves index conditions as they are.
      const viaModel = await People.find(filter).sort({ name: 1 });
      expect(viaModel.map((p) => p.name)).to.deep.equal(raw.map((p) => p.name));
      return viaModel.map((p) => [p.name, p.ssn]);
    };
    expect(await run('ssn=987-65-4321')).to.deep.equal([['Bob', '987-65-4321']]);
    expect(
      await run('email__in=' + encodeURIComponent(JSON.stringify(['ADA@example.org', 'cy@example.org']))),
    ).to.deep.equal([
      ['Ada', '123-45-6789'],
      ['Cy', '555-12-3456'],
    ]);
    expect(await run('ssn=000-00-0000')).to.deep.equal([]);
    for (const querystring of ['ssn__gt=1', 'email__startswith=ada', 'notes=x', 'sort=ssn']) {
      try {
        compiler.compile(querystring);
        expect.fail(`${querystring} must be refused`);
      } catch (error) {
        expect(error, querystring).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).status).to.equal(400);
        expect((error as ValidationError).errors?.[0]?.code).to.equal('filter.encrypted_field');
      }
    }
  });
});
