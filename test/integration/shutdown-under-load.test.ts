// Stopping the demo under keep-alive load, with MongoDB + Redis: every answered request's audit event is stored
// (matched by request id) after SIGTERM, and after kill -9 in the acknowledged durability mode.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { startDemo, type DemoProcess } from '../support/demo-process.js';
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

interface Load {
  demo: DemoProcess;
  database: string;
  adminKey: string;
  answered: Answered[];
  /** Stops the load once the demo has stopped (by the caller's signal). */
  finish(): Promise<number>;
}

async function startLoad(env: Record<string, string>, onlyChanges: boolean): Promise<Load> {
  const database = uniqueName('stop');
  const adminKey = `stop.${randomBytes(24).toString('base64url')}`;
  const demo = await startDemo({
    MONGODB_URI: mongoUriFor(database),
    REDIS_URL: requireEnv('REDIS_URL'),
    ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
    BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
    ADMIN_API_KEY: adminKey,
    // The load is one key's; the rate limit would answer 429 before any route (and so before any audit).
    RATE_LIMIT_MAX: '1000000',
    ...env,
  });
  const base = new URL(demo.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const headers = { 'x-api-key': adminKey, 'content-type': 'application/json' };
  const answered: Answered[] = [];
  let failures = 0;
  let running = true;
  const worker = async (n: number) => {
    for (let i = 0; running; i += 1) {
      const patch = onlyChanges || i % 3 === 0;
      const path = `/accounts/acc_${String((n % 9) + 1).padStart(4, '0')}`;
      try {
        const answer = patch
          ? await send(base, agent, 'PATCH', path, headers, JSON.stringify({ notes: `load ${n}.${i}` }))
          : await send(base, agent, 'GET', path, headers);
        answered.push(answer);
      } catch {
        failures += 1; // a connection cut before its answer: nothing was acknowledged
        if (demo.child.exitCode !== null || demo.child.signalCode !== null) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, n) => worker(n));
  return {
    demo,
    database,
    adminKey,
    answered,
    async finish() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return failures;
    },
  };
}

/** The answered requests whose events are not in the demo's MongoDB audit collection; drops the database. */
async function missingEvents(load: Load): Promise<{ missing: Answered[]; duplicates: number }> {
  const connection = await connectMongo(mongoUriFor(load.database));
  try {
    const stored = await connection
      .collection('portcullis_audit')
      .find({ requestId: { $in: load.answered.map((answer) => answer.requestId) } }, { projection: { requestId: 1 } })
      .toArray();
    const storedIds = new Set(stored.map((event) => event.requestId as string));
    return {
      missing: load.answered.filter((answer) => !storedIds.has(answer.requestId)),
      duplicates: stored.length - storedIds.size,
    };
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}

describe('stopping the demo under keep-alive load (MongoDB + Redis)', function () {
  this.timeout(120_000);

  it('SIGTERM drains at once, exits 0 within SHUTDOWN_TIMEOUT, and loses no answered request’s event', async function () {
    const load = await startLoad({ SHUTDOWN_TIMEOUT: '10s' }, false);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stopped = Date.now();
    const code = await load.demo.stop();
    const took = Date.now() - stopped;
    const failures = await load.finish();

    expect(code, load.demo.output()).to.equal(0);
    expect(took).to.be.below(5_000);
    const statuses = load.answered.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200).length, JSON.stringify(statuses)).to.be.above(10);
    expect(statuses.filter((status) => status >= 500)).to.deep.equal([]);
    const { missing, duplicates } = await missingEvents(load);
    expect(missing, `answered without an audit event (failures while stopping: ${failures})`).to.deep.equal([]);
    expect(duplicates, 'one event per request').to.equal(0);
  });

  it('kill -9 in the acknowledged mode loses no answered change’s event', async function () {
    // A long flush interval would lose many events in the async mode; acknowledged answers must not wait for it.
    const load = await startLoad({ AUDIT_DURABILITY: 'acknowledged', AUDIT_FLUSH_INTERVAL: '2s' }, true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const health = (await (await fetch(`${load.demo.baseUrl}/health`)).json()) as { process: { pid: number } };
    const exited = new Promise((resolve) => load.demo.child.once('exit', resolve));
    process.kill(health.process.pid, 'SIGKILL');
    await exited;
    await load.finish();

    const ok = load.answered.filter((answer) => answer.status === 200);
    expect(ok.length, JSON.stringify(load.answered.map((answer) => answer.status))).to.be.above(10);
    const { missing, duplicates } = await missingEvents({ ...load, answered: ok });
    expect(missing, 'acknowledged changes without an audit event').to.deep.equal([]);
    expect(duplicates).to.equal(0);
  });
});
