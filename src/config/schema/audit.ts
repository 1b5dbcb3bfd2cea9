// Variables of audit capture: publishing, retention, batching, fallback queue and signed digests.
import {
  booleanVar,
  defineVariables,
  durationVar,
  enumVar,
  integerVar,
  stringVar,
  TIMER_MAX_MS,
} from '../variables.js';

export const auditVariables = defineVariables({
  AUDIT_ENABLED: booleanVar({ default: true, description: 'When false, no audit event is published.' }),
  AUDIT_RETENTION: durationVar({
    default: 365 * 86_400_000,
    min: 60_000,
    description: 'How long audit events are kept (MongoDB TTL index, Redis `XTRIM MINID`).',
  }),
  AUDIT_READ_RETENTION: durationVar({
    min: 60_000,
    description: 'How long GET, LIST and SEARCH events are kept, when shorter than `AUDIT_RETENTION`.',
  }),
  AUDIT_BATCH_SIZE: integerVar({ default: 500, min: 1, max: 10_000, description: 'Audit events per store write.' }),
  AUDIT_WRITE_CONCURRENCY: integerVar({
    default: 1,
    min: 1,
    max: 16,
    description: 'Full batches of audit events written to the store at once while it is healthy (2 suits MongoDB).',
  }),
  AUDIT_DURABILITY: enumVar({
    values: ['async', 'acknowledged'],
    default: 'async',
    description:
      '`acknowledged`: the answer to a change (any method but GET, HEAD, OPTIONS) waits until its audit event is in the store or a durable fallback queue, so kill -9 loses no acknowledged change’s event. `async`: the event follows the answer within `AUDIT_FLUSH_INTERVAL`. Acknowledged changes ran at 0.4–0.64× the async rate into FerretDB; docs/audit.md says which to choose.',
  }),
  AUDIT_FLUSH_INTERVAL: durationVar({
    max: TIMER_MAX_MS,
    default: 200,
    description: 'Longest time an audit event waits in memory before it is written.',
  }),
  AUDIT_BUFFER_LIMIT: integerVar({
    default: 20_000,
    min: 1,
    description: 'Audit events buffered in memory before requests wait for room (backpressure).',
  }),
  AUDIT_WRITE_TIMEOUT: durationVar({
    max: TIMER_MAX_MS,
    default: 3000,
    min: 10,
    description: 'An audit store write slower than this goes to the fallback queue instead.',
  }),
  AUDIT_SIGNING_KEY: stringVar({
    secret: true,
    pattern: /^.{16,512}$/,
    description: 'HMAC key signing audit digests; without it events are chained but no digest is signed.',
  }),
  AUDIT_DIGEST_INTERVAL: durationVar({
    max: TIMER_MAX_MS,
    default: 60_000,
    min: 100,
    description:
      'How often a signed digest of each audit stream is written (also without new events); `audit verify` expects one this often.',
  }),
  AUDIT_DIGEST_GRACE: durationVar({
    default: 60_000,
    description:
      'Extra time `audit verify` allows a live stream past `AUDIT_DIGEST_INTERVAL` before it reports the stream cut short.',
  }),
  AUDIT_DIGEST_PIN_FILE: stringVar({
    description:
      "File outside the store where the pipeline pins each stream's newest digest; `audit verify` checks the store still holds it (one file per process). Needs AUDIT_SIGNING_KEY.",
  }),
  AUDIT_FALLBACK_FILE: stringVar({
    description: 'Local append-only file that keeps audit events when both the store and Redis are down.',
  }),
  AUDIT_STREAM_MAXLEN: integerVar({
    default: 1_000_000,
    min: 1000,
    description: 'Approximate most events kept in the Redis audit stream.',
  }),
});
