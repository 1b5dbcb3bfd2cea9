// Field encryption without a database: key ring, AES-GCM codec, blind index, filter rewriting, memory rotation.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConfigError, ValidationError } from '../../../src/errors.js';
import { DecryptionError, decryptField, encryptField, keyVersionOf } from '../../../src/pii/field-cipher.js';
import { createFieldEncryption } from '../../../src/pii/field-encryption.js';
import { migrateKeys } from '../../../src/pii/key-rotation.js';
import { parseKeyRing } from '../../../src/pii/key-ring.js';
import { EncryptedMemoryCollection } from '../../../stores/memory/encrypted-collection.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const blindIndexKey = randomBytes(32);
const fields = [
  { path: 'ssn', searchable: true },
  { path: 'email', searchable: true, normalize: 'lowercase' as const },
  'notes',
  'profile.dob',
];

function flipByte(stored: string): string {
  const [prefix, body] = [stored.slice(0, stored.lastIndexOf(':') + 1), stored.slice(stored.lastIndexOf(':') + 1)];
  const bytes = Buffer.from(body, 'base64url');
  bytes[20]! ^= 0x01;
  return prefix + bytes.toString('base64url');
}

describe('pii field encryption', () => {
  describe('key ring', () => {
    it('parses raw keys and secrets; current defaults to the highest version', () => {
      const ring = parseKeyRing(`1:${k1},3:secret:correct horse battery staple`);
      expect(ring.versions).to.deep.equal([1, 3]);
      expect(ring.current).to.equal(3);
      expect(parseKeyRing(`1:${k1},2:${k2}`, 1).current).to.equal(1);
    });

    it('rejects bad rings without echoing key material', () => {
      const secretish = 'c2hvcnRrZXk=';
      for (const [spec, pattern] of [
        [`1:${secretish}`, /version 1 is not a base64 32-byte key/],
        [`1:${k1},1:${k2}`, /listed twice/],
        ['nonsense', /entries must look like/],
        ['1:secret:short', /at least 16 characters/],
        ['', /holds no key/],
      ] as const) {
        expect(() => parseKeyRing(spec)).to.throw(ConfigError, pattern);
        try {
          parseKeyRing(spec);
        } catch (error) {
          expect((error as Error).message)
            .to.not.include(secretish)
            .and.not.include(k1);
        }
      }
      expect(() => parseKeyRing(`1:${k1}`, 2)).to.throw(
        ConfigError,
        /ENCRYPTION_CURRENT_KEY_VERSION|key ring has versions 1/,
      );
    });
  });

  describe('cipher', () => {
    const ring = parseKeyRing(`1:${k1}`);
    it('round-trips strings and typed values with a random IV and the key version in the output', () => {
      const a = encryptField(ring, 'ssn', '123-45-6789');
      const b = encryptField(ring, 'ssn', '123-45-6789');
      expect(a)
        .to.match(/^pc1:1:s:/)
        .and.not.equal(b);
      expect(a).to.not.include('123-45-6789');
      expect(keyVersionOf(a)).to.equal(1);
      expect(decryptField(ring, 'ssn', a)).to.equal('123-45-6789');
      for (const value of [42, true, { a: [1, 'x'] }, '', 'ünïcødé ✓']) {
        expect(decryptField(ring, 'v', encryptField(ring, 'v', value))).to.deep.equal(value);
      }
    });

    it('detects a flipped byte, a wrong key, an unknown version and a ciphertext moved to another field', () => {
      const stored = encryptField(ring, 'ssn', '123-45-6789');
      const failure = (fn: () => unknown) => {
        try {
          fn();
        } catch (error) {
          expect(error).to.be.instanceOf(DecryptionError);
          expect((error as Error).message)
            .to.not.include('123-45-6789')
            .and.not.include(k1);
          return (error as DecryptionError).reason;
        }
        throw new Error('expected a DecryptionError');
      };
      expect(failure(() => decryptField(ring, 'ssn', flipByte(stored)))).to.equal('authentication_failed');
      expect(failure(() => decryptField(parseKeyRing(`1:${k2}`), 'ssn', stored))).to.equal('authentication_failed');
      expect(failure(() => decryptField(parseKeyRing(`2:${k2}`), 'ssn', stored))).to.equal('unknown_key_version');
      expect(failure(() => decryptField(ring, 'email', stored))).to.equal('authentication_failed');
      expect(failure(() => decryptField(ring, 'ssn', 'pc1:1:s:!!'))).to.equal('malformed');
      expect(failure(() => decryptField(ring, 'ssn', 'pc1:1:s:AAAA'))).to.equal('malformed');
    });
  });

  describe('records and blind index', () => {
    const encryption = createFieldEncryption({ keys: `1:${k1}`, blindIndexKey, fields });

    it('encrypts present fields (nested too), indexes searchable ones, and decrypts back', () => {
      const input = {
        _id: 'a',
        name: 'Ada',
        ssn: '123-45-6789',
        email: 'Ada@Example.org',
        profile: { dob: '1815-12-10', city: 'London' },
        notes: null,
      };
      const stored: Record<string, unknown> = encryption.encryptRecord(input);
      expect(JSON.stringify(stored))
        .to.not.include('123-45-6789')
        .and.not.include('1815-12-10')
        .and.not.include('Ada@');
      expect(stored).to.include({ name: 'Ada', _encVersion: 1, ssn_bidx: encryption.index('ssn', '123-45-6789') });
      expect(stored.email_bidx).to.equal(encryption.index('email', 'ada@example.org'), 'normalized to lower case');
      expect((stored.profile as { city: string }).city).to.equal('London');
      expect(input.ssn).to.equal('123-45-6789', 'input not mutated');
      expect(encryption.decryptRecord(stored)).to.deep.equal(input);
    });

    it('strips nested blind indexes too, and leaves the stored record untouched', () => {
      const nested = createFieldEncryption({
        keys: `1:${k1}`,
        blindIndexKey,
        fields: ['ssn', { path: 'contact.phone', searchable: true }],
      });
      const input = { id: 'b', ssn: '078-05-1120', contact: { phone: '+49 30 1234567', city: 'Berlin' } };
      const stored: Record<string, unknown> = nested.encryptRecord(input);
      expect((stored.contact as Record<string, unknown>).phone_bidx).to.be.a('string');
      const before = JSON.stringify(stored);
      expect(nested.decryptRecord(stored)).to.deep.equal(input);
      expect(JSON.stringify(stored)).to.equal(before, 'stored record not mutated');
      expect(
        nested.stripDerived({ ...input, _encVersion: 1, contact: { ...input.contact, phone_bidx: 'x' } }),
      ).to.deep.equal(input);
    });

    it('keys each field separately and needs the index key', () => {
      expect(encryption.index('ssn', 'x')).to.not.equal(encryption.index('email', 'x'));
      const other = createFieldEncryption({ keys: `1:${k1}`, blindIndexKey: randomBytes(32), fields });
      expect(other.index('ssn', 'x')).to.not.equal(encryption.index('ssn', 'x'));
      expect(() => createFieldEncryption({ keys: `1:${k1}`, fields: [{ path: 'ssn', searchable: true }] })).to.throw(
        /BLIND_INDEX_KEY/,
      );
      expect(() => createFieldEncryption({ keys: `1:${k1}`, blindIndexKey: 'short', fields })).to.throw(/32 bytes/);
    });

    it('rewrites equality and $in through the index and refuses other operators with a reason', () => {
      expect(encryption.rewriteFilter({ ssn: '1', name: 'x' })).to.deep.equal({
        name: 'x',
        ssn_bidx: encryption.index('ssn', '1'),
      });
      expect(
        encryption.rewriteFilter({ $or: [{ email: { $in: ['A@x.org', 'b@x.org'] } }, { ssn: { $eq: '2' } }] }),
      ).to.deep.equal({
        $or: [
          { email_bidx: { $in: [encryption.index('email', 'a@x.org'), encryption.index('email', 'b@x.org')] } },
          { ssn_bidx: { $eq: encryption.index('ssn', '2') } },
        ],
      });
      expect(encryption.rewriteFilter({ ssn: { $exists: true } })).to.deep.equal({ ssn: { $exists: true } });
      for (const filter of [{ ssn: { $gt: '1' } }, { ssn: /12/ }, { email: { $regex: '^a' } }, { notes: 'x' }]) {
        expect(() => encryption.rewriteFilter(filter as Record<string, unknown>))
          .to.throw(ValidationError)
          .with.property('status', 400);
      }
      try {
        encryption.rewriteFilter({ ssn: { $gt: '1' } });
      } catch (error) {
        expect((error as ValidationError).message).to.match(
          /encrypted: only equality and "in" can search it \(got \$gt\)/,
        );
        expect((error as ValidationError).errors).to.deep.equal([
          { field: 'ssn', message: (error as ValidationError).errors![0]!.message, code: 'filter.encrypted_field' },
        ]);
      }
    });

    it('validates options with hints', () => {
      expect(() => createFieldEncryption({ keys: `1:${k1}`, fields: ['a.__proto__'] })).to.throw(ConfigError);
      expect(() => createFieldEncryption({ keys: `1:${k1}`, fields: [{ path: 'a', serchable: true } as never] }))
        .to.throw(ConfigError)
        .with.property('hint', 'did you mean searchable?');
      expect(() => createFieldEncryption({ keys: `1:${k1}`, fields: [] })).to.throw(/at least one/);
    });
  });

  describe('memory collection', () => {
    it('searches through the blind index and reports undecryptable records beside the data', () => {
      const encryption = createFieldEncryption({ keys: `1:${k1}`, blindIndexKey, fields });
      const people = new EncryptedMemoryCollection({ encryption });
      people.insert({ _id: 'p1', ssn: '123-45-6789', email: 'a@x.org' });
      people.insert({ _id: 'p2', ssn: '987-65-4321', email: 'B@x.org' });
      people.insert({ _id: 'p3', ssn: '555-55-5555' });
      expect(JSON.stringify(people.raw('p1'))).to.not.include('123-45-6789');
      expect(people.find({ ssn: '987-65-4321' }).data.map((r) => r._id)).to.deep.equal(['p2']);
      expect(people.find({ email: { $in: ['b@X.org', 'a@x.org'] } }).data.map((r) => r._id)).to.deep.equal([
        'p1',
        'p2',
      ]);
      const raw = people.raw('p3')!;
      people.putRaw('p3', { ...raw, ssn: flipByte(raw.ssn as string) });
      const list = people.find();
      expect(list.data.map((r) => r._id)).to.deep.equal(['p1', 'p2']);
      expect(list.errors).to.deep.equal([
        {
          id: 'p3',
          field: 'ssn',
          code: 'pii.authentication_failed',
          message: 'Field "ssn" failed authentication (wrong key or tampered data).',
        },
      ]);
      expect(JSON.stringify(list.errors)).to.not.include('555-55-5555');
    });

    it('rotates from key 1 to key 2 in batches, resumably, with an undecryptable record left and reported', async () => {
      const v1 = createFieldEncryption({ keys: `1:${k1}`, blindIndexKey, fields });
      const v2 = createFieldEncryption({ keys: `1:${k1},2:${k2}`, blindIndexKey, fields });
      const people = new EncryptedMemoryCollection({ encryption: v1 });
      for (let i = 0; i < 25; i++) people.insert({ _id: `p${String(i).padStart(2, '0')}`, ssn: `100-00-${1000 + i}` });
      const bad = people.raw('p07')!;
      people.putRaw('p07', { ...bad, ssn: flipByte(bad.ssn as string) });

      const migrated = new EncryptedMemoryCollection({ encryption: v2 });
      for (let i = 0; i < 25; i++) {
        const id = `p${String(i).padStart(2, '0')}`;
        migrated.putRaw(id, people.raw(id)!);
      }
      const progress: number[] = [];
      const first = await migrateKeys(migrated.rotationSource(), v2, {
        batchSize: 4,
        limit: 10,
        onProgress: (p) => progress.push(p.migrated),
      });
      expect(first.migrated).to.equal(10);
      expect(first.totalLeft).to.equal(15);
      expect(progress.at(-1)).to.equal(10);
      const second = await migrateKeys(migrated.rotationSource(), v2, { batchSize: 4 });
      expect(second.migrated).to.equal(14);
      expect(second.totalLeft).to.equal(1);
      expect(second.errors.map((e) => [e.id, e.code])).to.deep.equal([['p07', 'pii.authentication_failed']]);
      const p03 = migrated.raw('p03')!;
      expect(keyVersionOf(p03.ssn)).to.equal(2);
      expect(p03._encVersion).to.equal(2);
      expect(migrated.find({ ssn: '100-00-1003' }).data.map((r) => r._id)).to.deep.equal(['p03']);
      // Only key 2 now: every migrated record still reads.
      const only2 = createFieldEncryption({ keys: `2:${k2}`, blindIndexKey, fields });
      const reader = new EncryptedMemoryCollection({ encryption: only2 });
      for (let i = 0; i < 25; i++) {
        const id = `p${String(i).padStart(2, '0')}`;
        reader.putRaw(id, migrated.raw(id)!);
      }
      expect(reader.find().data).to.have.length(24);
    });
  });
});
