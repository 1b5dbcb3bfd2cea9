// In-memory audit store: the embedded default, with retention by age and the same listing rules as the others.
import { systemClock, type Clock } from '../../src/clock.js';
import type { AuditDigest, AuditEvent } from '../../src/audit/event.js';
import { READ_ACTIONS } from '../../src/audit/event.js';
import { checkLimit, compareEvents, encodeCursor, queryPredicate } from '../../src/audit/query.js';
import type { AuditPage, AuditQuery, AuditScanOptions, AuditStore } from '../../src/contracts/audit.js';

export interface MemoryAuditStoreOptions {
  /** How long events are kept, in ms. Default: forever. */
  retention?: number;
  /** How long GET, LIST and SEARCH events are kept, in ms. Default: `retention`. */
  readRetention?: number;
  /** Most events kept; the oldest go first. Default 100 000. */
  maxEvents?: number;
  now?: Clock;
}

export class MemoryAuditStore implements AuditStore {
  readonly backend = 'memory' as const;
  // Kept in (time, id) order so listing is a binary search away from a slice.
  #events: AuditEvent[] = [];
  readonly #ids = new Map<string, AuditEvent>();
  readonly #digests: AuditDigest[] = [];
  readonly #options: MemoryAuditStoreOptions;
  readonly #now: Clock;

  constructor(options: MemoryAuditStoreOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? systemClock;
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    const list = this.#events;
    let late = false;
    for (const event of events) {
      if (this.#ids.has(event.id)) continue;
      // Read paths hand out copies; the pipeline never touches an event after sealing it.
      this.#ids.set(event.id, event);
      if (list.length > 0 && compareEvents(list[list.length - 1]!, event) > 0) late = true;
      list.push(event);
    }
    // Late events (same millisecond, replayed batches): a stable sort of a list that is sorted but for them.
    if (late) list.sort(compareEvents);
    this.#expire();
  }

  async get(id: string): Promise<AuditEvent | undefined> {
    if (typeof id !== 'string') return undefined;
    const event = this.#ids.get(id);
    return event && this.#live(event) ? structuredClone(event) : undefined;
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const limit = checkLimit(query.limit);
    const matches = queryPredicate(query);
    const events: AuditEvent[] = [];
    const ascending = query.order === 'asc';
    const length = this.#events.length;
    for (let step = 0; step < length && events.length <= limit; step++) {
      const event = this.#events[ascending ? step : length - 1 - step]!;
      if (this.#live(event) && matches(event)) events.push(event);
    }
    const more = events.length > limit;
    const page = events.slice(0, limit).map((event) => structuredClone(event));
    return more ? { events: page, nextCursor: encodeCursor(page.at(-1)!) } : { events: page };
  }

  async writeDigest(digest: AuditDigest): Promise<void> {
    if (!this.#digests.some((existing) => existing.id === digest.id)) this.#digests.push(structuredClone(digest));
  }

  async digests(options: AuditScanOptions = {}): Promise<AuditDigest[]> {
    return this.#digests
      .filter((digest) => options.stream === undefined || digest.stream === options.stream)
      .map((digest) => structuredClone(digest));
  }

  async *scan(options: AuditScanOptions = {}): AsyncIterable<AuditEvent> {
    const matches = queryPredicate({ limit: 1, from: options.from, to: options.to });
    for (const event of [...this.#events]) {
      if (options.stream !== undefined && event.stream !== options.stream) continue;
      if (options.afterSeq !== undefined && !(event.seq > options.afterSeq)) continue;
      if (this.#live(event) && matches(event)) yield structuredClone(event);
    }
  }

  /** For tests of tamper detection: direct access to the stored objects. */
  unsafeEvents(): AuditEvent[] {
    return this.#events;
  }

  #live(event: AuditEvent): boolean {
    const retention = READ_ACTIONS.has(event.action)
      ? (this.#options.readRetention ?? this.#options.retention)
      : this.#options.retention;
    return retention === undefined || Date.parse(event.time) + retention > this.#now();
  }

  #expire(): void {
    const max = this.#options.maxEvents ?? 100_000;
    if (this.#events.length <= max) return;
    for (const event of this.#events.splice(0, this.#events.length - max)) this.#ids.delete(event.id);
  }
}
