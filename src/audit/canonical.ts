// Canonical JSON and hashing: one byte-exact form per event, whatever the store did to key order.
import { hash } from 'node:crypto';
import { MAX_JSON_DEPTH } from '../json-depth.js';

// An event holds a request body (at most MAX_JSON_DEPTH levels) one level below its top.
const MAX_DEPTH = MAX_JSON_DEPTH;

/** A value nested past the bound: a TypeError, like `JSON.stringify`'s own refusals, with a class to test. */
export class NestingError extends TypeError {
  constructor() {
    super('audit event nests too deeply');
    this.name = 'NestingError';
  }
}

/**
 * JSON with object keys sorted at every level, following `JSON.stringify`'s rules for everything else
 * (`toJSON`, undefined and functions dropped from objects and nulled in arrays, non-finite numbers as
 * null), so `canonicalJson(x) === canonicalJson(JSON.parse(canonicalJson(x)))`: what is hashed is exactly
 * what a store gives back. BigInts become strings instead of throwing.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (depth > MAX_DEPTH) throw new NestingError();
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON(): unknown }).toJSON(), depth + 1);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ',';
      const item: unknown = value[index];
      out +=
        item === undefined || typeof item === 'function' || typeof item === 'symbol'
          ? 'null'
          : canonicalJson(item, depth + 1);
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

export const GENESIS_HASH = '0'.repeat(64);

export function sha256Hex(text: string): string {
  // The one-shot form (Node ≥ 20.12) skips the Hash object: about half the time for an event's text.
  return hash('sha256', text, 'hex');
}

/**
 * The hash of an event: SHA-256 over the canonical JSON of its body (everything but the seal fields),
 * then its stream, seq and prevHash, one per line.
 */
export function eventHash(event: Record<string, unknown>): string {
  const { hash: _hash, stream, seq, prevHash, ...body } = event;
  return sealHash(canonicalJson(body), stream, seq, prevHash);
}

/** `eventHash` when the canonical JSON of the body is already known. */
export function sealHash(canonicalBody: string, stream: unknown, seq: unknown, prevHash: unknown): string {
  return sha256Hex(`${canonicalBody}\n${String(stream)}\n${String(seq)}\n${String(prevHash)}`);
}
