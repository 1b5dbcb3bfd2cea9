// PolicyMirror: the process that wrote a policy decides with it as soon as the write resolves, whatever reload
// or change is in flight.
import { expect } from 'chai';
import { allow, deny } from '../../../src/abac/policy.js';
import { Guard, PolicyMirror, rules, type Policy } from 'portcullis';
import type { PolicyChange, PolicyChangeFeed } from '../../../src/contracts/policies.js';
import { MemoryPolicyStore } from '../../../stores/memory/policies.js';

/** A memory store whose feed the test drives, and whose full reads can be held after taking their snapshot. */
class HeldStore extends MemoryPolicyStore implements PolicyChangeFeed {
  onGap: (() => void) | undefined;
  listener: ((change: PolicyChange) => void) | undefined;
  hold: Promise<void> | undefined;

  override async *retrieveAll(batchSize = 1000): AsyncIterable<Policy[]> {
    const snapshot: Policy[][] = [];
    for await (const batch of super.retrieveAll(batchSize)) snapshot.push(batch);
    await this.hold;
    yield* snapshot;
  }

  override async subscribe(listener: (change: PolicyChange) => void, onGap?: () => void) {
    this.listener = listener;
    this.onGap = onGap;
    return async () => undefined;
  }
}

const { Any, Eq } = rules;
const reader = allow({ uid: 'read', subjects: [Any()], actions: [Eq('read')], resources: [Any()] });
const block = deny({ uid: 'block', subjects: [Any()], actions: [Any()], resources: [Eq('doc1')] });
const inquiry = { subject: 'x', action: 'read', resource: 'doc1' };

describe('PolicyMirror read-your-writes', function () {
  let store: HeldStore;
  let mirror: PolicyMirror;
  let release: () => void;

  beforeEach(async function () {
    store = new HeldStore();
    await store.add(reader);
    mirror = new PolicyMirror({ store });
    await mirror.init();
    store.hold = new Promise<void>((resolve) => (release = resolve));
  });

  afterEach(async function () {
    release();
    await mirror.close();
  });

  it('a write made while a reload is in flight is not undone by the reload’s older snapshot', async function () {
    const guard = new Guard({ policies: mirror, cache: true });
    expect(guard.isAllowed(inquiry)).to.equal(true);
    store.onGap!(); // a reload starts and reads its snapshot (without `block`), then waits
    await new Promise((resolve) => setImmediate(resolve));
    const written = mirror.add(block);
    setTimeout(release, 20);
    await written;
    expect(guard.isAllowed(inquiry), 'deny policy in force once add() resolved').to.equal(false);
    await mirror.settled();
    expect(guard.isAllowed(inquiry), 'and still after the reload finished').to.equal(false);
  });

  it('an update and a delete are in force once they resolve, reload or not', async function () {
    await mirror.add(block);
    const guard = new Guard({ policies: mirror });
    store.onGap!();
    await new Promise((resolve) => setImmediate(resolve));
    const deleted = mirror.delete('block');
    setTimeout(release, 20);
    expect(await deleted).to.equal(true);
    await mirror.settled();
    expect(guard.isAllowed(inquiry)).to.equal(true);

    store.hold = new Promise<void>((resolve) => (release = resolve));
    store.onGap!();
    await new Promise((resolve) => setImmediate(resolve));
    const narrowed = allow({ uid: 'read', subjects: [Any()], actions: [Eq('read')], resources: [Eq('doc2')] });
    const updated = mirror.update(narrowed);
    setTimeout(release, 20);
    await updated;
    await mirror.settled();
    expect(guard.isAllowed(inquiry)).to.equal(false);
  });
});
