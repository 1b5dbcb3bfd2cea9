// Enrichers (cased's DataPlugin): functions that add fields to every event before it is sealed.
import { randomFillSync } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AuditEventInput } from './event.js';

/**
 * Returns fields to add to an event. Known event fields (`id`, `time`, `resource`, ...) are set when the
 * event lacks them; any other field goes into the event's `data`. It must not throw; a throwing enricher is
 * skipped and logged.
 */
export type Enricher = (event: Readonly<AuditEventInput>) => Record<string, unknown> | undefined;

/**
 * UUIDv7 ids, monotonic within a process: 48 bits of milliseconds, a 12-bit counter, 62 random bits. Events
 * of one millisecond then list in the order they were published, since stores order by (time, id).
 */
export function uuidV7Generator(now: Clock): () => string {
  let lastMs = 0;
  let counter = 0;
  // One call to the CSPRNG per 512 ids: a call per id cost about a tenth of the pipeline's CPU.
  const pool = Buffer.alloc(8 * 512);
  let offset = pool.length;
  return function uuidV7() {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter > 0xfff) {
        ms = ++lastMs;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    lastMs = ms;
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const at = offset;
    offset += 8;
    const hex = ms.toString(16).padStart(12, '0').slice(-12);
    const a = (0x7000 | counter).toString(16);
    const b = ((pool[at]! & 0x3f) | 0x80).toString(16).padStart(2, '0') + pool.toString('hex', at + 1, at + 2);
    return `${hex.slice(0, 8)}-${hex.slice(8)}-${a}-${b}-${pool.toString('hex', at + 2, at + 8)}`;
  };
}

/** The default enricher: a unique, time-ordered id and an ISO timestamp (cased's default plugin). */
export function defaultEnricher(now: Clock): Enricher {
  const nextId = uuidV7Generator(now);
  return function idAndTime() {
    return { id: nextId(), time: new Date(now()).toISOString() };
  };
}
