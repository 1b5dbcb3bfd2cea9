// A policy change in one process is seen by a decision in another process within a second (real servers).
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { allow, deny } from '../../src/abac/policy.js';
import { rules, type PolicyStore } from 'portcullis';
import { MongoPolicyStore } from '../../stores/mongodb/policies.js';
import { RedisPolicyStore } from '../../stores/redis/policies.js';
import { deleteKeys, sharedMongo, sharedRedis, sharedRedisCluster, uniqueName } from '../support/connections.js';

const { Any, Eq } = rules;
const child = fileURLToPath(new URL('./abac-child.ts', import.meta.url));

class Peer {
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #pending: ((line: string) => void)[] = [];

  constructor(backend: string, name: string) {
    this.#process = spawn(process.execPath, ['--import', 'tsx', child, backend, name], { env: process.env });
    this.#lines = createInterface({ input: this.#process.stdout });
    this.#lines.on('line', (line) => this.#pending.shift()?.(line));
  }

  next(timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the peer process did not answer')), timeoutMs);
      this.#pending.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  async ask(inquiry: object): Promise<{ allowed: boolean; cached: boolean }> {
    const answer = this.next();
    this.#process.stdin.write(`${JSON.stringify(inquiry)}\n`);
    return JSON.parse(await answer) as { allowed: boolean; cached: boolean };
  }

  /** Milliseconds until the peer's answer becomes `allowed`, polling every 10 ms. */
  async timeUntil(inquiry: object, allowed: boolean, limitMs = 5000): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < limitMs) {
      if ((await this.ask(inquiry)).allowed === allowed) return performance.now() - started;
      await sleep(10);
    }
    return Infinity;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#process.once('exit', resolve));
    this.#process.stdin.end('quit\n');
    await Promise.race([exited, sleep(5000).then(() => this.#process.kill())]);
  }
}

const inquiry = { subject: 'alice', action: 'read', resource: 'report' };

for (const backend of ['redis', 'redis cluster', 'mongodb'] as const) {
  describe(`ABAC across processes (${backend})`, function () {
    this.timeout(60_000);
    let store: PolicyStore;
    let peer: Peer | undefined;
    let cleanup: () => Promise<void>;

    before(async function () {
      const name = uniqueName('abac_cross');
      if (backend !== 'mongodb') {
        const client = backend === 'redis' ? await sharedRedis() : await sharedRedisCluster();
        store = new RedisPolicyStore({ client, prefix: `${name}:` });
        cleanup = () => deleteKeys(client, `*${name}:*`);
      } else {
        const connection = await sharedMongo();
        store = new MongoPolicyStore({ connection, collection: name });
        cleanup = async () => {
          for (const suffix of ['', '_meta', '_changes', '_migrations', '_snapshot']) {
            await connection.dropCollection(`${name}${suffix}`).catch(() => false);
          }
        };
      }
      await store.init?.();
      peer = new Peer(backend, name);
      expect(await peer.next()).to.equal('ready');
    });

    after(async function () {
      await peer?.stop();
      await cleanup();
    });

    it('sees an added, a deny-overriding and a deleted policy within a second, despite its decision cache', async function () {
      expect((await peer!.ask(inquiry)).allowed).to.be.false;
      expect((await peer!.ask(inquiry)).cached).to.be.true;

      await store.add(
        allow({ uid: 'read-reports', subjects: [Any()], actions: [Eq('read')], resources: [Eq('report')] }),
      );
      expect(await peer!.timeUntil(inquiry, true)).to.be.below(1000);

      await store.add(deny({ uid: 'not-alice', subjects: [Eq('alice')], actions: [Any()], resources: [Any()] }));
      expect(await peer!.timeUntil(inquiry, false)).to.be.below(1000);

      await store.delete('not-alice');
      expect(await peer!.timeUntil(inquiry, true)).to.be.below(1000);
    });
  });
}
