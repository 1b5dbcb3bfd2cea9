// Field encryption costs: AES-256-GCM encrypt/decrypt per field, blind index per value, whole records.
// Run: npx tsx bench/pii-encryption.ts
import { randomBytes } from 'node:crypto';
import { createFieldEncryption, parseKeyRing } from 'portcullis';
import { decryptField, encryptField } from '../src/pii/field-cipher.js';

function perSecond(fn: () => unknown, budgetMs = 800): number {
  for (let i = 0; i < 2000; i++) fn();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < 200; i++) fn();
    count += 200;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}
const row = (name: string, rate: number) =>
  console.log(
    `${name.padEnd(52)} ${Math.round(rate).toString().padStart(9)}/s ${(1e6 / rate).toFixed(2).padStart(8)} µs`,
  );

const ring = parseKeyRing(`1:${randomBytes(32).toString('base64')}`);
const short = '123-45-6789';
const long = 'x'.repeat(1024);
const encryptedShort = encryptField(ring, 'ssn', short);
const encryptedLong = encryptField(ring, 'notes', long);
const encryption = createFieldEncryption({
  keys: ring,
  blindIndexKey: randomBytes(32),
  fields: [{ path: 'ssn', searchable: true }, { path: 'email', searchable: true, normalize: 'lowercase' }, 'notes'],
});
const record = { _id: 'a1', name: 'Ada', ssn: short, email: 'Ada@Example.org', notes: 'allergic to nuts', plan: 'pro' };
const stored = encryption.encryptRecord(record);

console.log(`Node ${process.version}; one core; higher is better.\n`);
row(
  'encrypt one field (11-byte string)',
  perSecond(() => encryptField(ring, 'ssn', short)),
);
row(
  'decrypt one field (11-byte string)',
  perSecond(() => decryptField(ring, 'ssn', encryptedShort)),
);
row(
  'encrypt one field (1 KiB string)',
  perSecond(() => encryptField(ring, 'notes', long)),
);
row(
  'decrypt one field (1 KiB string)',
  perSecond(() => decryptField(ring, 'notes', encryptedLong)),
);
row(
  'blind index of one value (HMAC-SHA256)',
  perSecond(() => encryption.index('ssn', short)),
);
row(
  'encryptRecord: 3 encrypted fields, 2 indexed',
  perSecond(() => encryption.encryptRecord(record)),
);
row(
  'decryptRecord: 3 encrypted fields',
  perSecond(() => encryption.decryptRecord(stored)),
);
