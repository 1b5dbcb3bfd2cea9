// Child process for the SIGTERM test: publishes events to a store that never answers, then shuts down gracefully.
import { join } from 'node:path';
import { FileReliabilityQueue } from '../../../src/audit/file-queue.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import type { AuditEvent } from '../../../src/audit/event.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';

class DownStore extends MemoryAuditStore {
  override async write(_events: readonly AuditEvent[]): Promise<void> {
    throw new Error('down');
  }
}

const file = new FileReliabilityQueue({ path: join(process.argv[2]!, 'audit.jsonl') });
const pipeline = await createAuditPipeline({
  store: new DownStore(),
  fallbacks: [file],
  flushInterval: 60_000,
  batchSize: 10_000,
});
process.once('SIGTERM', () => {
  void pipeline
    .close()
    .then(() => file.close())
    .then(() => process.exit(0));
});
for (let index = 0; index < 5000; index++) pipeline.record({ action: 'UPDATE', resourceId: String(index) });
process.stdout.write(`published ${pipeline.stats().published}\n`);
setInterval(() => undefined, 1000);
