// SIGTERM while keep-alive clients keep sending: the demo stops at once, exits 0, and every answered request
// has its audit event in MongoDB (matched by request id).
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { startDemo } from '../support/demo-process.js';
import { mongoUriFor, requireEnv, uniqueName } from '../support/connections.js';
import { connectMongo } from '../../stores/connections/mongodb.js';

interface Answered {
  status: number;
  requestId: string;
}

function send(base: URL, agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<Answered>((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, requestId: String(res.headers['x-request-id']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('SIGTERM under keep-alive load (demo process, MongoDB + Redis)', function () {
  this.timeout(120_000);

  it('drains at once, exits 0 within SHUTDOWN_TIMEOUT, and loses no answered request’s audit event', async function () {
    const database = uniqueName('shutdown');
    const adminKey = `shut.${randomBytes(24).toString('base64url')}`;
    const demo = await startDemo({
      MONGODB_URI: mongoUriFor(database),
      REDIS_URL: requireEnv('REDIS_URL'),
      ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
      BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      ADMIN_API_KEY: adminKey,
      SHUTDOWN_TIMEOUT: '10s',
    });
    const base = new URL(demo.baseUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const headers = { 'x-api-key': adminKey, 'content-type': 'application/json' };
    const answered: Answered[] = [];
    let failures = 0;
    let running = true;
    const worker = async (n: number) => {
      for (let i = 0; running; i += 1) {
        const patch = i % 3 === 0;
        const path = `/accounts/acc_${String((n % 9) + 1).padStart(4, '0')}`;
        try {
          const answer = patch
            ? await send(base, agent, 'PATCH', path, headers, JSON.stringify({ notes: `load ${n}.${i}` }))
            : await send(base, agent, 'GET', path, headers);
          answered.push(answer);
        } catch {
          failures += 1; // a connection cut before its answer: nothing was acknowledged
          if (demo.child.exitCode !== null) return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, n) => worker(n));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stopped = Date.now();
    const code = await demo.stop();
    const took = Date.now() - stopped;
    running = false;
    await Promise.all(workers);
    agent.destroy();

    expect(code, demo.output()).to.equal(0);
    expect(took).to.be.below(5_000);
    const ok = answered.filter((answer) => answer.status === 200);
    expect(ok.length, JSON.stringify(answered.map((answer) => answer.status))).to.be.above(10);
    expect(answered.filter((answer) => answer.status >= 500)).to.deep.equal([]);

    const connection = await connectMongo(mongoUriFor(database));
    try {
      const stored = await connection
        .collection('portcullis_audit')
        .find({ requestId: { $in: answered.map((answer) => answer.requestId) } }, { projection: { requestId: 1 } })
        .toArray();
      const storedIds = new Set(stored.map((event) => event.requestId as string));
      const missing = answered.filter((answer) => !storedIds.has(answer.requestId));
      expect(missing, `answered without an audit event (failures while stopping: ${failures})`).to.deep.equal([]);
      expect(stored.length, 'one event per request').to.equal(storedIds.size);
    } finally {
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
  });
});
