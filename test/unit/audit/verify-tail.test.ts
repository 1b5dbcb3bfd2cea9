// verifyEvents() on how streams end: live streams within the allowance, close records, stale tails, pins.
import { expect } from 'chai';
import { signDigest } from '../../../src/audit/digest.js';
import type { AuditDigest, AuditEvent } from '../../../src/audit/event.js';
import { pinOf } from '../../../src/audit/pin.js';
import { verifyEvents } from '../../../src/audit/verify.js';
import { sealedEvents } from './events.js';

const KEY = 'a-signing-key-of-some-length';
const options = { key: KEY, digestInterval: 60_000, grace: 30_000 };

/** Digests the way the pipeline signs them: one per batch of events, chained, the last maybe final. */
function digests(events: AuditEvent[], ends: number[], final = false): AuditDigest[] {
  const out: AuditDigest[] = [];
  let previous: AuditDigest | undefined;
  for (const [index, end] of ends.entries()) {
    const last = events[end - 1]!;
    previous = signDigest(
      {
        stream: last.stream,
        fromSeq: (previous?.toSeq ?? 0) + 1,
        toSeq: end,
        lastHash: last.hash,
        lastTime: last.time,
        prevSignature: previous?.signature ?? '',
        ...(final && index === ends.length - 1 ? { final: true } : {}),
      },
      KEY,
      Date.parse(last.time) + 500,
    );
    out.push(previous);
  }
  return out;
}

describe('verifyEvents(): how streams end', function () {
  it('accepts a live stream: newest digest within interval + grace, later events pending', function () {
    const events = sealedEvents(10);
    const signed = digests(events, [4, 8]);
    const now = () => Date.parse(signed[1]!.time) + 80_000;
    const report = verifyEvents(events, signed, { ...options, now });
    expect(report).to.include({ ok: true, unsigned: 2, pending: 2, closed: 0 });
  });

  it('reports a stream without close record whose newest digest is too old as truncated', function () {
    const events = sealedEvents(10);
    const signed = digests(events, [4, 8]);
    const now = () => Date.parse(signed[1]!.time) + 100_000;
    const report = verifyEvents(events, signed, { ...options, now });
    expect(report.ok).to.equal(false);
    expect(report.first).to.include({ kind: 'truncated', seq: 9, eventId: events[8]!.id });
    expect(report.first!.message).to.match(/2 events after it are unverified/);
  });

  it('accepts a closed stream at any later time, and names events stored after its close record', function () {
    const events = sealedEvents(10);
    const closed = digests(events, [4, 8], true);
    const now = () => Date.parse('2030-01-01T00:00:00Z');
    expect(verifyEvents(events.slice(0, 8), closed, { ...options, now })).to.include({ ok: true, closed: 1 });
    const report = verifyEvents(events, closed, { ...options, now });
    expect(report.first).to.include({ kind: 'unsigned', seq: 9 });
  });

  it('names a digest deleted from the middle of the digest chain', function () {
    const events = sealedEvents(12);
    const signed = digests(events, [3, 6, 9, 12], true);
    const report = verifyEvents(events, [signed[0]!, signed[2]!, signed[3]!], options);
    expect(report.problems.map((p) => p.kind)).to.deep.equal(['deleted-digest']);
    expect(report.first).to.include({ seq: 7 });
  });

  it('checks pins: a pinned digest missing from the store is a truncation', function () {
    const events = sealedEvents(8);
    const signed = digests(events, [4, 8], true);
    const pins = [pinOf(signed[1]!)];
    expect(verifyEvents(events, signed, { ...options, pins }).ok).to.equal(true);
    const report = verifyEvents(events.slice(0, 4), signed.slice(0, 1), { ...options, pins });
    expect(report.problems.map((p) => p.kind)).to.include('truncated');
    expect(verifyEvents([], [], { ...options, pins }).first).to.include({ kind: 'truncated', seq: 8 });
  });

  it('does not check how a slice ends (--to)', function () {
    const events = sealedEvents(10);
    const report = verifyEvents(events, digests(events, [4]), { ...options, to: new Date('2027-01-01') });
    expect(report).to.include({ ok: true, unsigned: 6, pending: 0 });
  });
});
