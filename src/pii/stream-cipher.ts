// AES-256-GCM for a stream of bytes (attachments): fixed-size chunks, each authenticated, the last one marked.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { DecryptionError } from './field-cipher.js';
import type { KeyRing } from './key-ring.js';

// Layout: a 28-byte header, then frames of (chunk ciphertext + 16-byte tag). Every frame holds `chunkSize`
// plaintext bytes but the last, which holds 0 to `chunkSize`.
//   header: "PCS1" | key version (uint32 BE) | chunk size (uint32 BE) | salt (16 random bytes)
// Each file has its own key, HKDF(ring key, salt), so the chunk counter alone is a unique IV under it.
// The AAD of a chunk is header | context | final flag: a chunk cannot move to another file, position (the
// counter) or context (the caller's, e.g. the record id), and a stream cut at a frame boundary fails
// because its new last frame was sealed as not final.
const MAGIC = Buffer.from('PCS1', 'latin1');
const HEADER_BYTES = 28;
const TAG_BYTES = 16;
const SALT_BYTES = 16;
const INFO = Buffer.from('portcullis stream cipher v1', 'utf8');
/** Default plaintext bytes per chunk. */
export const STREAM_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const LABEL = '(attachment)';

export interface StreamCipherOptions {
  /** Plaintext bytes per authenticated chunk. Default 64 KiB. */
  chunkSize?: number;
  /** Bound into every chunk (e.g. the record id): decryption needs the same context. Default empty. */
  context?: string;
}

function fileKey(ring: KeyRing, version: number, salt: Buffer): Buffer {
  const master = ring.key(version);
  if (!master) throw new DecryptionError('unknown_key_version', LABEL, version);
  return Buffer.from(hkdfSync('sha256', master, salt, INFO, 32));
}

function ivOf(index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUIntBE(index, 6, 6);
  return iv;
}

function aadOf(header: Buffer, context: Buffer, final: boolean): Buffer {
  return Buffer.concat([header, context, Buffer.from([final ? 1 : 0])]);
}

/** Takes `size` bytes off the front of a list of buffers. */
function take(parts: Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const head = parts[0]!;
    const used = Math.min(head.length, size - filled);
    head.copy(out, filled, 0, used);
    filled += used;
    if (used === head.length) parts.shift();
    else parts[0] = head.subarray(used);
  }
  return out;
}

/** Encrypts a stream with the ring's current key; yields the header, then one frame per chunk. */
export async function* encryptStream(
  source: AsyncIterable<Uint8Array>,
  ring: KeyRing,
  options: StreamCipherOptions = {},
): AsyncGenerator<Buffer> {
  const chunkSize = options.chunkSize ?? STREAM_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunkSize must be an integer from 1 to ${MAX_CHUNK_BYTES}`);
  }
  const context = Buffer.from(options.context ?? '', 'utf8');
  const version = ring.current;
  const salt = randomBytes(SALT_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(chunkSize, 8);
  salt.copy(header, 12);
  const key = fileKey(ring, version, salt);
  let index = 0;
  const seal = (plaintext: Buffer, final: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', key, ivOf(index++), { authTagLength: TAG_BYTES });
    cipher.setAAD(aadOf(header, context, final));
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  };
  yield header;
  const parts: Buffer[] = [];
  let buffered = 0;
  for await (const part of source) {
    parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    buffered += part.byteLength;
    // A full chunk is sealed once a byte after it exists: only then is it known not to be the last.
    while (buffered > chunkSize) {
      yield seal(take(parts, chunkSize), false);
      buffered -= chunkSize;
    }
  }
  // 1 to chunkSize bytes, or none for an empty stream.
  yield seal(take(parts, buffered), true);
}

/** Decrypts what `encryptStream` produced, chunk by chunk; no byte is yielded before its chunk is verified. */
export async function* decryptStream(
  source: AsyncIterable<Uint8Array>,
  ring: KeyRing,
  options: Pick<StreamCipherOptions, 'context'> = {},
): AsyncGenerator<Buffer> {
  const context = Buffer.from(options.context ?? '', 'utf8');
  const parts: Buffer[] = [];
  let buffered = 0;
  let header: Buffer | undefined;
  let key: Buffer | undefined;
  let frame = 0;
  let version: number | undefined;
  let index = 0;
  const open = (sealed: Buffer, final: boolean): Buffer => {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key!, ivOf(index++), { authTagLength: TAG_BYTES });
      decipher.setAAD(aadOf(header!, context, final));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DecryptionError('authentication_failed', LABEL, version);
    }
  };
  const readHeader = () => {
    header = take(parts, HEADER_BYTES);
    buffered -= HEADER_BYTES;
    if (!header.subarray(0, 4).equals(MAGIC)) throw new DecryptionError('malformed', LABEL);
    version = header.readUInt32BE(4);
    const chunkSize = header.readUInt32BE(8);
    if (chunkSize < 1 || chunkSize > MAX_CHUNK_BYTES) throw new DecryptionError('malformed', LABEL, version);
    key = fileKey(ring, version, header.subarray(12, 28));
    frame = chunkSize + TAG_BYTES;
  };
  for await (const part of source) {
    parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    buffered += part.byteLength;
    if (!header && buffered >= HEADER_BYTES) readHeader();
    // A frame followed by more bytes is not the last one.
    while (header && buffered > frame) {
      yield open(take(parts, frame), false);
      buffered -= frame;
    }
  }
  if (!header || buffered < TAG_BYTES) throw new DecryptionError('malformed', LABEL, version);
  yield open(take(parts, buffered), true);
}
