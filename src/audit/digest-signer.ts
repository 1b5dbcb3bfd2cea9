// Signs digests of this process's own audit streams, tracking how far each is stored in the primary store.
import type { Clock } from '../clock.js';
import type { AuditStore } from '../contracts/audit.js';
import { errorForLog, type Logger } from '../logger.js';
import { signDigest } from './digest.js';
import type { AuditDigest, AuditEvent } from './event.js';
import { pinOf, writePinFile } from './pin.js';
import { withDeadline } from './timeout.js';

export interface DigestSignerOptions {
  store: AuditStore;
  /** This process's stream prefix: only streams under it are signed here. */
  streamPrefix: string;
  signingKey: string;
  /** How often digests are signed, in ms. */
  digestInterval: number;
  /** A store call slower than this counts as failed, in ms. */
  writeTimeout: number;
  pinFile: string | undefined;
  /**
   * True once this process's fallback queues no longer hold its batches (replayed by it or by another
   * process): only then are its queued ranges looked up in the store, once, instead of at every round.
   */
  queuesDrained(): boolean;
  logger: Logger;
  now: Clock;
}

/** Consecutive events of one stream: their seq range and the last one's hash and time. */
interface Range {
  from: number;
  to: number;
  hash: string;
  time: string;
  /** Time of the range's first event. */
  fromTime: string;
}

interface StreamState {
  /** The highest seq whose events, and all before it, are known to be in the store. */
  seq: number;
  hash: string;
  time: string;
  /** Stored ranges past a gap (batches may be stored out of order), merged in as the gap closes. */
  stored: Range[];
  /** Ranges handed to a fallback queue and not yet seen stored: any process may replay them. */
  queued: Range[];
  /** Time of event 1, once a range holding it was stored or queued: the first digest's `sinceTime`. */
  firstTime: string;
  /** The newest digest written. */
  last: AuditDigest | undefined;
  /** A digest whose write failed or timed out: written again, unchanged, before the next is signed. */
  unconfirmed: AuditDigest | undefined;
}

function rangesOf(events: readonly AuditEvent[], prefix: string): Map<string, Range> {
  const ranges = new Map<string, Range>();
  for (const event of events) {
    if (!event.stream.startsWith(prefix)) continue;
    const range = ranges.get(event.stream);
    if (!range) {
      const { seq, hash, time } = event;
      ranges.set(event.stream, { from: seq, to: seq, hash, time, fromTime: time });
    } else if (event.seq > range.to) Object.assign(range, { to: event.seq, hash: event.hash, time: event.time });
  }
  return ranges;
}

/**
 * Only a stream's owner signs it: the digest chain is one writer's, and a second signer would fork it. The
 * owner also learns of its events that another process replayed from a shared queue (this one being stuck
 * or slow): before signing a stream with queued ranges it looks them up in the store, so its digests and its
 * close record cover them. Only this process's own view of its chain is signed (the queued ranges' hashes,
 * kept when they were queued), never what the store says.
 */
export class DigestSigner {
  readonly #options: DigestSignerOptions;
  readonly #prefix: string;
  readonly #streams = new Map<string, StreamState>();
  readonly #timer: NodeJS.Timeout;
  #signing: Promise<void> | undefined;
  /** Digests written. */
  written = 0;

  constructor(options: DigestSignerOptions) {
    this.#options = options;
    this.#prefix = `${options.streamPrefix}.`;
    this.#timer = setInterval(() => {
      this.#signing ??= this.sign().finally(() => (this.#signing = undefined));
    }, options.digestInterval);
    this.#timer.unref();
  }

  /** Events the primary store accepted (from this process's writes or replays). */
  onStored(events: readonly AuditEvent[]): void {
    for (const [stream, range] of rangesOf(events, this.#prefix)) {
      const state = this.#state(stream, range);
      state.stored.push(range);
      this.#advance(state);
    }
  }

  /** Events handed to a fallback queue. */
  onQueued(events: readonly AuditEvent[]): void {
    for (const [stream, range] of rangesOf(events, this.#prefix)) this.#state(stream, range).queued.push(range);
  }

  /** Waits for a running round, stops the timer and signs each stream's close record. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#signing;
    await this.sign(true);
  }

  /**
   * Signs a digest of each own stream: of the events stored since the last one, or of none (a heartbeat,
   * `fromSeq` past `toSeq`). With `final` (the close record) it also covers the events still waiting in a
   * fallback queue: they are durable and will be replayed, by this process or another, and the stream
   * ends there.
   */
  async sign(final = false): Promise<void> {
    let written = 0;
    for (const [stream, state] of this.#streams) {
      if (state.queued.length > 0 && this.#options.queuesDrained()) await this.#catchUp(stream, state);
      // A write that timed out may still have landed: write that same digest again (stores keep one copy per
      // id) before signing the next, or two digests would follow the same one and the chain would fork.
      if (state.unconfirmed) {
        if (!(await this.#write(state, state.unconfirmed))) continue;
        written++;
      }
      const end = final ? this.#durableEnd(state) : state;
      if (!end.hash) continue;
      const previous = state.last;
      const advanced = end.seq > (previous?.toSeq ?? 0);
      const digest = signDigest(
        {
          stream,
          fromSeq: (previous?.toSeq ?? 0) + 1,
          toSeq: advanced ? end.seq : previous!.toSeq,
          lastHash: advanced ? end.hash : previous!.lastHash,
          lastTime: advanced ? end.time : previous!.lastTime,
          prevSignature: previous?.signature ?? '',
          sinceTime: previous?.lastTime ?? state.firstTime,
          ...(final ? { final: true } : {}),
        },
        this.#options.signingKey,
        this.#options.now(),
      );
      if (await this.#write(state, digest)) written++;
    }
    const { pinFile } = this.#options;
    if (written > 0 && pinFile) {
      const pins = [...this.#streams.values()].flatMap((state) => (state.last ? [pinOf(state.last)] : []));
      await writePinFile(pinFile, pins).catch((error: unknown) =>
        this.#options.logger.warn({ err: errorForLog(error), file: pinFile }, 'audit digest pin not written'),
      );
    }
  }

  async #write(state: StreamState, digest: AuditDigest): Promise<boolean> {
    try {
      await withDeadline(this.#options.store.writeDigest(digest), this.#options.writeTimeout);
      state.last = digest;
      state.unconfirmed = undefined;
      this.written++;
      return true;
    } catch (error) {
      state.unconfirmed = digest;
      this.#options.logger.warn(
        { err: errorForLog(error), stream: digest.stream },
        'audit digest not written; retrying later',
      );
      return false;
    }
  }

  #state(stream: string, range: Range): StreamState {
    let state = this.#streams.get(stream);
    // This process's streams start at seq 1 (a later batch may be stored first).
    if (!state) {
      state = {
        seq: 0,
        hash: '',
        time: '',
        firstTime: '',
        stored: [],
        queued: [],
        last: undefined,
        unconfirmed: undefined,
      };
      this.#streams.set(stream, state);
    }
    if (range.from === 1) state.firstTime = range.fromTime;
    return state;
  }

  #advance(state: StreamState): void {
    state.stored.sort((a, b) => a.from - b.from);
    while (state.stored.length > 0 && state.stored[0]!.from <= state.seq + 1) {
      const next = state.stored.shift()!;
      if (next.to > state.seq) Object.assign(state, { seq: next.to, hash: next.hash, time: next.time });
    }
    if (state.queued.length > 0) state.queued = state.queued.filter((range) => range.to > state.seq);
  }

  /**
   * Moves the queued ranges that another process stored (every one of their events is there) to stored.
   * Called once the queues are drained, so a range still missing was lost with its queue (a Redis without
   * persistence restarted): it is dropped with an error, and the stream's digests stop before the gap.
   */
  async #catchUp(stream: string, state: StreamState): Promise<void> {
    const after = state.seq;
    const seqs = new Set<number>();
    const collect = async () => {
      for await (const event of this.#options.store.scan({ stream, afterSeq: after })) {
        if (event.seq > after) seqs.add(event.seq);
      }
    };
    try {
      await withDeadline(collect(), this.#options.writeTimeout);
    } catch (error) {
      this.#options.logger.warn({ err: errorForLog(error), stream }, 'audit stream not checked for replayed events');
      return;
    }
    const found = state.queued.filter((range) => {
      for (let seq = range.from; seq <= range.to; seq++) if (!seqs.has(seq)) return false;
      return true;
    });
    const lost = state.queued.filter((range) => !found.includes(range));
    if (lost.length > 0) {
      const events = lost.reduce((sum, range) => sum + range.to - range.from + 1, 0);
      this.#options.logger.error({ stream, events }, 'audit events queued by this process are in no queue or store');
    }
    state.queued = [];
    state.stored.push(...found);
    this.#advance(state);
  }

  /** Where the stream ends counting the queued ranges too (contiguous from the stored part). */
  #durableEnd(state: StreamState): { seq: number; hash: string; time: string } {
    const end = { seq: state.seq, hash: state.hash, time: state.time };
    const ranges = [...state.stored, ...state.queued].sort((a, b) => a.from - b.from);
    for (const range of ranges) {
      if (range.from > end.seq + 1) break;
      if (range.to > end.seq) Object.assign(end, { seq: range.to, hash: range.hash, time: range.time });
    }
    return end;
  }
}
