// Opaque, signed keyset cursors: the sort values of the last item, bound to the resource and sort order.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hmacSha256 } from '../hmac.js';
import { ObjectIdRef, and, matchNone, or, type FilterNode, type FilterValue, type SortKey } from './ast.js';
import { kindOf } from './compare.js';
import type { ScalarType } from './schema.js';

type Encoded = string | number | boolean | null | { d: number } | { o: string };

export interface CursorCodec {
  encode(values: readonly unknown[], binding: string): string;
  /** The decoded values, or undefined when the token is malformed, forged or bound to another query. */
  decode(token: string, binding: string, types: readonly ScalarType[]): (FilterValue | null)[] | undefined;
}

const MAX_TOKEN = 2048;

function encodeValue(value: unknown): Encoded {
  const kind = kindOf(value);
  if (kind === 'null') return null;
  if (kind === 'date') return { d: (value as Date).getTime() };
  if (kind === 'objectId') {
    return { o: value instanceof ObjectIdRef ? value.hex : (value as { toHexString(): string }).toHexString() };
  }
  if (kind === 'other') return null;
  return value as string | number | boolean;
}

function decodeValue(encoded: unknown, type: ScalarType): FilterValue | null | undefined {
  if (encoded === null) return null;
  switch (type) {
    case 'string':
      return typeof encoded === 'string' ? encoded : undefined;
    case 'number':
      return typeof encoded === 'number' && Number.isFinite(encoded) ? encoded : undefined;
    case 'boolean':
      return typeof encoded === 'boolean' ? encoded : undefined;
    case 'date': {
      const time = (encoded as { d?: unknown }).d;
      return typeof time === 'number' && Number.isFinite(time) ? new Date(time) : undefined;
    }
    case 'objectId': {
      const hex = (encoded as { o?: unknown }).o;
      return typeof hex === 'string' && /^[0-9a-f]{24}$/i.test(hex) ? new ObjectIdRef(hex) : undefined;
    }
  }
}

/** HMAC-SHA256 signed cursors. Without a secret, one random key per process (cursors die on restart). */
export function createCursorCodec(secret?: string | Buffer): CursorCodec {
  const hmac = hmacSha256(secret === undefined ? randomBytes(32) : Buffer.from(secret));
  const sign = (binding: string, body: string) => hmac(`${binding}\n${body}`).subarray(0, 18);
  return {
    encode(values, binding) {
      const body = Buffer.from(JSON.stringify(values.map(encodeValue))).toString('base64url');
      return `${body}.${sign(binding, body).toString('base64url')}`;
    },
    decode(token, binding, types) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN) return undefined;
      const dot = token.indexOf('.');
      if (dot <= 0) return undefined;
      const body = token.slice(0, dot);
      const signature = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = sign(binding, body);
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      if (!Array.isArray(parsed) || parsed.length !== types.length) return undefined;
      const values: (FilterValue | null)[] = [];
      for (let i = 0; i < types.length; i++) {
        const value = decodeValue(parsed[i], types[i]!);
        if (value === undefined) return undefined;
        values.push(value);
      }
      return values;
    },
  };
}

function equalTo(field: string, value: FilterValue | null): FilterNode {
  return value === null ? { kind: 'cond', op: 'null', field, value: true } : { kind: 'cond', op: 'eq', field, value };
}

// Ascending order puts null (and missing) first, descending last, as MongoDB sorts them.
function after(key: SortKey, value: FilterValue | null): FilterNode {
  if (key.direction === 1) {
    return value === null
      ? { kind: 'cond', op: 'null', field: key.field, value: false }
      : { kind: 'cond', op: 'gt', field: key.field, value };
  }
  if (value === null) return matchNone;
  return or(
    { kind: 'cond', op: 'lt', field: key.field, value },
    { kind: 'cond', op: 'null', field: key.field, value: true },
  );
}

/** The keyset condition "sorts after these values": (k1 > v1) or (k1 = v1 and k2 > v2) or … */
export function keysetAfter(sort: readonly SortKey[], values: readonly (FilterValue | null)[]): FilterNode {
  const branches: FilterNode[] = [];
  for (let i = 0; i < sort.length; i++) {
    const prefix: FilterNode[] = [];
    for (let j = 0; j < i; j++) prefix.push(equalTo(sort[j]!.field, values[j]!));
    branches.push(and(...prefix, after(sort[i]!, values[i]!)));
  }
  return or(...branches);
}
