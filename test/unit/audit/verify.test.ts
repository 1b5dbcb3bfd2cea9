// verifyEvents(): intact chains pass; each kind of tampering is named at the first bad event.
import { expect } from 'chai';
import { eventHash } from '../../../src/audit/canonical.js';
import { signDigest } from '../../../src/audit/digest.js';
import type { AuditDigest, AuditEvent } from '../../../src/audit/event.js';
import { verifyEvents } from '../../../src/audit/verify.js';
import { sealedEvents } from './events.js';

const KEY = 'a-signing-key-of-some-length';
/** These cases are about the chain itself; how streams end is tested in verify-tail.test.ts. */
const chainOnly = { checkTail: false };

function digestFor(events: AuditEvent[], from = 1): AuditDigest {
  const last = events.at(-1)!;
  return signDigest(
    {
      stream: last.stream,
      fromSeq: from,
      toSeq: last.seq,
      lastHash: last.hash,
      lastTime: last.time,
      prevSignature: '',
    },
    KEY,
    Date.parse(last.time),
  );
}

function rehash(event: AuditEvent): void {
  event.hash = eventHash(event as unknown as Record<string, unknown>);
}

describe('verifyEvents()', function () {
  it('passes an untouched chain in any storage order and counts unsigned events', function () {
    const events = sealedEvents(10);
    const digest = digestFor(events.slice(0, 8));
    // Verified right after the digest was made: a live stream whose newest events are not signed yet.
    const now = () => Date.parse(digest.time) + 1000;
    const report = verifyEvents([...events].reverse(), [digest], { key: KEY, now });
    expect(report).to.include({ ok: true, events: 10, streams: 1, digests: 1, unsigned: 2, pending: 2 });
    expect(report.first).to.equal(undefined);
  });

  it('names a modified event', function () {
    const events = sealedEvents(10);
    events[4]!.body = { forged: true };
    const report = verifyEvents(events, [digestFor(events)], { key: KEY });
    expect(report.ok).to.equal(false);
    expect(report.first).to.include({ kind: 'modified', seq: 5, eventId: events[4]!.id });
  });

  it('names a deletion in the middle by the first missing seq and the event after the gap', function () {
    const events = sealedEvents(10);
    const kept = events.filter((_, index) => index !== 3 && index !== 4);
    const report = verifyEvents(kept, [], chainOnly);
    expect(report.first).to.include({ kind: 'deleted', seq: 4, eventId: events[5]!.id });
  });

  it('names a deletion at the end through the signed digest', function () {
    const events = sealedEvents(10);
    const report = verifyEvents(events.slice(0, 8), [digestFor(events)], { key: KEY });
    expect(report.first).to.include({ kind: 'deleted', seq: 9 });
  });

  it('names reordered events (positions swapped)', function () {
    const events = sealedEvents(10);
    [events[5]!.seq, events[6]!.seq] = [events[6]!.seq, events[5]!.seq];
    const report = verifyEvents(events, [], chainOnly);
    expect(report.first).to.include({ kind: 'reordered', eventId: events[6]!.id, seq: 6 });
  });

  it('names an event inserted at an existing position', function () {
    const events = sealedEvents(10);
    const forged = { ...events[4]!, id: 'forged', body: { fake: 1 } };
    rehash(forged);
    const report = verifyEvents([...events, forged], [], chainOnly);
    expect(report.first).to.include({ kind: 'inserted', eventId: 'forged', seq: 5 });
  });

  it('catches a chain rewritten with recomputed hashes through the signed digest', function () {
    const events = sealedEvents(10);
    const digest = digestFor(events);
    events[4]!.body = { forged: true };
    for (let index = 4; index < events.length; index++) {
      if (index > 4) events[index]!.prevHash = events[index - 1]!.hash;
      rehash(events[index]!);
    }
    expect(verifyEvents(events, [], chainOnly).ok).to.equal(true);
    const report = verifyEvents(events, [digest], { key: KEY });
    expect(report.first).to.include({ kind: 'modified', seq: 10 });
  });

  it('rejects a digest signed with another key or altered', function () {
    const events = sealedEvents(4);
    const digest = digestFor(events);
    expect(verifyEvents(events, [digest], { key: 'another-key-entirely!', ...chainOnly }).first).to.include({
      kind: 'bad-digest',
    });
    const altered = { ...digest, toSeq: 3, lastHash: events[2]!.hash };
    expect(verifyEvents(events, [altered], { key: KEY, ...chainOnly }).first).to.include({ kind: 'bad-digest' });
  });

  it('accepts a chain whose oldest events expired (a leading gap)', function () {
    const events = sealedEvents(10);
    expect(verifyEvents(events.slice(4), [], chainOnly).ok).to.equal(true);
  });

  it('accepts a missing head only once its retention (per stream class) has run out', function () {
    const DAY = 86_400_000;
    for (const action of ['UPDATE', 'GET']) {
      const events = sealedEvents(10, () => ({ action }));
      const sign = (from: number, to: number, prevSignature: string, sinceTime: string) =>
        signDigest(
          {
            stream: events[0]!.stream,
            fromSeq: from,
            toSeq: to,
            lastHash: events[to - 1]!.hash,
            lastTime: events[to - 1]!.time,
            prevSignature,
            sinceTime,
          },
          KEY,
          Date.parse(events[to - 1]!.time),
        );
      const first = sign(1, 4, '', events[0]!.time);
      const second = sign(5, 10, first.signature, events[3]!.time);
      // Thirty days later: reads (.r) are kept 7 days here, changes 365.
      const now = () => Date.parse(events[3]!.time) + 30 * DAY;
      const options = { ...chainOnly, key: KEY, now, retention: 365 * DAY, readRetention: 7 * DAY };
      const report = verifyEvents(events.slice(4), [second], options);
      if (action === 'GET') {
        expect(report.problems).to.deep.equal([]);
      } else {
        expect(report.problems.map((problem) => problem.kind)).to.deep.equal(['deleted-digest', 'deleted']);
        expect(report.problems[1]).to.include({ seq: 4, eventId: events[4]!.id });
      }
      // The first digest kept, its events gone: its sinceTime and lastTime tell the same.
      const kept = verifyEvents(events.slice(4), [first, second], options);
      expect(kept.ok).to.equal(action === 'GET');
    }
  });
});
