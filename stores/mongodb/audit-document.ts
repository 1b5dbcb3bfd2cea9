// How an audit event is stored in MongoDB: its queryable fields as fields, everything else as one JSON
// string, and each field only once, so what verification hashes is exactly what the document holds.
import { READ_ACTIONS, type AuditEvent } from '../../src/audit/event.js';
import { setOwn } from '../../src/own.js';

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
const FIELDS = [...STRING_FIELDS, ...SEAL_STRINGS, ...NUMBER_FIELDS];
const USER_FIELDS = new Set(['id', 'name', 'kind', 'apiKeyId', 'sourceIp', 'userAgent']);
// How toDocument places each top-level key: `id` and `time` have their own fields, others go to `rest`.
const PLACEMENT = new Map<string, 'string' | 'number' | 'user' | 'own'>([
  ...[...STRING_FIELDS, ...SEAL_STRINGS].map((key) => [key, 'string'] as const),
  ...NUMBER_FIELDS.map((key) => [key, 'number'] as const),
  ['user', 'user'],
  ['id', 'own'],
  ['time', 'own'],
]);

/**
 * A string that comes back from BSON unchanged: a lone surrogate would be replaced in UTF-8, and some
 * servers (FerretDB on SQLite) store strings in a form where NUL is awkward.
 */
function storable(value: unknown): value is string {
  return typeof value === 'string' && value.isWellFormed() && !value.includes('\u0000');
}

/** How long events are kept: reads (GET, LIST, SEARCH) may expire sooner than changes. */
export interface AuditRetention {
  retention: number;
  readRetention: number;
}

/** When an event may be deleted, in ms since the epoch. */
export function expiryOf(event: AuditEvent, { retention, readRetention }: AuditRetention): number {
  return Date.parse(event.time) + (READ_ACTIONS.has(event.action) ? readRetention : retention);
}

/** The document for a sealed event; `expireAt` is when it may be deleted. */
export function toDocument(event: AuditEvent, expireAt: number): AuditDocument {
  const source = event as unknown as Record<string, unknown>;
  const time = new Date(Date.parse(event.time));
  const document: Record<string, unknown> = { _id: event.id, time, expireAt: new Date(expireAt) };
  const rest: Record<string, unknown> = {};
  // A time that is not in its canonical ISO form would come back changed from the date: kept as written.
  if (time.toISOString() !== event.time) rest.time = event.time;
  // One pass over the event's own keys, each placed once.
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    switch (PLACEMENT.get(key)) {
      case 'own':
        break;
      case 'string':
        if (storable(value)) document[key] = value;
        else rest[key] = value;
        break;
      case 'number':
        if (Number.isFinite(value)) document[key] = value;
        else rest[key] = value;
        break;
      case 'user':
        placeUser(value, document, rest);
        break;
      default:
        setOwn(rest, key, value);
    }
  }
  document.rest = JSON.stringify(rest);
  return document as unknown as AuditDocument;
}

/** The user's string fields queries use as a `user` field; anything else about the user in `rest.user`. */
function placeUser(user: unknown, document: Record<string, unknown>, rest: Record<string, unknown>): void {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    rest.user = user;
    return;
  }
  const native: Record<string, string> = {};
  let other: Record<string, unknown> | undefined;
  for (const key of Object.keys(user)) {
    const value = (user as Record<string, unknown>)[key];
    if (USER_FIELDS.has(key) && storable(value)) native[key] = value;
    else setOwn((other ??= {}), key, value);
  }
  document.user = native;
  if (other) rest.user = other;
}

// Every key toDocument writes; any other key was added to the document after it was written.
const DOCUMENT_KEYS = new Set(['_id', 'time', 'expireAt', 'rest', 'user', ...FIELDS]);

/**
 * The event a document holds, whichever form it was written in. With `retention` (the store's), a document
 * changed since it was written is named on the event (`storageMismatch`, which also breaks its hash): a key
 * toDocument never writes, or an `expireAt` before the event's time plus its retention (which would have the
 * server delete it early). A later `expireAt` deletes nothing early and is accepted: documents written
 * before the retention was shortened keep theirs.
 */
export function fromDocument(document: AuditDocument, retention?: AuditRetention): AuditEvent {
  if (typeof document.json === 'string' && document.rest === undefined) return fromLegacyDocument(document);
  const event = fromFieldsAndRest(document);
  const mismatched = Object.keys(document).filter((key) => !DOCUMENT_KEYS.has(key));
  const expireAt = document.expireAt;
  if (retention && !(expireAt instanceof Date && expireAt.getTime() >= expiryOf(event, retention))) {
    mismatched.push('expireAt');
  }
  if (mismatched.length > 0) (event as unknown as Record<string, unknown>).storageMismatch = mismatched;
  return event;
}

function fromFieldsAndRest(document: AuditDocument): AuditEvent {
  const stored = document as unknown as Record<string, unknown>;
  const rest = parseObject(document.rest);
  const event: Record<string, unknown> = { id: document._id };
  if (document.time instanceof Date && !Number.isNaN(document.time.getTime())) event.time = document.time.toISOString();
  for (const key of FIELDS) {
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
