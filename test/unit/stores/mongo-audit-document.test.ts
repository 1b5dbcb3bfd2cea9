// The MongoDB audit document: every event comes back exactly as it was sealed, and each field is stored once.
import { expect } from 'chai';
import { BSON } from 'mongodb';
import { canonicalJson, eventHash as hashOfRecord } from '../../../src/audit/canonical.js';
import type { AuditEvent } from '../../../src/audit/event.js';
import { fromDocument, toDocument, type AuditDocument } from '../../../stores/mongodb/audit-document.js';

const HASH = 'a'.repeat(64);
const eventHash = (event: object) => hashOfRecord(event as Record<string, unknown>);

function sealed(fields: Record<string, unknown>): AuditEvent {
  const event = {
    id: '0190d6a2-7c1e-7000-8000-000000000001',
    time: '2026-11-23T01:02:03.456Z',
    action: 'UPDATE',
    stream: 'p.w',
    seq: 3,
    prevHash: HASH,
    ...fields,
  } as unknown as AuditEvent;
  event.hash = eventHash(event);
  return event;
}

/** Through BSON as the driver sends it and a server returns it. */
function roundTrip(event: AuditEvent): AuditEvent {
  const stored = BSON.deserialize(BSON.serialize(toDocument(event, Date.parse(event.time) + 1000)));
  return fromDocument(stored as AuditDocument);
}

describe('MongoDB audit document', function () {
  it('stores the queryable fields as fields and the rest once, as JSON', function () {
    const event = sealed({
      resource: 'accounts',
      resourceId: '7',
      status: 200,
      method: 'PUT',
      path: '/accounts/7',
      requestId: 'r-1',
      outcome: 'allowed',
      user: { id: 'u1', name: 'Ann', kind: 'user', sourceIp: '10.0.0.7', userAgent: 'curl/8' },
      body: { email: 'a***@example.com', seats: 3 },
      decision: { allowed: true, deciders: ['p1'] },
    });
    const document = toDocument(event, Date.parse(event.time) + 1000);
    expect(document).to.include({
      _id: event.id,
      action: 'UPDATE',
      resourceId: '7',
      status: 200,
      seq: 3,
      hash: event.hash,
    });
    expect(document.user).to.deep.equal(event.user);
    expect(document.time.toISOString()).to.equal(event.time);
    expect(document.expireAt.getTime()).to.equal(Date.parse(event.time) + 1000);
    expect(JSON.parse(document.rest!)).to.deep.equal({ body: event.body, decision: event.decision });
    expect(document).not.to.have.property('json');
    expect(canonicalJson(roundTrip(event))).to.equal(canonicalJson(event));
    expect(eventHash(roundTrip(event))).to.equal(event.hash);
  });

  it('keeps in the JSON what a field could not hold exactly', function () {
    const event = sealed({
      // A lone surrogate would become U+FFFD in BSON's UTF-8; NUL is kept away from the server too.
      path: '/x\ud800',
      requestId: 'a\u0000b',
      resource: { not: 'a string' },
      status: '200',
      // Extra or non-string user fields stay beside the stored ones.
      user: { id: 'u1', name: 'Ann\udc00', roles: ['admin'], kind: 'user' },
      // A time that is valid but not in the canonical form a Date gives back.
      time: '2026-11-23T03:02:03.456+02:00',
    });
    const document = toDocument(event, 0);
    expect(document).not.to.have.any.keys('path', 'requestId', 'resource', 'status');
    expect(document.user).to.deep.equal({ id: 'u1', kind: 'user' });
    const back = roundTrip(event);
    expect(back).to.deep.equal(event);
    expect(eventHash(back)).to.equal(event.hash);
  });

  it('keeps a non-object user and an own __proto__ key as data', function () {
    const event = sealed({ user: 'system' });
    Object.defineProperty(event, '__proto__', { value: { polluted: true }, enumerable: true });
    const back = roundTrip(event) as unknown as Record<string, unknown>;
    expect(back.user).to.equal('system');
    expect(Object.getPrototypeOf(back)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).to.deep.equal({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('changes the hash when any stored part is edited', function () {
    const event = sealed({ resourceId: '7', user: { id: 'u1', sourceIp: '10.0.0.7' }, body: { seats: 3 } });
    const document = toDocument(event, 0);
    const edits: ((d: AuditDocument) => void)[] = [
      (d) => (d.resourceId = '8'),
      (d) => (d.user!.sourceIp = '10.0.0.8'),
      (d) => (d.rest = JSON.stringify({ body: { seats: 4 } })),
      (d) => (d.time = new Date(d.time.getTime() + 1)),
      (d) => (d.seq = 4),
      (d) => delete d.resourceId,
    ];
    for (const edit of edits) {
      const copy = BSON.deserialize(BSON.serialize(document)) as AuditDocument;
      edit(copy);
      expect(eventHash(fromDocument(copy)), edit.toString()).not.to.equal(event.hash);
    }
  });

  it('still reads documents of the earlier form, with the whole event as JSON beside indexed copies', function () {
    const event = sealed({ resource: 'accounts', resourceId: '7', user: { id: 'u1', sourceIp: '10.0.0.7' } });
    const legacy = {
      _id: event.id,
      time: new Date(event.time),
      expireAt: new Date(0),
      action: event.action,
      resource: 'accounts',
      resourceId: '7',
      stream: event.stream,
      seq: event.seq,
      hash: event.hash,
      user: { id: 'u1' },
      json: JSON.stringify(event),
    } as AuditDocument;
    const back = fromDocument(legacy);
    expect(back).to.deep.equal(event);
    expect(eventHash(back)).to.equal(event.hash);
    const edited = fromDocument({ ...legacy, resourceId: '8' }) as AuditEvent & { storageMismatch?: string[] };
    expect(edited.storageMismatch).to.deep.equal(['resourceId']);
    expect(eventHash(edited)).not.to.equal(event.hash);
  });

  it('reads an unparsable JSON part as an event without its payload (which then fails its hash)', function () {
    const event = sealed({ body: { seats: 3 } });
    const document = { ...toDocument(event, 0), rest: '{not json' };
    const back = fromDocument(document);
    expect(back).not.to.have.property('body');
    expect(eventHash(back)).not.to.equal(event.hash);
  });
});
