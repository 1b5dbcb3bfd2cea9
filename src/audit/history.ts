// Rebuilds the states of one record from its audit events (scoutr's /history/:item), newest first.
import type { AuditStore } from '../contracts/audit.js';
import type { AuditEvent, AuditUser } from './event.js';

export interface HistoryEntry {
  eventId: string;
  time: string;
  action: string;
  user?: AuditUser;
  /** The record's state after this change; `null` once deleted. */
  state: Record<string, unknown> | null;
}

/** `history(resource, id)`: the states of a record after each change, newest first. */
export type HistoryFunction = (resource: string, id: string) => Promise<HistoryEntry[]>;

// Soft-delete routers restore and purge without a change set; they still change the record's state.
const STATE_ACTIONS = new Set(['RESTORE', 'PURGE']);

function isChange(event: AuditEvent): boolean {
  if (event.outcome !== undefined && event.outcome !== 'allowed') return false;
  return event.changes !== undefined || STATE_ACTIONS.has(event.action);
}

/** Folds change events (oldest first) into states; returns them newest first. */
export function rebuildHistory(events: readonly AuditEvent[]): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  let state: Record<string, unknown> | null = null;
  let deleted: Record<string, unknown> | null = null;
  for (const event of events) {
    if (!isChange(event)) continue;
    const { before = {}, after = {} } = event.changes ?? {};
    if (event.action === 'DELETE' || event.action === 'PURGE') {
      deleted = event.action === 'DELETE' ? (state ?? (event.changes?.before ? { ...before } : null)) : null;
      state = null;
    } else if (event.action === 'RESTORE') state = deleted;
    else if (event.action === 'CREATE' || state === null) state = { ...after };
    else {
      const next: Record<string, unknown> = { ...state };
      for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) delete next[key];
      Object.assign(next, after);
      state = next;
    }
    entries.push({ eventId: event.id, time: event.time, action: event.action, user: event.user, state });
  }
  return entries.reverse();
}

export interface HistoryOptions {
  /** Most change events read for one record. Default 10 000. */
  maxEvents?: number;
}

/** A `history(resource, id)` function over a store, for the audit router and the CRUD router's `history` option. */
export function createHistory(store: AuditStore, options: HistoryOptions = {}): HistoryFunction {
  const maxEvents = options.maxEvents ?? 10_000;
  return async function history(resource: string, id: string): Promise<HistoryEntry[]> {
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({
        where: { resource, resourceId: String(id) },
        order: 'asc',
        limit: 1000,
        cursor,
      });
      events.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor && events.length < maxEvents);
    // Events of several processes interleave by time; inside one stream seq breaks ties.
    events.sort((a, b) => (a.time === b.time ? a.seq - b.seq : a.time < b.time ? -1 : 1));
    return rebuildHistory(events);
  };
}
