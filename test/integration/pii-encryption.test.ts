// Field encryption on the real MongoDB-compatible server: raw reads, blind-index search, tampering, rotation.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { ValidationError } from '../../src/errors.js';
import { keyVersionOf } from '../../src/pii/field-cipher.js';
import { createFieldEncryption, type FieldEncryption } from '../../src/pii/field-encryption.js';
import { migrateKeys } from '../../src/pii/key-rotation.js';
import { decryptionErrorsOf, fieldEncryption, splitDecrypted } from '../../stores/mongodb/encryption-plugin.js';
import { mongoRotationSource } from '../../stores/mongodb/key-rotation.js';
import { sharedMongo, uniqueName } from '../support/connections.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const blindIndexKey = randomBytes(32);
const fields = [
  { path: 'ssn', searchable: true },
  { path: 'email', searchable: true, normalize: 'lowercase' as const },
  'notes',
];

interface Person {
  name: string;
  ssn?: string | null;
  email?: string;
  notes?: unknown;
}

function modelFor(connection: Connection, collection: string, encryption: FieldEncryption): Model<Person> {
  const schema = new Schema<Person>({ name: String, ssn: String, email: String, notes: Schema.Types.Mixed });
  schema.plugin(fieldEncryption, { encryption });
  return connection.model<Person>(uniqueName('Person'), schema, collection);
}

function flipByte(stored: string): string {
  const cut = stored.lastIndexOf(':') + 1;
  const bytes = Buffer.from(stored.slice(cut), 'base64url');
  bytes[16]! ^= 0x80;
  return stored.slice(0, cut) + bytes.toString('base64url');
}

describe('pii field encryption on MongoDB (integration)', function () {
  this.timeout(60_000);
  let connection: Connection;
  let collection: string;
  const v1 = createFieldEncryption({ keys: `1:${k1}`, blindIndexKey, fields });
  const v2 = createFieldEncryption({ keys: `1:${k1},2:${k2}`, blindIndexKey, fields });

  beforeEach(async () => {
    connection = await sharedMongo();
    collection = uniqueName('pii_people');
  });
  afterEach(async () => {
    await connection.dropCollection(collection).catch(() => false);
  });

  it('stores no plaintext, reads back decrypted, and searches by equality through the blind index', async () => {
    const People = modelFor(connection, collection, v1);
    const ada = await People.create({
      name: 'Ada',
      ssn: '123-45-6789',
      email: 'Ada@Example.org',
      notes: { allergy: 'nuts' },
    });
    expect(ada.ssn).to.equal('123-45-6789', 'the saved document keeps its plaintext in memory');
    await People.create({ name: 'Bob', ssn: '987-65-4321', email: 'bob@example.org' });

    const raw = await connection.collection(collection).findOne({ name: 'Ada' });
    const text = JSON.stringify(raw);
    expect(text).to.not.include('123-45-6789').and.not.include('Example.org').and.not.include('nuts');
    expect(raw!.ssn).to.match(/^pc1:1:s:/);
    expect(raw!.notes).to.match(/^pc1:1:j:/);
    expect(raw!._encVersion).to.equal(1);

    // Direct query on the stored index field (independent of any filter language).
    const direct = await connection.collection(collection).findOne({ ssn_bidx: v1.index('ssn', '987-65-4321') });
    expect(direct!.name).to.equal('Bob');

    const found = await People.find({ ssn: '123-45-6789' });
    expect(found.map((p) => [p.name, p.ssn, p.email])).to.deep.equal([['Ada', '123-45-6789', 'Ada@Example.org']]);
    expect((found[0]!.notes as { allergy: string }).allergy).to.equal('nuts');
    const both = await People.find({ email: { $in: ['ADA@example.org', 'bob@EXAMPLE.org'] } })
      .sort({ name: 1 })
      .lean();
    expect(both.map((p) => p.name)).to.deep.equal(['Ada', 'Bob']);
    expect(both[0]!.ssn).to.equal('123-45-6789');
    expect(await People.countDocuments({ ssn: { $eq: '000-00-0000' } })).to.equal(0);
    try {
      await People.find({ ssn: { $gt: '1' } });
      expect.fail('a range on an encrypted field must be refused');
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).status).to.equal(400);
      expect((error as Error).message).to.include('only equality and "in"');
    }
  });

  it('encrypts updates ($set, top-level fields, save) and refuses operators that need the plaintext', async () => {
    const People = modelFor(connection, collection, v1);
    const ada = await People.create({ name: 'Ada', ssn: '123-45-6789' });
    await People.updateOne({ _id: ada._id }, { $set: { ssn: '111-22-3333' } });
    await People.updateOne({ _id: ada._id }, { email: 'new@example.org' });
    let raw = await connection.collection(collection).findOne({ _id: ada._id });
    expect(JSON.stringify(raw)).to.not.include('111-22-3333').and.not.include('new@example.org');
    expect((await People.findOne({ ssn: '111-22-3333' }))!.email).to.equal('new@example.org');

    const doc = (await People.findById(ada._id))!;
    doc.ssn = '444-55-6666';
    await doc.save();
    expect(doc.ssn).to.equal('444-55-6666');
    raw = await connection.collection(collection).findOne({ _id: ada._id });
    expect(raw!.ssn).to.match(/^pc1:1:/);
    expect(await People.countDocuments({ ssn: '444-55-6666' })).to.equal(1);

    const updated = await People.findOneAndUpdate(
      { ssn: '444-55-6666' },
      { $set: { name: 'Ada L.' } },
      { returnDocument: 'after' },
    );
    expect(updated!.ssn).to.equal('444-55-6666');
    for (const update of [{ $inc: { ssn: 1 } }, { $push: { notes: 'x' } }, { $rename: { email: 'mail' } }]) {
      try {
        await People.updateOne({ _id: ada._id }, update as never);
        expect.fail(`${Object.keys(update)[0]} must be refused`);
      } catch (error) {
        expect(error).to.be.instanceOf(ValidationError);
      }
    }
    await People.updateOne({ _id: ada._id }, { $unset: { ssn: '' } });
    raw = await connection.collection(collection).findOne({ _id: ada._id });
    expect(raw).to.not.have.property('ssn');
    expect(raw).to.not.have.property('ssn_bidx');
  });

  it('insertMany encrypts too', async () => {
    const People = modelFor(connection, collection, v1);
    const inserted = await People.insertMany([
      { name: 'A', ssn: '123-45-6789' },
      { name: 'B', ssn: '222-33-4444' },
    ]);
    expect(inserted.map((p) => p.ssn)).to.deep.equal(['123-45-6789', '222-33-4444']);
    const raws = await connection.collection(collection).find({}).toArray();
    expect(JSON.stringify(raws)).to.not.include('123-45-6789');
    expect((await People.findOne({ ssn: '222-33-4444' }))!.name).to.equal('B');
  });

  it('detects a flipped byte: the list still answers, with the record in errors and no plaintext', async () => {
    const People = modelFor(connection, collection, v1);
    await People.create({ name: 'Ok', ssn: '123-45-6789' });
    const victim = await People.create({ name: 'Tampered', ssn: '555-66-7777' });
    const raw = await connection.collection(collection).findOne({ _id: victim._id });
    await connection
      .collection(collection)
      .updateOne({ _id: victim._id }, { $set: { ssn: flipByte(raw!.ssn as string) } });

    const docs = await People.find().sort({ name: 1 });
    const { data, errors } = splitDecrypted(docs);
    expect(data.map((d) => d.name)).to.deep.equal(['Ok']);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ field: 'ssn', code: 'pii.authentication_failed' });
    expect(String(errors[0]!.id)).to.equal(String(victim._id));
    expect(JSON.stringify(errors)).to.not.include('555-66-7777');
    const tampered = docs.find((d) => d.name === 'Tampered')!;
    expect(tampered.ssn).to.equal(undefined);
    // Saving a document whose field could not be read never overwrites the stored ciphertext.
    tampered.name = 'Renamed';
    await tampered.save();
    const after = await connection.collection(collection).findOne({ _id: victim._id });
    expect(after!.ssn).to.equal(flipByte(raw!.ssn as string));

    const lean = await People.find().lean();
    expect(lean.flatMap((record) => decryptionErrorsOf(record))).to.have.length(1);
  });

  it('rotates from key 1 to key 2 under concurrent writes: every record readable and on key 2', async () => {
    const Old = modelFor(connection, collection, v1);
    // FerretDB on SQLite takes tens of milliseconds per write: keep the set small but several batches long.
    const total = 120;
    await Old.insertMany(
      Array.from({ length: total }, (_, i) => ({ name: `p${i}`, ssn: `100-00-${1000 + i}`, email: `p${i}@x.org` })),
    );

    // The application now runs with key 2 current while the migration proceeds.
    const App = modelFor(connection, collection, v2);
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        const i = Math.floor(Math.random() * total);
        if (writes % 3 === 0) {
          await App.updateOne({ name: `p${i}` }, { $set: { ssn: `200-00-${1000 + i}` } });
        } else if (writes % 3 === 1) {
          const doc = await App.findOne({ name: `p${i}` });
          doc!.email = `changed${i}@x.org`;
          await doc!.save();
        } else {
          await App.create({ name: `new${writes}`, ssn: `300-00-${1000 + (writes % 9000)}` });
        }
        writes++;
      }
    })();
    const progress: number[] = [];
    const result = await migrateKeys(mongoRotationSource(connection, collection), v2, {
      batchSize: 15,
      onProgress: (p) => progress.push(p.migrated),
    });
    writing = false;
    await writer;
    expect(writes).to.be.greaterThan(0);
    expect(progress.length).to.be.greaterThan(1);
    expect(result.errors).to.deep.equal([]);
    expect(result.totalLeft).to.equal(0);

    const raws = await connection.collection(collection).find({}).toArray();
    expect(raws.length).to.be.greaterThan(total - 1);
    for (const raw of raws) {
      expect(raw._encVersion, String(raw.name)).to.equal(2);
      expect(keyVersionOf(raw.ssn), String(raw.name)).to.equal(2);
      if (raw.email !== undefined) expect(keyVersionOf(raw.email)).to.equal(2);
    }
    // A reader holding only key 2 reads everything, and the blind index still finds records.
    const only2 = createFieldEncryption({ keys: `2:${k2}`, blindIndexKey, fields });
    const Reader = modelFor(connection, collection, only2);
    const all = await Reader.find();
    expect(splitDecrypted(all).errors).to.deep.equal([]);
    expect(all.every((p) => typeof p.ssn === 'string' && /^\d{3}-\d{2}-\d{4}$/.test(p.ssn))).to.equal(true);
    const p5 = all.find((p) => p.name === 'p5')!;
    expect((await Reader.findOne({ ssn: p5.ssn! }))!.name).to.equal('p5');
    expect(result.migrated).to.be.at.least(total - writes);
  });
});
