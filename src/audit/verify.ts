// Checks a range of stored events against their hash chains and signed digests and names what was tampered.
import { GENESIS_HASH, eventHash } from './canonical.js';
import { digestSignatureValid } from './digest.js';
import type { AuditDigest, AuditEvent } from './event.js';

export type TamperKind =
  'modified' | 'deleted' | 'inserted' | 'reordered' | 'bad-digest' | 'deleted-digest' | 'truncated' | 'unsigned';

/** The newest digest of a stream as written outside the store (`pinFile`), to detect a deleted tail. */
export interface DigestPin {
  stream: string;
  toSeq: number;
  signature: string;
  /** When the digest was made. */
  time: string;
  final?: boolean;
}

export interface VerifyProblem {
  kind: TamperKind;
  stream: string;
  /** The sequence number where the problem shows (for deletions: the first missing one). */
  seq: number;
  /** The event concerned: the modified, inserted or out-of-place one, or the first after a deletion. */
  eventId?: string;
  /** The time of that event, when known, to order problems across streams. */
  time?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  streams: number;
  digests: number;
  /** Events after the last digest of their stream: chained, but not signed. */
  unsigned: number;
  /** Of those, events of live streams within the grace period: not yet signed, not a problem. */
  pending: number;
  /** Streams that end with a signed close record. */
  closed: number;
  /** The earliest problem found; `undefined` when `ok`. */
  first?: VerifyProblem;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** The signing key; without it digest signatures are not checked (and `bad-digest` cannot be found). */
  key?: string | Buffer;
  /** Stop collecting after this many problems. Default 100. */
  maxProblems?: number;
  /** The verified time range, when the events are a slice: digests ending outside it are not checked. */
  from?: Date;
  to?: Date;
  /**
   * Check how each stream ends: it must end with a signed close record, or (a live stream) with a digest
   * made within `digestInterval + grace`; events after the newest digest count as unsigned problems
   * unless their stream is live. Default true, false when `to` is given (a slice ends by choice).
   */
  checkTail?: boolean;
  /** How often the pipeline signs digests (`AUDIT_DIGEST_INTERVAL`), in ms. Default 60 000. */
  digestInterval?: number;
  /** Allowance for slow writes and clock skew on top of `digestInterval`, in ms. Default 60 000. */
  grace?: number;
  /**
   * How long the store keeps events (`AUDIT_RETENTION`), in ms; default 365 days. Events and digests missing
   * before a stream's first present event are accepted only when they are old enough to have expired.
   */
  retention?: number;
  /** How long read streams (`.r`) are kept (`AUDIT_READ_RETENTION`), in ms. Default: `retention`. */
  readRetention?: number;
  /** Digests pinned outside the store: each must still be stored (only checked with `checkTail`). */
  pins?: readonly DigestPin[];
  now?: () => number;
}

/**
 * Verifies events (any order) and digests. Each stream must be gap-free from its first present event
 * (earlier ones may have expired or lie outside the range), each hash must match its event, each event
 * must link to its predecessor, each digest must be validly signed, chain to the previous one and match
 * the stored chain, and (with `checkTail`) each stream must end with a close record or a recent digest.
 */
export function verifyEvents(
  events: Iterable<AuditEvent>,
  digests: Iterable<AuditDigest>,
  options: VerifyOptions = {},
): VerifyReport {
  const maxProblems = options.maxProblems ?? 100;
  const streams = new Map<string, AuditEvent[]>();
  let eventCount = 0;
  for (const event of events) {
    eventCount++;
    const list = streams.get(event.stream);
    if (list) list.push(event);
    else streams.set(event.stream, [event]);
  }
  const to = options.to?.toISOString();
  const digestsByStream = new Map<string, AuditDigest[]>();
  let digestCount = 0;
  for (const digest of digests) {
    // Digests of events after the slice would name those events missing.
    if (to !== undefined && digest.lastTime >= to) continue;
    digestCount++;
    const list = digestsByStream.get(digest.stream);
    if (list) list.push(digest);
    else digestsByStream.set(digest.stream, [digest]);
  }
  const tail: TailOptions | undefined =
    (options.checkTail ?? options.to === undefined)
      ? {
          now: (options.now ?? Date.now)(),
          allowance: (options.digestInterval ?? 60_000) + (options.grace ?? 60_000),
          pins: new Map((options.pins ?? []).map((pin) => [pin.stream, pin])),
        }
      : undefined;

  const from = options.from?.toISOString();
  const retention = options.retention ?? YEAR;
  // Without `from` the whole stored stream is verified, so its head too: a cut head is not expiry.
  const head: HeadOptions | undefined =
    from === undefined
      ? {
          now: (options.now ?? Date.now)(),
          slack: options.grace ?? 60_000,
          retention,
          readRetention: Math.min(options.readRetention ?? retention, retention),
        }
      : undefined;
  // Within a stream problems stay in chain order; streams are ordered by the time of their first problem.
  const perStream: VerifyProblem[][] = [];
  const counts = { unsigned: 0, pending: 0, closed: 0 };
  let total = 0;
  const names = new Set([...streams.keys(), ...digestsByStream.keys(), ...(tail?.pins.keys() ?? [])]);
  for (const stream of names) {
    const list = (streams.get(stream) ?? []).sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
    const streamProblems = checkChain(stream, list);
    const signed = checkDigests(stream, digestsByStream.get(stream) ?? [], list, options.key, from, tail);
    if (head) streamProblems.push(...checkHead(stream, signed.chain, list, head));
    streamProblems.push(...signed.problems);
    streamProblems.sort((a, b) => a.seq - b.seq);
    counts.unsigned += signed.unsigned;
    counts.pending += signed.pending;
    if (signed.closed) counts.closed++;
    if (streamProblems.length > 0) perStream.push(streamProblems);
    total += streamProblems.length;
    if (total >= maxProblems) break;
  }
  perStream.sort((a, b) => byTimeThenSeq(a[0]!, b[0]!));
  const problems = perStream.flat().slice(0, maxProblems);
  return {
    ok: problems.length === 0,
    events: eventCount,
    streams: streams.size,
    digests: digestCount,
    ...counts,
    first: problems[0],
    problems,
  };
}

const YEAR = 365 * 86_400_000;

interface HeadOptions {
  now: number;
  /** Clock skew between the verifier and the store, and the store's expiry lag. */
  slack: number;
  retention: number;
  readRetention: number;
}

interface TailOptions {
  now: number;
  /** Longest time a live stream may go without a digest: interval plus grace. */
  allowance: number;
  pins: Map<string, DigestPin>;
}

function byTimeThenSeq(a: VerifyProblem, b: VerifyProblem): number {
  const at = a.time ?? '';
  const bt = b.time ?? '';
  if (at !== bt) return at < bt ? -1 : 1;
  return a.seq - b.seq;
}

/** Names, when the store told, which parts of the stored record are not the sealed event's. */
function notItsHash(event: AuditEvent): string {
  const mismatch = (event as { storageMismatch?: unknown }).storageMismatch;
  return Array.isArray(mismatch) && mismatch.length > 0
    ? `event ${event.id} does not match its hash: its stored record was changed (${mismatch.join(', ')})`
    : `event ${event.id} does not match its hash`;
}

function checkChain(stream: string, list: AuditEvent[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const byHash = new Map<string, AuditEvent>();
  const referenced = new Set<string>();
  for (const event of list) {
    byHash.set(event.hash, event);
    referenced.add(event.prevHash);
  }
  const isIntact = (event: AuditEvent) => eventHash(event as unknown as Record<string, unknown>) === event.hash;
  const problem = (kind: TamperKind, event: AuditEvent, message: string, seq = event.seq) =>
    problems.push({ kind, stream, seq, eventId: event.id, time: event.time, message });

  let prev: AuditEvent | undefined;
  for (const event of list) {
    const intact = eventHash(event as unknown as Record<string, unknown>) === event.hash;
    if (prev && event.seq === prev.seq) {
      // Two events claim one position: the genuine one is intact and its successor links to it.
      const genuine = (candidate: AuditEvent) =>
        (isIntact(candidate) ? 1 : 0) + (referenced.has(candidate.hash) ? 2 : 0);
      const intruder = genuine(event) > genuine(prev) ? prev : event;
      problem('inserted', intruder, `event ${intruder.id} duplicates position ${event.seq} of the chain`);
      if (intruder === prev) prev = event;
      continue;
    }
    if (!prev) {
      if (!intact) problem('modified', event, notItsHash(event));
      else if (event.seq === 1 && event.prevHash !== GENESIS_HASH) {
        problem('modified', event, `event ${event.id} is first in its stream but links to a predecessor`);
      }
      prev = event;
      continue;
    }
    if (event.prevHash !== prev.hash) {
      const linked = byHash.get(event.prevHash);
      if (linked && linked !== prev) {
        problem('reordered', event, `event ${event.id} is at position ${event.seq} but follows event ${linked.id}`);
      } else if (!intact) {
        problem('modified', event, notItsHash(event));
      } else if (event.seq > prev.seq + 1) {
        problem(
          'deleted',
          event,
          `events ${prev.seq + 1}..${event.seq - 1} are missing before event ${event.id}`,
          prev.seq + 1,
        );
      } else if (byHash.has(prev.hash) && eventHash(prev as unknown as Record<string, unknown>) === prev.hash) {
        // prev is self-consistent but not what event was chained to: prev was replaced by a forged event.
        problem('inserted', prev, `event ${prev.id} replaces the event that ${event.id} was chained to`);
      } else {
        problem('modified', prev, `event ${prev.id} was changed`);
      }
    } else if (!intact) {
      problem('modified', event, notItsHash(event));
    }
    prev = event;
  }
  return problems;
}

/** A digest that signs no new event: a live stream's heartbeat, or a close record after the last digest. */
function signsNothing(digest: AuditDigest): boolean {
  return digest.fromSeq > digest.toSeq;
}

/**
 * Puts a stream's digests in chain order by their `prevSignature` links. A digest whose predecessor is
 * absent starts a segment; only the oldest segment may do so (its predecessors expired), any later one
 * follows deleted digests.
 */
function digestChain(
  stream: string,
  digests: AuditDigest[],
): { ordered: Iterable<AuditDigest>; newest?: AuditDigest; oldest?: AuditDigest; problems: VerifyProblem[] } {
  const problems: VerifyProblem[] = [];
  const bySignature = new Map(digests.map((digest) => [digest.signature, digest]));
  const successors = new Map<string, AuditDigest[]>();
  for (const digest of digests) {
    const list = successors.get(digest.prevSignature);
    if (list) list.push(digest);
    else successors.set(digest.prevSignature, [digest]);
  }
  const position = (a: AuditDigest, b: AuditDigest) =>
    a.toSeq - b.toSeq || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0);
  const starts = digests.filter((d) => d.prevSignature === '' || !bySignature.has(d.prevSignature)).sort(position);
  for (const start of starts.slice(1)) {
    problems.push({
      kind: 'deleted-digest',
      stream,
      seq: start.fromSeq,
      time: start.time,
      message: `signed digests before digest ${start.id} (made ${start.time}) are missing: the digest chain is broken`,
    });
  }
  for (const [signature, list] of successors) {
    if (list.length < 2 || signature === '') continue;
    for (const extra of list.sort(position).slice(1)) {
      problems.push({
        kind: 'bad-digest',
        stream,
        seq: extra.fromSeq,
        time: extra.time,
        message: `digest ${extra.id} follows the same digest as ${list[0]!.id}: the digest chain forks`,
      });
    }
  }
  // A stream signs a heartbeat every interval, so it may have hundreds of thousands of digests: linear walk.
  const ordered = new Set<AuditDigest>();
  for (const start of starts) {
    for (let digest: AuditDigest | undefined = start; digest; digest = successors.get(digest.signature)?.[0]) {
      if (ordered.has(digest)) break;
      ordered.add(digest);
    }
  }
  const ends = digests.filter((digest) => !successors.has(digest.signature)).sort(position);
  return { ordered, newest: ends.at(-1), oldest: starts[0], problems };
}

type DigestChain = ReturnType<typeof digestChain>;

/**
 * A stream may lack its oldest events and digests only once they expired. Signed digests bound how old
 * the missing part is (each signs `sinceTime`, the time of the event before its range, and `lastTime`), so
 * a head deleted while its retention runs is told apart from expiry, as a signed tree head of Certificate
 * Transparency cannot be rolled back. Event times within a stream follow their seq (the pipeline stamps
 * them in the order it seals them).
 */
function checkHead(stream: string, chain: DigestChain, list: AuditEvent[], head: HeadOptions): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const retention = stream.endsWith('.r') ? head.readRetention : head.retention;
  const expiresAt = (time: string) => new Date(Date.parse(time) + retention).toISOString();
  const tooYoung = (time: string | undefined): time is string =>
    time !== undefined && Date.parse(time) + retention > head.now + head.slack;
  const oldest = chain.oldest;
  if (oldest && oldest.prevSignature !== '' && tooYoung(oldest.sinceTime)) {
    problems.push({
      kind: 'deleted-digest',
      stream,
      seq: Math.max(oldest.fromSeq - 1, 1),
      time: oldest.sinceTime,
      message:
        `the digests before digest ${oldest.id} are missing, but the one before it covered events up to ` +
        `${oldest.fromSeq - 1} made at ${oldest.sinceTime}, which expire only at ${expiresAt(oldest.sinceTime)}: ` +
        'the head of the stream was deleted',
    });
  }
  const first = list[0];
  if (!first || first.seq <= 1) return problems;
  // The latest time event first.seq - 1 can be said to be no older than, by a signed digest.
  let bound: string | undefined;
  for (const digest of chain.ordered) {
    const candidates = [
      digest.fromSeq <= first.seq ? digest.sinceTime : undefined,
      !signsNothing(digest) && digest.toSeq < first.seq ? digest.lastTime : undefined,
    ];
    for (const time of candidates) if (time !== undefined && (bound === undefined || time > bound)) bound = time;
  }
  if (tooYoung(bound)) {
    problems.push({
      kind: 'deleted',
      stream,
      seq: first.seq - 1,
      eventId: first.id,
      time: bound,
      message:
        `events before event ${first.id} (seq ${first.seq}) are missing, but event ${first.seq - 1} is signed as ` +
        `made at ${bound} or later and expires only at ${expiresAt(bound)}: the head of the stream was deleted`,
    });
  }
  return problems;
}

function checkDigests(
  stream: string,
  all: AuditDigest[],
  list: AuditEvent[],
  key: string | Buffer | undefined,
  from: string | undefined,
  tail: TailOptions | undefined,
): { problems: VerifyProblem[]; unsigned: number; pending: number; closed: boolean; chain: DigestChain } {
  const problems: VerifyProblem[] = [];
  const valid: AuditDigest[] = [];
  for (const digest of all) {
    if (key !== undefined && !digestSignatureValid(digest, key)) {
      problems.push({
        kind: 'bad-digest',
        stream,
        seq: digest.toSeq,
        time: digest.lastTime,
        message: `digest ${digest.id} has an invalid signature (forged, altered, or signed with another key)`,
      });
    } else valid.push(digest);
  }
  const chain = digestChain(stream, valid);
  problems.push(...chain.problems);
  const bySeq = new Map(list.map((event) => [event.seq, event]));
  const firstSeq = list[0]?.seq ?? Infinity;
  const lastSeq = list.at(-1)?.seq ?? 0;
  let signedUpTo = 0;
  for (const digest of chain.ordered) {
    const last = bySeq.get(digest.toSeq);
    if (last) {
      signedUpTo = Math.max(signedUpTo, digest.toSeq);
      if (last.hash !== digest.lastHash) {
        problems.push({
          kind: 'modified',
          stream,
          seq: digest.toSeq,
          eventId: last.id,
          time: last.time,
          message: `the chain up to event ${last.id} was rewritten: it no longer matches signed digest ${digest.id}`,
        });
      }
    } else if (from !== undefined && digest.lastTime < from) {
      // Its events lie before the verified range.
    } else if (digest.toSeq > lastSeq && !signsNothing(digest)) {
      const missingFrom = lastSeq + 1;
      problems.push({
        kind: 'deleted',
        stream,
        seq: missingFrom,
        time: digest.lastTime,
        eventId: list.at(-1)?.id,
        message: `events ${missingFrom}..${digest.toSeq} are missing: signed digest ${digest.id} covers them`,
      });
    } else if (digest.toSeq >= firstSeq) {
      // A gap inside the present range; checkChain already names it.
      signedUpTo = Math.max(signedUpTo, digest.toSeq);
    }
  }
  const newest = chain.newest;
  const closed = newest?.final === true;
  const after = list.filter((event) => event.seq > Math.max(signedUpTo, newest?.toSeq ?? 0));
  const unsigned = after.length;
  if (!tail) return { problems, unsigned, pending: 0, closed, chain };
  let pending = 0;
  const pin = tail.pins.get(stream);
  if (pin && !valid.some((digest) => digest.signature === pin.signature)) {
    problems.push({
      kind: 'truncated',
      stream,
      seq: pin.toSeq,
      time: pin.time,
      message: `pinned digest of events up to ${pin.toSeq} (made ${pin.time}) is missing from the store: the stream was cut`,
    });
  }
  const firstAfter = after[0];
  if (closed) {
    if (firstAfter) {
      problems.push({
        kind: 'unsigned',
        stream,
        seq: firstAfter.seq,
        eventId: firstAfter.id,
        time: firstAfter.time,
        message: `${unsigned} events follow the signed close record of the stream`,
      });
    }
    return { problems, unsigned, pending, closed, chain };
  }
  // A live stream signs a digest every interval; one that did not for longer was cut or stopped uncleanly.
  const since = newest ? Date.parse(newest.time) : firstAfter ? Date.parse(firstAfter.time) : undefined;
  if (since === undefined) return { problems, unsigned, pending, closed, chain };
  if (tail.now - since <= tail.allowance) {
    pending = unsigned;
  } else {
    const end = newest
      ? `its newest signed digest (events up to ${newest.toSeq}, made ${newest.time})`
      : 'no signed digest';
    problems.push({
      kind: 'truncated',
      stream,
      seq: (newest?.toSeq ?? 0) + 1,
      eventId: firstAfter?.id,
      time: newest?.time ?? firstAfter?.time,
      message:
        `the stream has no close record and ${end} is older than the digest interval plus grace ` +
        `(${tail.allowance} ms): events or digests after it were removed, or its process stopped uncleanly` +
        (unsigned > 0 ? `; ${unsigned} events after it are unverified` : ''),
    });
  }
  return { problems, unsigned, pending, closed, chain };
}
