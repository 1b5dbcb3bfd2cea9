// Two demo processes on one MongoDB-compatible server and Redis, in the acknowledged audit mode: concurrent
// policy writes through both, a restart of the server under load, and a clean stop. Every answer is matched
// to its stored audit event by request id; none may be a 500, and `audit verify` must pass at the end.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../../src/cli/run.js';
import { connectMongo } from '../../stores/connections/mongodb.js';
import { requireEnv, uniqueName } from '../support/connections.js';
import { startDemo, type DemoProcess } from '../support/demo-process.js';
import { startMongoServer, type ServerHandle } from '../support/servers.js';

const SIGNING_KEY = 'two-process-faults-signing-key-0123456789';
/** How soon after the server is back both processes must answer a change again (MONGODB_RECONNECT_AFTER is 3 s). */
const RECOVERY_BOUND_MS = 20_000;
/** How soon a policy written through one process must be enforced by the other (the change feed polls every 250 ms). */
const PROPAGATION_BOUND_MS = 5_000;

interface Answer {
  process: number;
  method: string;
  path: string;
  status: number;
  requestId: string;
}

describe('two demo processes on FerretDB + Redis: policy writes, a server restart, audit', function () {
  this.timeout(180_000);
  const adminKey = `faults.${randomBytes(24).toString('base64url')}`;
  const database = uniqueName('faults');
  const answers: Answer[] = [];
  let server: ServerHandle;
  let uri: string;
  let demos: DemoProcess[] = [];

  async function send(
    process: number,
    method: string,
    path: string,
    headers: Record<string, string> = { 'x-api-key': adminKey },
    body?: unknown,
  ): Promise<Answer & { body: unknown }> {
    const response = await fetch(`${demos[process]!.baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    const answer = { process, method, path, status: response.status, requestId: response.headers.get('x-request-id')! };
    answers.push(answer);
    return {
      ...answer,
      body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  }

  before(async function () {
    // The server is restarted here, so the test starts its own instead of the run's shared one.
    server = await startMongoServer();
    const url = new URL(server.url);
    url.pathname = `/${database}`;
    uri = url.toString();
    const env = {
      MONGODB_URI: uri,
      REDIS_URL: requireEnv('REDIS_URL'),
      ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
      BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      ADMIN_API_KEY: adminKey,
      RATE_LIMIT_MAX: '1000000',
      RATE_LIMIT_LOGIN_MAX: '1000000',
      // Requests name their client address in X-Forwarded-For: the policies below deny by address.
      TRUST_PROXY: 'loopback',
      AUDIT_DURABILITY: 'acknowledged',
      AUDIT_SIGNING_KEY: SIGNING_KEY,
      AUDIT_DIGEST_INTERVAL: '1s',
      AUDIT_WRITE_TIMEOUT: '1s',
      MONGODB_SERVER_SELECTION_TIMEOUT: '1s',
      MONGODB_RECONNECT_AFTER: '3s',
    };
    demos = await Promise.all([startDemo(env), startDemo(env)]);
  });

  after(async function () {
    await Promise.all(demos.map((demo) => demo.stop().catch(() => undefined)));
    await server?.stop();
  });

  it('40 concurrent policy writes through both: all stored, each enforced by its writer before the 201 and by both soon after', async function () {
    const ip = (i: number) => `10.1.0.${i + 1}`;
    const tokens = await Promise.all(
      [0, 1].map(async (process) => {
        const login = await send(
          process,
          'POST',
          '/auth/login',
          {},
          { username: 'ana', password: 'analyst-demo-password' },
        );
        expect(login.status).to.equal(201);
        return `Bearer ${(login.body as { token: string }).token}`;
      }),
    );
    const asAna = (process: number, address: string) =>
      send(process, 'GET', '/accounts?limit=1', { authorization: tokens[process]!, 'x-forwarded-for': address });
    for (const process of [0, 1]) expect((await asAna(process, ip(0))).status, 'before any policy').to.equal(200);

    const started = Date.now();
    const writes = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const process = i % 2;
        const put = await send(process, 'PUT', `/admin/policies/deny-address-${i}`, undefined, {
          description: `analysts may not use accounts from ${ip(i)}`,
          effect: 'deny',
          subjects: [{ role: { type: 'Eq', value: 'analyst' } }],
          actions: [{ type: 'Any' }],
          resources: [{ type: 'Any' }],
          context: { ip: { type: 'Eq', value: ip(i) } },
        });
        // The writer decides with the policy from its answer on.
        const next = await asAna(process, ip(i));
        return { i, put: put.status, next: next.status };
      }),
    );
    expect(
      writes.filter((write) => write.put !== 201),
      'every PUT created its policy',
    ).to.deep.equal([]);
    expect(
      writes.filter((write) => write.next !== 403),
      'the writing process enforces its policy on the request after the 201',
    ).to.deep.equal([]);

    const written = Date.now();
    const pending = new Set(Array.from({ length: 40 }, (_, i) => i).flatMap((i) => [`0:${i}`, `1:${i}`]));
    while (pending.size > 0) {
      expect(Date.now() - written, `not enforced yet: ${[...pending].join(', ')}`).to.be.below(PROPAGATION_BOUND_MS);
      await Promise.all(
        [...pending].map(async (key) => {
          const [process, i] = key.split(':').map(Number) as [number, number];
          if ((await asAna(process, ip(i))).status === 403) pending.delete(key);
        }),
      );
    }
    const elapsed = Date.now() - written;
    for (const process of [0, 1]) {
      expect((await asAna(process, '10.2.0.1')).status, 'another address is still allowed').to.equal(200);
      const listed = await send(process, 'GET', '/admin/policies');
      const uids = (listed.body as { items?: { uid: string }[] }).items?.map((policy) => policy.uid) ?? [];
      expect(uids.filter((uid) => uid.startsWith('deny-address-')).length, JSON.stringify(listed.body)).to.equal(40);
    }
    expect(answers.filter((answer) => answer.status >= 500)).to.deep.equal([]);
    console.log(
      `      40 policies written through two processes in ${written - started} ms, enforced by both ${elapsed} ms later`,
    );
  });

  it('both processes recover from a restart of the server within the bound, without a 500, and without being restarted', async function () {
    let running = true;
    const worker = async (process: number, n: number) => {
      for (let i = 0; running; i++) {
        const path = `/accounts/acc_${String(((process * 4 + n) % 9) + 1).padStart(4, '0')}`;
        const answer =
          i % 2 === 0
            ? await send(process, 'PATCH', path, undefined, { notes: `restart ${process}.${n}.${i}` })
            : await send(process, 'GET', path);
        if (answer.status !== 200) await sleep(50);
      }
    };
    const workers = [0, 1].flatMap((process) => [0, 1].map((n) => worker(process, n)));
    const from = answers.length;
    await sleep(1500);
    await server.stop({ keepData: true });
    await sleep(3000);
    await server.start();
    const restarted = Date.now();
    const recovered = await Promise.all(
      [0, 1].map(async (process) => {
        for (;;) {
          const answer = await send(process, 'PATCH', '/accounts/acc_0009', undefined, { notes: 'back?' });
          if (answer.status === 200) return Date.now() - restarted;
          expect(Date.now() - restarted, `process ${process} still answers ${answer.status}`).to.be.below(
            RECOVERY_BOUND_MS,
          );
          await sleep(250);
        }
      }),
    );
    await sleep(1000);
    running = false;
    await Promise.all(workers);

    const during = answers.slice(from);
    const statuses = new Set(during.map((answer) => answer.status));
    expect(
      [...statuses].filter((status) => status !== 200 && status !== 503),
      `only 200 and 503; the processes logged:\n${demos.map((demo) => demo.output()).join('\n')}`,
    ).to.deep.equal([]);
    expect(statuses.has(503), 'the outage was seen').to.equal(true);
    for (const process of [0, 1]) {
      const health = await fetch(`${demos[process]!.baseUrl}/health`);
      expect(health.status, `process ${process} /health`).to.equal(200);
    }
    console.log(`      recovered ${recovered.map((ms) => `${ms} ms`).join(' and ')} after the server restarted`);
  });

  it('stops both cleanly; every answered change has exactly one stored event and `audit verify` passes', async function () {
    const codes = await Promise.all(demos.map((demo) => demo.stop()));
    expect(codes, demos.map((demo) => demo.output()).join('\n')).to.deep.equal([0, 0]);

    const connection = await connectMongo(uri);
    try {
      const changes = answers.filter((answer) => answer.method !== 'GET' && answer.status < 300);
      const stored = await connection
        .collection('portcullis_audit')
        .find({ requestId: { $in: answers.map((answer) => answer.requestId) } }, { projection: { requestId: 1 } })
        .toArray();
      const storedIds = new Set(stored.map((event) => event.requestId as string));
      expect(
        changes.filter((answer) => !storedIds.has(answer.requestId)),
        'answered changes without an event',
      ).to.deep.equal([]);
      expect(stored.length - storedIds.size, 'duplicated events').to.equal(0);
      expect(changes.length).to.be.above(50);

      const out: string[] = [];
      const err: string[] = [];
      const status = await runCli(['audit', 'verify', '--mongodb', uri], {
        stdout: (line) => out.push(line),
        stderr: (line) => err.push(line),
        readFile: async () => '',
        env: { AUDIT_SIGNING_KEY: SIGNING_KEY },
      });
      const report = JSON.parse(out[0] ?? '{}') as { ok: boolean; closed: number; streams: number; first?: unknown };
      expect(status, `${out.join('\n')}${err.join('\n')}`).to.equal(0);
      expect(report.ok).to.equal(true);
      expect(report.closed, 'every stream ends with its close record').to.equal(report.streams);
    } finally {
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
  });
});
