// Wraps an audit store's write() to record how many writes were in flight at once.
import type { AuditStore } from '../../src/contracts/audit.js';

export interface WriteCounter {
  /** The most writes that were running at the same time. */
  readonly maxRunning: number;
}

export function countConcurrentWrites(store: AuditStore): WriteCounter {
  const write = store.write.bind(store);
  let running = 0;
  const counter = { maxRunning: 0 };
  store.write = async (events) => {
    running++;
    counter.maxRunning = Math.max(counter.maxRunning, running);
    try {
      await write(events);
    } finally {
      running--;
    }
  };
  return counter;
}
