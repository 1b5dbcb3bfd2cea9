// The audit store contract: idempotent batched writes, filtered newest-first listing, digests and a verify scan.
import type { AuditDigest, AuditEvent } from '../audit/event.js';
import type { AuditQueryField } from '../audit/fields.js';
import type { ManagedStore } from './lifecycle.js';

/** A filter compiled elsewhere (the filter language): a MongoDB filter over the event fields and its predicate. */
export interface CompiledAuditFilter {
  /** Over the public field names (`user.id`, `action`...); stores translate names they index differently. */
  mongo: Record<string, unknown>;
  matches(event: AuditEvent): boolean;
}

export interface AuditQuery {
  /** Equality on declared fields; a list means any of its values. */
  where?: Partial<Record<AuditQueryField, string | number | (string | number)[]>>;
  /** A compiled filter ANDed with `where`. */
  filter?: CompiledAuditFilter;
  /** Inclusive lower bound on `time`. */
  from?: Date;
  /** Exclusive upper bound on `time`. */
  to?: Date;
  /** Page size, 1..1000. */
  limit: number;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  /** `desc` (newest first, the default) or `asc`. */
  order?: 'asc' | 'desc';
}

export interface AuditPage {
  events: AuditEvent[];
  /** Present when more events may follow. */
  nextCursor?: string;
}

export interface AuditScanOptions {
  from?: Date;
  to?: Date;
  stream?: string;
  /**
   * Only events with a greater `seq` (with `stream`: how a process finds its events that another one
   * replayed). A hint a store may ignore: callers filter again.
   */
  afterSeq?: number;
}

export interface AuditStore extends ManagedStore {
  /** Stores events; an event whose id is already stored is skipped, so retries never duplicate. */
  write(events: readonly AuditEvent[]): Promise<void>;
  get(id: string): Promise<AuditEvent | undefined>;
  list(query: AuditQuery): Promise<AuditPage>;
  writeDigest(digest: AuditDigest): Promise<void>;
  digests(options?: AuditScanOptions): Promise<AuditDigest[]>;
  /** Every stored, unexpired event in the range, in no particular order, for verification. */
  scan(options?: AuditScanOptions): AsyncIterable<AuditEvent>;
}
