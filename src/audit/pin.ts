// The digest pin: each stream's newest digest written to a file outside the audit store, so that deleting a
// stream's whole tail (events and digests) is still detected by `audit verify --pin FILE`.
import { rename, writeFile } from 'node:fs/promises';
import type { AuditDigest } from './event.js';
import type { DigestPin } from './verify.js';

const FORMAT = 'portcullis.audit-pin.v1';

export function pinOf(digest: AuditDigest): DigestPin {
  return {
    stream: digest.stream,
    toSeq: digest.toSeq,
    signature: digest.signature,
    time: digest.time,
    ...(digest.final ? { final: true } : {}),
  };
}

/** Replaces the file at once (write beside it, then rename), so a reader never sees half a pin. */
export async function writePinFile(path: string, pins: Iterable<DigestPin>): Promise<void> {
  const text = `${JSON.stringify({ format: FORMAT, pins: [...pins] })}\n`;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
}

/** Parses a pin file; throws a TypeError naming what is wrong. */
export function parsePinFile(text: string): DigestPin[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TypeError('is not JSON');
  }
  const { format, pins } = (parsed ?? {}) as { format?: unknown; pins?: unknown };
  if (format !== FORMAT || !Array.isArray(pins)) throw new TypeError(`is not a ${FORMAT} file`);
  return pins.map((pin: Partial<DigestPin>, index) => {
    if (
      typeof pin?.stream !== 'string' ||
      typeof pin.signature !== 'string' ||
      typeof pin.time !== 'string' ||
      !Number.isInteger(pin.toSeq)
    ) {
      throw new TypeError(`has a malformed pin at position ${index + 1}`);
    }
    return pin as DigestPin;
  });
}
