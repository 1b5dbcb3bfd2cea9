// `portcullis keys generate|migrate` end to end against the real MongoDB-compatible server.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { loadConfig } from '../../src/config/index.js';
import { runCli } from '../../src/cli/run.js';
import { keyVersionOf } from '../../src/pii/field-cipher.js';
import { createFieldEncryption } from '../../src/pii/field-encryption.js';
import { fieldEncryption } from '../../stores/mongodb/encryption-plugin.js';
import { io as cliIO } from '../support/cli-io.js';
import { requireEnv, sharedMongo, uniqueName } from '../support/connections.js';

const io = (env: Record<string, string>) => cliIO({}, env);

describe('portcullis keys (integration)', function () {
  this.timeout(60_000);
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  const blind = randomBytes(32).toString('base64');
  let connection: Connection;
  let collection: string;

  beforeEach(async () => {
    connection = await sharedMongo();
    collection = uniqueName('pii_cli');
  });
  afterEach(async () => {
    await connection.dropCollection(collection).catch(() => false);
  });

  it('generate prints a usable key, versioned on request', async () => {
    const run = io({});
    expect(await runCli(['keys', 'generate', '--version', '3'], run.io)).to.equal(0);
    const [line] = run.out;
    expect(line).to.match(/^3:[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(line!.slice(2), 'base64')).to.have.length(32);
    const plain = io({});
    expect(await runCli(['keys', 'generate'], plain.io)).to.equal(0);
    expect(plain.out[0]).to.match(/^1:[A-Za-z0-9+/]{43}=$/);
    // What it prints is what ENCRYPTION_KEYS takes.
    expect(loadConfig({ ENCRYPTION_KEYS: plain.out[0] }).ENCRYPTION_KEYS).to.equal(plain.out[0]);
    const raw = io({});
    expect(await runCli(['keys', 'generate', '--raw'], raw.io)).to.equal(0);
    expect(Buffer.from(raw.out[0]!, 'base64')).to.have.length(32);
    expect(loadConfig({ BLIND_INDEX_KEY: raw.out[0] }).BLIND_INDEX_KEY).to.equal(raw.out[0]);
  });

  it('migrate moves every record to the current key, with progress, a limit, and resume', async () => {
    const fields = [{ path: 'ssn', searchable: true }, 'notes'];
    const v1 = createFieldEncryption({ keys: `1:${k1}`, blindIndexKey: blind, fields });
    const schema = new Schema({ name: String, ssn: String, notes: Schema.Types.Mixed });
    schema.plugin(fieldEncryption, { encryption: v1 });
    const People = connection.model(uniqueName('CliPerson'), schema, collection);
    await People.insertMany(
      Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, ssn: `100-00-${1000 + i}`, notes: { i } })),
    );
    const env = {
      MONGODB_URI: requireEnv('MONGODB_URI'),
      ENCRYPTION_KEYS: `1:${k1},2:${k2}`,
      BLIND_INDEX_KEY: blind,
    };
    const args = ['keys', 'migrate', '--collection', collection, '--fields', 'ssn:search,notes', '--batch-size', '5'];

    const first = io(env);
    expect(await runCli([...args, '--limit', '12'], first.io)).to.equal(1);
    expect(JSON.parse(first.out.at(-1)!)).to.deep.equal({ migrated: 12, totalLeft: 18 });
    expect(first.err.some((line) => /^migrated \d+ \(batches \d+/.test(line))).to.equal(true);

    const second = io(env);
    expect(await runCli(args, second.io)).to.equal(0);
    expect(JSON.parse(second.out.at(-1)!)).to.deep.equal({ migrated: 18, totalLeft: 0 });

    const raws = await connection.collection(collection).find({}).toArray();
    expect(raws).to.have.length(30);
    for (const raw of raws) {
      expect(raw._encVersion).to.equal(2);
      expect(keyVersionOf(raw.ssn)).to.equal(2);
      expect(keyVersionOf(raw.notes)).to.equal(2);
    }
    const v2only = createFieldEncryption({ keys: `2:${k2}`, blindIndexKey: blind, fields });
    const found = await connection.collection(collection).findOne({ ssn_bidx: v2only.index('ssn', '100-00-1007') });
    expect(v2only.decryptRecord(found!)).to.include({ name: 'p7', ssn: '100-00-1007' });
    expect(v2only.decryptRecord(found!).notes).to.deep.equal({ i: 7 });
  });

  it('migrate of a collection that does not exist fails with one line and exit status 2', async () => {
    const env = { MONGODB_URI: requireEnv('MONGODB_URI'), ENCRYPTION_KEYS: `1:${k1}`, BLIND_INDEX_KEY: blind };
    const run = io(env);
    expect(await runCli(['keys', 'migrate', '--collection', 'nosuch', '--fields', 'ssn'], run.io)).to.equal(2);
    expect(run.out).to.deep.equal([]);
    expect(run.err).to.deep.equal([
      'portcullis keys: --collection: no collection "nosuch" in the database of MONGODB_URI',
    ]);
  });

  it('bad input is one line and exit status 2, never echoing a key', async () => {
    const env = { MONGODB_URI: requireEnv('MONGODB_URI'), ENCRYPTION_KEYS: '1:bm90LWEta2V5', BLIND_INDEX_KEY: blind };
    const cases: [string[], RegExp][] = [
      [['keys'], /missing sub-command/],
      [['keys', 'rotate'], /unknown sub-command "rotate"/],
      [['keys', 'migrate', '--fields', 'ssn'], /--collection NAME is required/],
      [['keys', 'migrate', '--collection', 'x'], /--fields is required/],
      [['keys', 'migrate', '--collection', 'x', '--fields', 'ssn:serch'], /"serch" is not a field option/],
      [['keys', 'migrate', '--collection', 'x', '--fields', 'ssn', '--batch-size', '0'], /--batch-size must be/],
      [
        ['keys', 'migrate', '--collection', 'x', '--fields', 'ssn'],
        /ENCRYPTION_KEYS: version 1 is not a base64 32-byte key/,
      ],
      [['keys', 'migrate', '--colection', 'x'], /unknown option --colection \(did you mean --collection\?\)/],
      [['keys', 'generate', '--raw', '--version', '2'], /--raw prints a key without a version/],
    ];
    for (const [args, pattern] of cases) {
      const run = io(env);
      expect(await runCli(args, run.io), args.join(' ')).to.equal(2);
      expect(run.err).to.have.length(1);
      expect(run.err[0]).to.match(pattern).and.not.include('bm90LWEta2V5');
    }
  });
});
