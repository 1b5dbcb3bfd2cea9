// Enrichers (cased's DataPlugin): functions that add fields to every event before it is sealed.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AuditEventInput } from './event.js';

/**
 * Returns fields to add to an event. Known event fields (`id`, `time`, `resource`, ...) are set when the
 * event lacks them; any other field goes into the event's `data`. It must not throw; a throwing enricher is
 * skipped and logged.
 */
export type Enricher = (event: Readonly<AuditEventInput>) => Record<string, unknown> | undefined;

/** The default enricher: a unique id and an ISO timestamp (cased's default plugin). */
export function defaultEnricher(now: Clock): Enricher {
  return function idAndTime() {
    return { id: randomUUID(), time: new Date(now()).toISOString() };
  };
}
