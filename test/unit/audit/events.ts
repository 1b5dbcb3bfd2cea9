// Test helper: sealed audit events built through a real hash chain.
import { randomUUID } from 'node:crypto';
import { HashChain } from '../../../src/audit/chain.js';
import type { AuditEvent, AuditEventBody } from '../../../src/audit/event.js';

export function sealedEvents(
  count: number,
  make: (index: number) => Partial<AuditEventBody> = () => ({}),
  chain = new HashChain(`test-${randomUUID().slice(0, 8)}`),
  start = Date.parse('2026-01-01T00:00:00.000Z'),
): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let index = 0; index < count; index++) {
    const body: AuditEventBody = {
      id: randomUUID(),
      time: new Date(start + index * 1000).toISOString(),
      action: 'UPDATE',
      resource: 'accounts',
      resourceId: String(index % 3),
      user: { id: `u${index % 2}`, name: `User ${index % 2}` },
      ...make(index),
    };
    events.push(chain.seal(JSON.parse(JSON.stringify(body)) as AuditEventBody));
  }
  return events;
}
