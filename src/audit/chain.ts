// The hash chain: seals each event with its stream, sequence number and the previous event's hash.
import { randomBytes } from 'node:crypto';
import { GENESIS_HASH, canonicalJson, sealHash } from './canonical.js';
import { READ_ACTIONS, type AuditEvent, type AuditEventBody } from './event.js';

export interface ChainHead {
  stream: string;
  seq: number;
  hash: string;
  time: string;
}

/** A new stream prefix: sortable by creation time, unique per process. */
export function newStreamPrefix(now: number): string {
  return `${now.toString(36)}-${randomBytes(6).toString('hex')}`;
}

/**
 * Keeps one chain per retention class (`<prefix>.w` for changes and custom events, `<prefix>.r` for
 * reads) so that read events expiring sooner only ever shorten their own chain from its old end.
 * A process starts new streams rather than continuing an old one, so no store read is needed at start
 * and several processes never race for one chain.
 */
export class HashChain {
  readonly prefix: string;
  readonly #heads = new Map<string, ChainHead>();

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  streamFor(action: string): string {
    return `${this.prefix}.${READ_ACTIONS.has(action) ? 'r' : 'w'}`;
  }

  /**
   * Seals a plain-JSON event body; calls must happen in the order events are to be chained. `canonical`,
   * when given, is `canonicalJson(body)`, so the body is not serialized again. With `owned`, the body
   * (which nothing else holds) becomes the event instead of being copied.
   */
  seal(body: AuditEventBody, canonical = canonicalJson(body), owned = false): AuditEvent {
    const stream = this.streamFor(body.action);
    const head = this.#heads.get(stream);
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = sealHash(canonical, stream, seq, prevHash);
    const event = (owned ? body : { ...body }) as AuditEvent;
    event.stream = stream;
    event.seq = seq;
    event.prevHash = prevHash;
    event.hash = hash;
    this.#heads.set(stream, { stream, seq: event.seq, hash: event.hash, time: event.time });
    return event;
  }

  heads(): ChainHead[] {
    return [...this.#heads.values()];
  }
}
