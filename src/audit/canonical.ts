// Canonical JSON and hashing: one byte-exact form per event, whatever the store did to key order.
import { hash } from 'node:crypto';
import { MAX_JSON_DEPTH } from '../json-depth.js';
import { setOwn } from '../own.js';

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

// Keys V8 always enumerates first, in numeric order, whatever order they were inserted in.
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;
const NOT_PLAIN = Symbol('not plain');

function startsWithDigit(key: string): boolean {
  const code = key.charCodeAt(0);
  return code >= 48 && code <= 57;
}

/**
 * The plain-JSON copy of `value` with object keys inserted in sorted order, so that
 * `JSON.stringify(copy) === canonicalJson(value)` and the copy deep-equals `JSON.parse` of that text.
 * Undefined when some object has an array-index key (V8 would list it first): callers then fall back to
 * `canonicalJson` and `JSON.parse`. Building the copy and stringifying it natively costs about half of
 * `canonicalJson` followed by `JSON.parse`.
 */
export function canonicalCopy(value: unknown): unknown {
  const copy = copyValue(value, 0);
  return copy === NOT_PLAIN ? undefined : copy;
}

function copyValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // -0 prints as 0, and NaN and the infinities as null, in JSON.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) throw new NestingError();
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return copyValue((value as { toJSON(): unknown }).toJSON(), depth + 1);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) {
      const item = copyValue(value[index], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out[index] = item === undefined ? null : item;
    }
    return out;
  }
  const keys = Object.keys(value).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (startsWithDigit(key) && INDEX_KEY.test(key)) return NOT_PLAIN;
    const raw = (value as Record<string, unknown>)[key];
    if (raw === undefined || typeof raw === 'function' || typeof raw === 'symbol') continue;
    let item = copyValue(raw, depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    // Like canonicalJson: a value whose toJSON() gives nothing prints as null.
    if (item === undefined) item = null;
    // An own "__proto__" property, as JSON.parse makes it, not the prototype.
    setOwn(out, key, item);
  }
  return out;
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
