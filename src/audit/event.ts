// The audit event model: what one request, or one fact published by code, leaves in the trail.

/** Who acted, as recorded on an event (scoutr's `user` block plus the principal kind). */
export interface AuditUser {
  id: string;
  kind?: string;
  name?: string;
  /** The public id of the API key that authenticated the request, never its secret. */
  apiKeyId?: string;
  sourceIp?: string;
  userAgent?: string;
}

/** The ABAC decision behind the request, when `authorize()` ran. */
export interface AuditDecision {
  allowed: boolean;
  deciders: string[];
  reason?: string;
}

/** The fields a change touched: their values before and after (creates have no before, deletes no after). */
export interface AuditChanges {
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/** How the request ended: allowed and answered below 400, denied by authorization, or failed otherwise. */
export type AuditOutcome = 'allowed' | 'denied' | 'failed';

/** The chain fields every stored event carries; set by the pipeline, never by callers. */
export interface AuditSeal {
  /** The hash chain this event belongs to: one per pipeline instance and retention class. */
  stream: string;
  /** Position in the stream, from 1, without gaps. */
  seq: number;
  /** `hash` of the previous event of the stream (64 zeros for the first). */
  prevHash: string;
  /** SHA-256 of the event's canonical JSON without `hash`. */
  hash: string;
}

export interface AuditEventBody {
  /** Unique and stable across retries: stores use it to drop duplicates. */
  id: string;
  /** ISO 8601 time of the event, millisecond precision. */
  time: string;
  /** CREATE, UPDATE, DELETE, GET, LIST, SEARCH or any custom action such as `user.login`. */
  action: string;
  resource?: string;
  resourceId?: string;
  outcome?: AuditOutcome;
  status?: number;
  method?: string;
  path?: string;
  pathParams?: Record<string, string>;
  queryParams?: Record<string, unknown>;
  body?: unknown;
  user?: AuditUser;
  decision?: AuditDecision;
  latencyMs?: number;
  requestId?: string;
  changes?: AuditChanges;
  /** Fields from the request-scoped audit context, enrichers and custom publishers. */
  data?: Record<string, unknown>;
}

/** A stored audit event. */
export type AuditEvent = AuditEventBody & AuditSeal;

/** What code publishes: an action and any other event fields; id and time are filled by enrichers. */
export type AuditEventInput = Partial<Omit<AuditEventBody, 'action'>> & { action: string };

/** A signed statement that a stream's events up to `toSeq` ended with `lastHash` (CloudTrail's digest). */
export interface AuditDigest {
  id: string;
  stream: string;
  fromSeq: number;
  toSeq: number;
  lastHash: string;
  /** Time of the last covered event. */
  lastTime: string;
  /** When the digest was made. */
  time: string;
  /** Signature of the stream's previous digest, or '' for its first: digests chain too. */
  prevSignature: string;
  /**
   * A time no event from `fromSeq - 1` on is older than: the previous digest's `lastTime` (the time of event
   * `fromSeq - 1`), or for a stream's first digest the time of its event 1. It bounds when the events and
   * digests before this one can have expired, so a cut head of the stream is told apart from expiry.
   * Absent on digests written before it existed.
   */
  sinceTime?: string;
  /** Identifies the key (first 8 hex chars of its SHA-256), so rotated keys can be told apart. */
  keyId: string;
  /**
   * Set on the close record: the last digest of a stream whose pipeline closed cleanly. A digest with
   * `fromSeq` past `toSeq` signs no new event (a heartbeat, or a close record with nothing new).
   */
  final?: boolean;
  /** HMAC-SHA256 of the digest's canonical JSON without `signature`, hex. */
  signature: string;
}

/** Actions that only read; their events can expire sooner (`readRetention`). */
export const READ_ACTIONS: ReadonlySet<string> = new Set(['GET', 'LIST', 'SEARCH']);
