// `npm start` as a user runs it: memory by default, real servers when configured, clear config errors.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { demoLogin, runDemo, startDemo } from '../support/demo-process.js';
import { requireEnv } from '../support/connections.js';

async function exitOf(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = runDemo(env);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

describe('npm start (the demo process)', function () {
  this.timeout(90_000);

  it('exits non-zero with one line per configuration problem, each naming the variable', async function () {
    const { code, stderr } = await exitOf({ PORT: 'abc', REDIS_URL: 'http://x', RECORDS_BACKEND: 'cassandra' });
    expect(code).to.not.equal(0);
    const lines = stderr.split('\n').filter((line) => line.startsWith('config error:'));
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/PORT/);
    expect(lines[1]).to.match(/REDIS_URL/);
    expect(lines[2]).to.match(/RECORDS_BACKEND/);
  });

  it('names each bad value of HOST, TRUST_PROXY, PII_MASK_PATHS and AUDIT_ENABLED on a line of its own', async function () {
    const { code, stderr } = await exitOf({
      HOST: 'not a host!!',
      TRUST_PROXY: 'banana',
      PII_MASK_PATHS: '[[[',
      AUDIT_ENABLED: 'yes',
    });
    expect(code).to.not.equal(0);
    const lines = stderr.split('\n').filter((line) => line.startsWith('config error:'));
    expect(lines.map((line) => /^config error: (\w+):/.exec(line)?.[1])).to.deep.equal([
      'HOST',
      'TRUST_PROXY',
      'AUDIT_ENABLED',
      'PII_MASK_PATHS',
    ]);
    expect(stderr).to.not.match(/\n\s+at /);
  });

  const unusable: [string, Record<string, string>, RegExp][] = [
    ['AUDIT_FALLBACK_FILE', { AUDIT_FALLBACK_FILE: '/nonexistent-dir/x' }, /\/nonexistent-dir\/x .*ENOENT/],
    ['HOST', { HOST: 'no-such-host.invalid' }, /no-such-host\.invalid/],
    [
      'MONGODB_URI',
      {
        MONGODB_URI: 'mongodb://walker:s3cret-pass@127.0.0.1:9/db',
        STORE_CONNECT_TIMEOUT: '300ms',
        MONGODB_SERVER_SELECTION_TIMEOUT: '200ms',
        ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
        BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      },
      /127\.0\.0\.1:9/,
    ],
    [
      'REDIS_URL',
      { REDIS_URL: 'redis://:s3cret-pass@127.0.0.1:9', STORE_CONNECT_TIMEOUT: '300ms' },
      /127\.0\.0\.1:9 .*ECONNREFUSED/,
    ],
  ];
  for (const [variable, env, detail] of unusable) {
    it(`fails at start with one line naming ${variable} when it cannot be used, never echoing a password`, async function () {
      const { code, stderr } = await exitOf(env);
      expect(code, stderr).to.not.equal(0);
      expect(stderr.trim().split('\n'), stderr).to.have.length(1);
      expect(stderr).to.match(new RegExp(`^config error: ${variable}: `));
      expect(stderr).to.match(detail);
      expect(stderr).to.not.include('s3cret-pass');
    });
  }

  it('refuses to store accounts in MongoDB without ENCRYPTION_KEYS, naming the variable', async function () {
    const { code, stderr } = await exitOf({ MONGODB_URI: requireEnv('MONGODB_URI') });
    expect(code).to.not.equal(0);
    expect(stderr).to.match(/config error: ENCRYPTION_KEYS: is required when accounts are stored in MongoDB/);
  });

  it('turns the TOTP second factor on with the documented ENCRYPTION_KEYS and BLIND_INDEX_KEY, memory stores too', async function () {
    const keys = `1:${randomBytes(32).toString('base64')}`;
    const alone = await exitOf({ ENCRYPTION_KEYS: keys });
    expect(alone.code).to.not.equal(0);
    expect(alone.stderr).to.match(/config error: BLIND_INDEX_KEY: is required with ENCRYPTION_KEYS/);
    const demo = await startDemo({ ENCRYPTION_KEYS: keys, BLIND_INDEX_KEY: randomBytes(32).toString('base64') });
    try {
      const token = await demoLogin(demo.baseUrl);
      const factor = await fetch(`${demo.baseUrl}/auth/totp`, { headers: { authorization: `Bearer ${token}` } });
      expect(factor.status).to.equal(200);
      expect(await factor.json()).to.deep.include({ enrolled: false });
    } finally {
      expect(await demo.stop()).to.equal(0);
    }
  });

  it('answers /health with memory stores by default and stops cleanly on SIGTERM', async function () {
    const demo = await startDemo();
    try {
      const response = await fetch(`${demo.baseUrl}/health`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { status: string; stores: Record<string, { backend: string }> };
      expect(body.status).to.equal('up');
      expect(Object.values(body.stores).every((store) => store.backend === 'memory')).to.equal(true);
    } finally {
      expect(await demo.stop()).to.equal(0);
    }
  });

  it('uses MongoDB and Redis when MONGODB_URI and REDIS_URL are set, and /health says so', async function () {
    const demo = await startDemo({
      MONGODB_URI: requireEnv('MONGODB_URI'),
      REDIS_URL: requireEnv('REDIS_URL'),
      ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
      BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
    });
    try {
      const body = (await (await fetch(`${demo.baseUrl}/health`)).json()) as {
        servers: Record<string, { status: string }>;
        stores: Record<string, { backend: string; status: string }>;
      };
      expect(body.servers.mongodb?.status).to.equal('up');
      expect(body.servers.redis?.status).to.equal('up');
      expect(body.stores.sessions).to.deep.include({ backend: 'redis', status: 'up' });
      expect(body.stores.policies).to.deep.include({ backend: 'mongodb', status: 'up' });
    } finally {
      expect(await demo.stop()).to.equal(0);
    }
  });
});
