// Checks a range of stored events against their hash chains and signed digests and names what was tampered.
import { GENESIS_HASH, eventHash } from './canonical.js';
import { digestSignatureValid } from './digest.js';
import type { AuditDigest, AuditEvent } from './event.js';

export type TamperKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'bad-digest';

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
  /** Events after the last digest of their stream: chained, but not yet signed. */
  unsigned: number;
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
}

/**
 * Verifies events (any order) and digests. Each stream must be gap-free from its first present event
 * (earlier ones may have expired or lie outside the range), each hash must match its event, each event
 * must link to its predecessor, and each digest must be validly signed and match the stored chain.
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
  const digestsByStream = new Map<string, AuditDigest[]>();
  let digestCount = 0;
  for (const digest of digests) {
    digestCount++;
    const list = digestsByStream.get(digest.stream);
    if (list) list.push(digest);
    else digestsByStream.set(digest.stream, [digest]);
  }

  const from = options.from?.toISOString();
  const to = options.to?.toISOString();
  const inRange = (digest: AuditDigest) =>
    (from === undefined || digest.lastTime >= from) && (to === undefined || digest.lastTime < to);
  // Within a stream problems stay in chain order; streams are ordered by the time of their first problem.
  const perStream: VerifyProblem[][] = [];
  let unsigned = 0;
  let total = 0;
  const names = new Set([...streams.keys(), ...digestsByStream.keys()]);
  for (const stream of names) {
    const list = (streams.get(stream) ?? []).sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
    const streamProblems = checkChain(stream, list);
    const bySeq = new Map(list.map((event) => [event.seq, event]));
    const streamDigests = (digestsByStream.get(stream) ?? []).filter(inRange);
    const signed = checkDigests(stream, streamDigests, list, bySeq, options.key);
    streamProblems.push(...signed.problems);
    streamProblems.sort((a, b) => a.seq - b.seq);
    unsigned += signed.unsigned;
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
    unsigned,
    first: problems[0],
    problems,
  };
}

function byTimeThenSeq(a: VerifyProblem, b: VerifyProblem): number {
  const at = a.time ?? '';
  const bt = b.time ?? '';
  if (at !== bt) return at < bt ? -1 : 1;
  return a.seq - b.seq;
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
      if (!intact) problem('modified', event, `event ${event.id} does not match its hash`);
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
        problem('modified', event, `event ${event.id} does not match its hash`);
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
      problem('modified', event, `event ${event.id} does not match its hash`);
    }
    prev = event;
  }
  return problems;
}

function checkDigests(
  stream: string,
  digests: AuditDigest[],
  list: AuditEvent[],
  bySeq: Map<number, AuditEvent>,
  key: string | Buffer | undefined,
): { problems: VerifyProblem[]; unsigned: number } {
  const problems: VerifyProblem[] = [];
  digests.sort((a, b) => a.toSeq - b.toSeq);
  const firstSeq = list[0]?.seq ?? Infinity;
  const lastSeq = list.at(-1)?.seq ?? 0;
  let signedUpTo = 0;
  let previous: AuditDigest | undefined;
  for (const digest of digests) {
    if (key !== undefined && !digestSignatureValid(digest, key)) {
      problems.push({
        kind: 'bad-digest',
        stream,
        seq: digest.toSeq,
        time: digest.lastTime,
        message: `digest ${digest.id} has an invalid signature (forged, altered, or signed with another key)`,
      });
      previous = digest;
      continue;
    }
    if (previous && previous.toSeq + 1 === digest.fromSeq && digest.prevSignature !== previous.signature) {
      problems.push({
        kind: 'bad-digest',
        stream,
        seq: digest.fromSeq,
        time: digest.lastTime,
        message: `digest ${digest.id} does not chain to the previous digest`,
      });
    }
    previous = digest;
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
    } else if (digest.toSeq > lastSeq) {
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
  const unsigned = list.filter((event) => event.seq > signedUpTo).length;
  return { problems, unsigned };
}
