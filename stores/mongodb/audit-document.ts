// How an audit event is stored in MongoDB: its queryable fields as fields, everything else as one JSON
// string, and each field only once, so what verification hashes is exactly what the document holds.
import type { AuditEvent } from '../../src/audit/event.js';
import { isoString } from '../../src/iso-time.js';

/** The stored form. Documents written before `rest` existed hold the whole event in `json` instead. */
export interface AuditDocument {
  _id: string;
  time: Date;
  expireAt: Date;
  action: string;
  resource?: string;
  resourceId?: string;
  outcome?: string;
  status?: number;
  method?: string;
  path?: string;
  requestId?: string;
  stream: string;
  seq: number;
  prevHash?: string;
  hash: string;
  user?: Record<string, string>;
  /** JSON of the event's other fields (payload, decision, data, ...), and of any field kept out of the above. */
  rest?: string;
  /** Legacy form: the whole event, with copies of the fields above beside it. */
  json?: string;
}

// Event fields stored as document fields when they hold a value of this type; a field of another type
// (a custom publisher's choice) stays in `rest`, so it comes back exactly as it went in.
const STRING_FIELDS = ['action', 'resource', 'resourceId', 'outcome', 'method', 'path', 'requestId', 'stream'];
const SEAL_STRINGS = ['prevHash', 'hash'];
const NUMBER_FIELDS = ['status', 'seq'];
const USER_FIELDS = new Set(['id', 'name', 'kind', 'apiKeyId', 'sourceIp', 'userAgent']);
const NATIVE = new Set(['id', 'time', ...STRING_FIELDS, ...SEAL_STRINGS, ...NUMBER_FIELDS, 'user']);

/**
 * A string that comes back from BSON unchanged: a lone surrogate would be replaced in UTF-8, and some
 * servers (FerretDB on SQLite) store strings in a form where NUL is awkward.
 */
function storable(value: unknown): value is string {
  return typeof value === 'string' && value.isWellFormed() && !value.includes('\u0000');
}

/** The document for a sealed event; `expireAt` is when it may be deleted. */
export function toDocument(event: AuditEvent, expireAt: number): AuditDocument {
  const source = event as unknown as Record<string, unknown>;
  const time = Date.parse(event.time);
  const document = { _id: event.id, time: new Date(time), expireAt: new Date(expireAt) } as AuditDocument;
  const target = document as unknown as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  // A time that is not in its canonical ISO form would come back changed from the date: kept as written.
  if (isoString(document.time) !== event.time) rest.time = event.time;
  for (const key of STRING_FIELDS) placeValue(key, storable(source[key]));
  for (const key of SEAL_STRINGS) placeValue(key, storable(source[key]));
  for (const key of NUMBER_FIELDS) placeValue(key, Number.isFinite(source[key]));
  const user = source.user;
  if (user !== null && typeof user === 'object' && !Array.isArray(user)) {
    const native: Record<string, string> = {};
    const other: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(user)) {
      if (USER_FIELDS.has(key) && storable(value)) native[key] = value;
      else setOwn(other, key, value);
    }
    document.user = native;
    if (Object.keys(other).length > 0) rest.user = other;
  } else if (user !== undefined) rest.user = user;
  for (const key in source) {
    if (!NATIVE.has(key) && Object.hasOwn(source, key)) setOwn(rest, key, source[key]);
  }
  document.rest = JSON.stringify(rest);
  return document;

  function placeValue(key: string, native: boolean): void {
    const value = source[key];
    if (value === undefined) return;
    if (native) target[key] = value;
    else rest[key] = value;
  }
}

/** The event a document holds, whichever form it was written in. */
export function fromDocument(document: AuditDocument): AuditEvent {
  return typeof document.json === 'string' && document.rest === undefined
    ? fromLegacyDocument(document)
    : fromFieldsAndRest(document);
}

function fromFieldsAndRest(document: AuditDocument): AuditEvent {
  const stored = document as unknown as Record<string, unknown>;
  const rest = parseObject(document.rest);
  const event: Record<string, unknown> = { id: document._id };
  if (document.time instanceof Date && !Number.isNaN(document.time.getTime())) event.time = isoString(document.time);
  for (const key of [...STRING_FIELDS, ...SEAL_STRINGS, ...NUMBER_FIELDS]) {
    if (stored[key] !== undefined) event[key] = stored[key];
  }
  const restUser = rest.user;
  delete rest.user;
  if (document.user !== undefined) {
    event.user =
      restUser !== null && typeof restUser === 'object' && !Array.isArray(restUser)
        ? { ...document.user, ...restUser }
        : document.user;
  } else if (restUser !== undefined) event.user = restUser;
  // `rest` only holds what the fields above do not (or, for time, what they cannot say exactly).
  for (const key of Object.keys(rest)) setOwn(event, key, rest[key]);
  return event as unknown as AuditEvent;
}

// Legacy documents: the indexed copies overlay the JSON, and any disagreement is named on the event,
// which also breaks its hash, so editing either copy is caught.
const COPIED = ['action', 'resource', 'resourceId', 'outcome', 'status', 'method', 'path', 'requestId', 'stream'];
const COPIED_USER = ['id', 'name', 'kind', 'apiKeyId'];

function fromLegacyDocument(document: AuditDocument): AuditEvent {
  const event = parseObject(document.json);
  const mismatched: string[] = [];
  const overlay = (target: Record<string, unknown>, key: string, value: unknown, name = key) => {
    if (value === target[key]) return;
    mismatched.push(name);
    if (value === undefined) delete target[key];
    else target[key] = value;
  };
  overlay(event, 'id', document._id);
  overlay(event, 'seq', document.seq);
  overlay(event, 'hash', document.hash);
  const time = document.time instanceof Date && !Number.isNaN(document.time.getTime()) ? document.time : undefined;
  overlay(event, 'time', time?.toISOString());
  for (const key of COPIED) overlay(event, key, (document as unknown as Record<string, unknown>)[key]);
  if (document.user || event.user) {
    const user = { ...(event.user as Record<string, unknown>) };
    for (const key of COPIED_USER) overlay(user, key, document.user?.[key], `user.${key}`);
    event.user = user;
  }
  if (mismatched.length > 0) event.storageMismatch = mismatched;
  return event as unknown as AuditEvent;
}

/** `target[key] = value`, except that an own `__proto__` key stays data instead of replacing the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else target[key] = value;
}

function parseObject(json: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json ?? '{}');
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
