// `portcullis audit verify`: checks the hash chains and signed digests of stored audit events.
import type { AuditDigest, AuditEvent } from '../../audit/event.js';
import { parsePinFile } from '../../audit/pin.js';
import { verifyEvents, type DigestPin, type VerifyReport } from '../../audit/verify.js';
import { auditVariables } from '../../config/schema/audit.js';
import type { AuditStore } from '../../contracts/audit.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, type CliIO, type Command } from '../command.js';

const usage = `Usage: portcullis audit verify [SOURCE] [--from TIME] [--to TIME] [--stream NAME] [--key-env VAR] [--pin FILE]

Checks every stored audit event in the range against its hash chain and the signed digests, and
names the first event that was modified, deleted, inserted or reordered, the first digest missing from
the digest chain, and each stream cut short: one that ends neither with a signed close record nor with
a digest made within AUDIT_DIGEST_INTERVAL + AUDIT_DIGEST_GRACE. Prints one JSON line:
  {"ok": true|false, "events": N, "streams": N, "digests": N, "unsigned": N, "pending": N, "closed": N,
   "first": {...}, "problems": [...]}
Exit status: 0 intact (unsigned events only of live streams, within the grace), 1 tampering or
unverifiable events found, 2 bad input.

SOURCE (default: MongoDB at $MONGODB_URI):
  --mongodb URI        a MongoDB server; --collection NAME (default portcullis_audit)
  --redis URL          a Redis audit stream; --prefix PREFIX (default portcullis:)
  --redis-cluster URLS the audit shards on a Redis Cluster: comma-separated node URLs; --prefix as above
  --file FILE          events as JSON lines (an export); --digests FILE for their digests

  --from TIME, --to TIME   ISO 8601 bounds on event time (from inclusive, to exclusive)
  --stream NAME            only this stream
  --key-env VAR            environment variable holding the signing key (default AUDIT_SIGNING_KEY);
                           without a key, digest signatures are not checked
  --pin FILE               a pipeline's pin file (AUDIT_DIGEST_PIN_FILE, the default); repeatable: each
                           pinned digest must still be in the store
  With --to, how streams end is not checked (the slice ends by choice). Without --from, a stream's oldest
  events and digests may be missing only once older than AUDIT_RETENTION (AUDIT_READ_RETENTION for read
  streams): give the store's values.

Example: MONGODB_URI=mongodb://localhost/app AUDIT_SIGNING_KEY=... portcullis audit verify --from 2026-01-01`;

/** Where `audit verify` reads events and digests from. */
export interface AuditSource {
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>;
  digests: AuditDigest[];
  close(): Promise<void>;
}

export interface SourceRequest {
  kind: 'mongodb' | 'redis' | 'redis-cluster';
  /** The store's retention (`AUDIT_RETENTION`, `AUDIT_READ_RETENTION`), in ms: what each stored expiry must honour. */
  retention?: number;
  readRetention?: number;
  url: string;
  collection?: string;
  prefix?: string;
  from?: Date;
  to?: Date;
  stream?: string;
}

/**
 * Opens a store through the backend entry points (`portcullis/mongodb`, `portcullis/redis`), loaded only when
 * this command runs, so the CLI starts without a driver and still reads the stores applications write.
 */
async function openStore(request: SourceRequest): Promise<AuditSource> {
  const range = { from: request.from, to: request.to, stream: request.stream };
  let store: AuditStore;
  let close: () => Promise<void>;
  if (request.kind === 'mongodb') {
    const backend = await import('../../../stores/mongodb/index.js');
    const connection = await backend.connectMongo(request.url, { connectTimeoutMs: 5000 });
    const { retention, readRetention } = request;
    store = new backend.MongoAuditStore({ connection, collection: request.collection, retention, readRetention });
    close = () => connection.close();
  } else {
    const backend = await import('../../../stores/redis/index.js');
    const client =
      request.kind === 'redis-cluster'
        ? await backend.connectRedisCluster(request.url.split(','), { connectTimeoutMs: 5000 })
        : await backend.connectRedis(request.url, { connectTimeoutMs: 5000 });
    store = new backend.RedisAuditStore({ client, prefix: request.prefix });
    close = async () => void (await client.quit());
  }
  try {
    return { events: store.scan(range), digests: await store.digests({ stream: request.stream }), close };
  } catch (error) {
    await close();
    throw error;
  }
}

function parseLines<T>(text: string, what: string): T[] {
  const items: T[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line) as T);
    } catch {
      throw new UsageError(`${what} line ${index + 1} is not valid JSON`);
    }
  }
  return items;
}

function parseTime(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`${option} needs an ISO 8601 time`);
  return new Date(time);
}

interface Parsed {
  request?: SourceRequest;
  file?: string;
  digestsFile?: string;
  keyEnv: string;
  pins: string[];
  from?: Date;
  to?: Date;
  stream?: string;
}

const VERIFY_OPTIONS = {
  mongodb: { type: 'string' },
  collection: { type: 'string' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  prefix: { type: 'string' },
  file: { type: 'string' },
  digests: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  stream: { type: 'string' },
  'key-env': { type: 'string' },
  pin: { type: 'string', multiple: true },
} as const;

function parseVerifyArgs(args: string[], io: CliIO): Parsed {
  const { values } = parseCommandArgs(args, VERIFY_OPTIONS);
  const { mongodb, redis, collection, prefix } = values;
  if (collection !== undefined && !/^[A-Za-z0-9_.-]{1,120}$/.test(collection))
    throw new UsageError('--collection has an invalid name');
  const parsed: Parsed = { keyEnv: values['key-env'] ?? 'AUDIT_SIGNING_KEY', pins: values.pin ?? [] };
  if (values.file !== undefined) parsed.file = values.file;
  if (values.digests !== undefined) parsed.digestsFile = values.digests;
  const from = parseTime(values.from, '--from');
  const to = parseTime(values.to, '--to');
  if (from) parsed.from = from;
  if (to) parsed.to = to;
  if (values.stream !== undefined) parsed.stream = values.stream;
  if (parsed.pins.length === 0 && io.env.AUDIT_DIGEST_PIN_FILE) parsed.pins.push(io.env.AUDIT_DIGEST_PIN_FILE);
  const cluster = values['redis-cluster'];
  const sources = [mongodb, redis, cluster, parsed.file].filter((source) => source !== undefined);
  if (sources.length > 1) throw new UsageError('give one source: --mongodb, --redis, --redis-cluster or --file');
  if (parsed.file === undefined) {
    if (redis !== undefined) parsed.request = { kind: 'redis', url: checkUrl(redis, ['redis:', 'rediss:'], '--redis') };
    else if (cluster !== undefined) {
      const nodes = cluster.split(',').map((node) => checkUrl(node.trim(), ['redis:', 'rediss:'], '--redis-cluster'));
      parsed.request = { kind: 'redis-cluster', url: nodes.join(',') };
    } else {
      const url = mongodb ?? io.env.MONGODB_URI;
      if (!url) throw new UsageError('no source: give --mongodb URI, --redis URL or --file FILE (or set MONGODB_URI)');
      parsed.request = { kind: 'mongodb', url: checkUrl(url, ['mongodb:', 'mongodb+srv:'], '--mongodb') };
    }
    Object.assign(parsed.request, { collection, prefix, from: parsed.from, to: parsed.to, stream: parsed.stream });
  }
  return parsed;
}

function checkUrl(url: string, protocols: string[], option: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${option} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol))
    throw new UsageError(`${option} must start with ${protocols.join(' or ')}//`);
  return url;
}

type DurationName = 'AUDIT_DIGEST_INTERVAL' | 'AUDIT_DIGEST_GRACE' | 'AUDIT_RETENTION' | 'AUDIT_READ_RETENTION';

/** A duration variable the pipeline and stores also read, parsed by its own declaration. */
function duration(io: CliIO, name: DurationName, fallback?: number): number {
  const spec = auditVariables[name];
  const raw = io.env[name];
  if (raw === undefined || raw.trim() === '') return ('default' in spec ? spec.default : undefined) ?? fallback!;
  try {
    return spec.parse(raw);
  } catch (error) {
    throw new UsageError(`${name} ${(error as Error).message}`);
  }
}

async function readPins(paths: string[], io: CliIO): Promise<DigestPin[]> {
  const pins: DigestPin[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await io.readFile(path);
    } catch {
      throw new UsageError(`cannot read the pin file ${path}`);
    }
    try {
      pins.push(...parsePinFile(text));
    } catch (error) {
      throw new UsageError(`the pin file ${path} ${(error as Error).message}`);
    }
  }
  return pins;
}

function inRange(event: AuditEvent, parsed: Parsed): boolean {
  if (parsed.stream !== undefined && event.stream !== parsed.stream) return false;
  if (parsed.from && event.time < parsed.from.toISOString()) return false;
  return !(parsed.to && event.time >= parsed.to.toISOString());
}

/** The `audit` command; `open` is injectable so tests and embedders can supply their own store. */
export function auditCommand(open: (request: SourceRequest) => Promise<AuditSource> = openStore): Command {
  return {
    name: 'audit',
    summary: 'Verify the tamper-evident audit trail: portcullis audit verify',
    usage,
    async run(args, io) {
      const [sub, ...rest] = args;
      if (sub !== 'verify') throw new UsageError(sub ? `unknown audit command "${sub}"` : 'expected: audit verify');
      const parsed = parseVerifyArgs(rest, io);
      const digestInterval = duration(io, 'AUDIT_DIGEST_INTERVAL');
      const grace = duration(io, 'AUDIT_DIGEST_GRACE');
      const retention = duration(io, 'AUDIT_RETENTION');
      const readRetention = duration(io, 'AUDIT_READ_RETENTION', retention);
      const pins = (await readPins(parsed.pins, io)).filter(
        (pin) => parsed.stream === undefined || pin.stream === parsed.stream,
      );
      let source: AuditSource;
      if (parsed.file !== undefined) {
        const read = async (path: string, what: string) => {
          try {
            return await io.readFile(path);
          } catch {
            throw new UsageError(`cannot read the ${what} file ${path}`);
          }
        };
        const events = parseLines<AuditEvent>(await read(parsed.file, 'events'), 'events').filter((event) =>
          inRange(event, parsed),
        );
        const digests = parsed.digestsFile
          ? parseLines<AuditDigest>(await read(parsed.digestsFile, 'digests'), 'digests')
          : [];
        source = { events, digests, close: async () => undefined };
      } else {
        source = await open({ ...parsed.request!, retention, readRetention });
      }
      let report: VerifyReport;
      try {
        const events: AuditEvent[] = [];
        for await (const event of source.events) events.push(event);
        const key = io.env[parsed.keyEnv];
        report = verifyEvents(events, source.digests, {
          key: key || undefined,
          from: parsed.from,
          to: parsed.to,
          digestInterval,
          grace,
          retention,
          readRetention,
          pins,
        });
      } finally {
        await source.close();
      }
      io.stdout(JSON.stringify({ ...report, problems: report.problems.slice(0, 20) }));
      return report.ok ? 0 : 1;
    },
  };
}

export const auditVerifyCommand: Command = auditCommand();
