// Canonical JSON and hashing: one byte-exact form per event, whatever the store did to key order.
import { createHash } from 'node:crypto';

const MAX_DEPTH = 64;

/**
 * JSON with object keys sorted at every level. The input must already be plain JSON data (see
 * `toPlainJson`): what is hashed is exactly what a store gives back.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (depth > MAX_DEPTH) throw new TypeError('audit event nests too deeply');
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, depth + 1)).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Turns Dates, ObjectIds, undefined and NaN into what JSON keeps of them, so hashing survives a round trip. */
export function toPlainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export const GENESIS_HASH = '0'.repeat(64);

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of an event: SHA-256 of its canonical JSON without the `hash` field itself. */
export function eventHash(event: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = event;
  return sha256Hex(canonicalJson(rest));
}

// The JSON text of sealed events, made once by the pipeline and reused by every store that writes it.
const serialized = new WeakMap<object, string>();

/** Remembers `json` as the serialization of `event` (which must not be mutated afterwards). */
export function rememberJson(event: object, json: string): void {
  serialized.set(event, json);
}

/** The event as JSON: the text the pipeline made when it sealed the event, or a fresh one. */
export function eventJson(event: object): string {
  return serialized.get(event) ?? JSON.stringify(event);
}
