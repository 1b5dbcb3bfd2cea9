// The attachments' stream cipher: round trips at every chunk boundary, and refuses any change to a stream.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { DecryptionError } from '../../../src/pii/field-cipher.js';
import { createKeyRing } from '../../../src/pii/key-ring.js';
import { decryptStream, encryptStream } from '../../../src/pii/stream-cipher.js';

const ring = createKeyRing([
  { version: 1, key: randomBytes(32) },
  { version: 2, key: randomBytes(32) },
]);
const CHUNK = 1024;
const HEADER = 28;
const FRAME = CHUNK + 16;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const part of source) out.push(Buffer.from(part));
  return Buffer.concat(out);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  // Uneven parts, so chunk boundaries never line up with what arrives.
  for (let at = 0; at < bytes.length; at += 777) yield bytes.subarray(at, at + 777);
}

const encrypt = (bytes: Buffer, context = 'rec1') =>
  collect(encryptStream(once(bytes), ring, { chunkSize: CHUNK, context }));

async function decryptionFails(sealed: Buffer, context = 'rec1'): Promise<string | undefined> {
  try {
    await collect(decryptStream(once(sealed), ring, { context }));
    return undefined;
  } catch (error) {
    expect(error).to.be.instanceOf(DecryptionError);
    return (error as DecryptionError).reason;
  }
}

describe('stream cipher (attachments)', function () {
  it('round-trips every size around the chunk boundaries', async function () {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5]) {
      const bytes = randomBytes(size);
      const sealed = await encrypt(bytes);
      expect(sealed.length).to.equal(HEADER + size + Math.max(1, Math.ceil(size / CHUNK)) * 16);
      expect(
        (await collect(decryptStream(once(sealed), ring, { context: 'rec1' }))).equals(bytes),
        String(size),
      ).to.equal(true);
    }
  });

  it('encrypts with the current key and a fresh salt, so one file never encrypts the same way twice', async function () {
    const bytes = Buffer.alloc(3000, 7);
    const [a, b] = [await encrypt(bytes), await encrypt(bytes)];
    expect(a.readUInt32BE(4)).to.equal(2);
    expect(a.equals(b)).to.equal(false);
  });

  it('refuses a flipped bit, a cut at a chunk boundary, a dropped or swapped chunk, and another context', async function () {
    const sealed = await encrypt(randomBytes(3 * CHUNK + 100));
    const flipped = Buffer.from(sealed);
    flipped[HEADER + FRAME + 10]! ^= 1;
    expect(await decryptionFails(flipped)).to.equal('authentication_failed');
    // Cut after two whole frames: the new last frame was sealed as not final.
    expect(await decryptionFails(sealed.subarray(0, HEADER + 2 * FRAME))).to.equal('authentication_failed');
    expect(await decryptionFails(sealed.subarray(0, sealed.length - 5))).to.equal('authentication_failed');
    const frames = [0, 1, 2].map((i) => sealed.subarray(HEADER + i * FRAME, HEADER + (i + 1) * FRAME));
    const swapped = Buffer.concat([
      sealed.subarray(0, HEADER),
      frames[1]!,
      frames[0]!,
      frames[2]!,
      sealed.subarray(HEADER + 3 * FRAME),
    ]);
    expect(await decryptionFails(swapped)).to.equal('authentication_failed');
    expect(await decryptionFails(sealed, 'rec2')).to.equal('authentication_failed');
    expect(await decryptionFails(sealed.subarray(0, 10))).to.equal('malformed');
    const otherVersion = Buffer.from(sealed);
    otherVersion.writeUInt32BE(9, 4);
    expect(await decryptionFails(otherVersion)).to.equal('unknown_key_version');
  });
});
