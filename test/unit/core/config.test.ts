// loadConfig: typed values, defaults, every problem reported at once, secrets never echoed.
import { expect } from 'chai';
import { backendFor, describeConfig, loadConfig, parseTrustProxy } from '../../../src/config/index.js';
import { ConfigError, ConfigErrors } from '../../../src/errors.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigErrors);
    return (error as ConfigErrors).problems.map((problem) => problem.message);
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', function () {
  it('applies defaults when nothing is set', function () {
    const config = loadConfig({});
    expect(config.PORT).to.equal(3000);
    expect(config.LOG_LEVEL).to.equal('info');
    expect(config.MONGODB_URI).to.equal(undefined);
    expect(config.SESSIONS_BACKEND).to.equal('auto');
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('parses typed values', function () {
    const config = loadConfig({ PORT: '8080', SHUTDOWN_TIMEOUT: '30s', REDIS_URL: 'redis://127.0.0.1:6380' });
    expect(config.PORT).to.equal(8080);
    expect(config.SHUTDOWN_TIMEOUT).to.equal(30_000);
    expect(config.REDIS_URL).to.equal('redis://127.0.0.1:6380');
  });

  it('reports every problem at once, one per variable, naming it', function () {
    const problems = problemsOf({ PORT: 'abc', REDIS_URL: 'http://x', SESSIONS_BACKEND: 'cassandra' });
    expect(problems).to.have.length(3);
    expect(problems[0]).to.match(/^PORT: must be an integer/);
    expect(problems[1]).to.match(/^REDIS_URL: must use redis: or rediss:/);
    expect(problems[2]).to.match(/^SESSIONS_BACKEND: must be one of auto, memory, redis, mongodb/);
  });

  it('rejects out-of-range numbers and malformed durations', function () {
    const problems = problemsOf({ PORT: '70000', SHUTDOWN_TIMEOUT: 'soon' });
    expect(problems[0]).to.match(/^PORT: must be between 0 and 65535/);
    expect(problems[1]).to.match(/^SHUTDOWN_TIMEOUT: must be a duration/);
  });

  it('never echoes a secret value in its messages', function () {
    const secretUrl = 'ftp://admin:hunter2-very-secret@db.internal/x';
    const problems = problemsOf({ MONGODB_URI: secretUrl, ADMIN_API_KEY: 'short hunter2' });
    expect(problems.join('\n')).to.not.include('hunter2');
    expect(problems.join('\n')).to.match(/MONGODB_URI/);
    expect(problems.join('\n')).to.match(/ADMIN_API_KEY: has an invalid format/);
  });

  it('refuses a CURSOR_SECRET shorter than 32 characters without echoing it', function () {
    const problems = problemsOf({ CURSOR_SECRET: 'hunter2-cursor-secret' });
    expect(problems).to.deep.equal(['CURSOR_SECRET: must be at least 32 characters']);
    const secret = 'a-cursor-secret-of-at-least-32-characters';
    expect(loadConfig({ CURSOR_SECRET: secret }).CURSOR_SECRET).to.equal(secret);
    expect(describeConfig(loadConfig({ CURSOR_SECRET: secret })).CURSOR_SECRET).to.equal('[secret]');
  });

  it('flags misspelt *_BACKEND variables with a suggestion', function () {
    const problems = problemsOf({ SESSION_BACKEND: 'redis' });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^SESSION_BACKEND: is not a Portcullis variable/);
    expect(problems[0]).to.include('did you mean SESSIONS_BACKEND?');
  });

  it('refuses a backend whose server is not configured', function () {
    const problems = problemsOf({ POLICIES_BACKEND: 'mongodb', SESSIONS_BACKEND: 'redis' });
    expect(problems).to.deep.equal([
      'POLICIES_BACKEND: is mongodb but MONGODB_URI is not set',
      'SESSIONS_BACKEND: is redis but none of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS is set',
    ]);
  });

  it('resolves auto backends from the configured servers', function () {
    const none = loadConfig({});
    expect(backendFor(none, 'sessions')).to.equal('memory');
    const both = loadConfig({ MONGODB_URI: 'mongodb://h/db', REDIS_URL: 'redis://h' });
    expect(backendFor(both, 'sessions')).to.equal('redis');
    expect(backendFor(both, 'policies')).to.equal('mongodb');
    expect(backendFor(both, 'rateLimit')).to.equal('redis');
    const forced = loadConfig({ MONGODB_URI: 'mongodb://h/db', REDIS_URL: 'redis://h', SESSIONS_BACKEND: 'memory' });
    expect(backendFor(forced, 'sessions')).to.equal('memory');
  });

  it('describes the configuration with secrets replaced', function () {
    const described = describeConfig(loadConfig({ MONGODB_URI: 'mongodb://user:pw@h/db', PORT: '1234' }));
    expect(described.MONGODB_URI).to.equal('[secret]');
    expect(described.PORT).to.equal(1234);
    expect(JSON.stringify(described)).to.not.include('pw@');
  });

  it('accepts booleans spelt true or false only', function () {
    expect(loadConfig({ AUDIT_ENABLED: 'false' }).AUDIT_ENABLED).to.equal(false);
    expect(loadConfig({ SESSION_REQUIRED: 'true' }).SESSION_REQUIRED).to.equal(true);
    for (const raw of ['yes', '1', 'on', 'FALSE', 'off']) {
      expect(problemsOf({ AUDIT_ENABLED: raw })).to.deep.equal([`AUDIT_ENABLED: must be true or false, got "${raw}"`]);
    }
  });

  it('parses TRUST_PROXY into what Express takes and refuses anything else', function () {
    expect(loadConfig({}).TRUST_PROXY).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).to.equal(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).to.equal(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,::1' }).TRUST_PROXY).to.deep.equal([
      'loopback',
      '10.0.0.0/8',
      '::1',
    ]);
    expect(problemsOf({ TRUST_PROXY: 'banana' })[0]).to.match(/^TRUST_PROXY: "banana" is not true, false, a hop count/);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/99' })[0]).to.match(/^TRUST_PROXY: "10.0.0.0\/99"/);
    expect(() => parseTrustProxy('banana')).to.throw(ConfigError, /^TRUST_PROXY: /);
    expect(parseTrustProxy('1')).to.equal(1);
  });

  it('accepts an IP address or a host name as HOST', function () {
    for (const host of ['0.0.0.0', '::', 'localhost', 'api.example.com'])
      expect(loadConfig({ HOST: host }).HOST).to.equal(host);
    expect(loadConfig({ HOST: '[::1]' }).HOST).to.equal('::1');
    expect(problemsOf({ HOST: 'not a host!!' })).to.deep.equal([
      'HOST: must be an IP address or a host name, got "not a host!!"',
    ]);
  });

  it('checks the syntax of each PII_MASK_PATHS entry at load', function () {
    expect(loadConfig({ PII_MASK_PATHS: 'customer.email, items[*].card, **.iban' }).PII_MASK_PATHS).to.have.length(3);
    expect(problemsOf({ PII_MASK_PATHS: '[[[' })).to.deep.equal(['PII_MASK_PATHS: path "[[[" has an unclosed "["']);
  });

  it('reports every duration out of its bounds at once, an overflowing one as too large', function () {
    expect(
      problemsOf({ SESSION_TTL: '999999999d', JWT_CLOCK_TOLERANCE: '100000d', TOTP_BYPASS_MAX: '60d' }),
    ).to.deep.equal([
      'JWT_CLOCK_TOLERANCE: must be at most 10m, got 100000d',
      'SESSION_TTL: must be at most 365d, got 999999999d',
      'TOTP_BYPASS_MAX: must be at most 30d, got 60d',
    ]);
    expect(problemsOf({ TOTP_PENDING_TTL: '2h', AUDIT_DIGEST_GRACE: '99999999999999999999' })).to.have.members([
      'AUDIT_DIGEST_GRACE: must be at most 9007199254740991ms, got 99999999999999999999',
      'TOTP_PENDING_TTL: must be at most 1h, got 2h',
    ]);
    expect(problemsOf({ SESSION_TTL: '10ms' })).to.deep.equal(['SESSION_TTL: must be at least 1s, got 10ms']);
    // A Node timer longer than 2^31 - 1 ms fires after 1 ms: a digest every millisecond, a shutdown at once.
    expect(problemsOf({ AUDIT_DIGEST_INTERVAL: '25d', SHUTDOWN_TIMEOUT: '30d' })).to.deep.equal([
      'SHUTDOWN_TIMEOUT: must be at most 2147483647ms, got 30d',
      'AUDIT_DIGEST_INTERVAL: must be at most 2147483647ms, got 25d',
    ]);
    expect(loadConfig({ AUDIT_DIGEST_INTERVAL: '24d' }).AUDIT_DIGEST_INTERVAL).to.equal(24 * 86_400_000);
    const config = loadConfig({ SESSION_TTL: '365d', JWT_CLOCK_TOLERANCE: '10m', TOTP_BYPASS_MAX: '30d' });
    expect([config.SESSION_TTL, config.JWT_CLOCK_TOLERANCE, config.TOTP_BYPASS_MAX]).to.deep.equal([
      365 * 86_400_000,
      600_000,
      30 * 86_400_000,
    ]);
  });

  it('checks every TRUSTED_PROXIES entry at load, whatever AUTH_STRATEGIES says, naming each bad one', function () {
    expect(problemsOf({ TRUSTED_PROXIES: '::ffff:10.0.0.1/200,bad, 10.0.0.0/8' })).to.deep.equal([
      'TRUSTED_PROXIES: "::ffff:10.0.0.1/200" has an invalid prefix length; "bad" is not an IP address or CIDR range',
    ]);
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.1, 10.0.0.0/8, ::1' }).TRUSTED_PROXIES).to.have.length(3);
  });

  it('names the variables when AUDIT_DIGEST_PIN_FILE is set without AUDIT_SIGNING_KEY', function () {
    expect(problemsOf({ AUDIT_DIGEST_PIN_FILE: '/var/lib/portcullis/pins' })).to.deep.equal([
      'AUDIT_DIGEST_PIN_FILE: pins signed digests, so it needs AUDIT_SIGNING_KEY',
    ]);
  });

  it('needs PSEUDONYM_KEY for the pseudonym strategy', function () {
    expect(problemsOf({ PII_MASK_STRATEGY: 'pseudonym' })).to.deep.equal([
      'PSEUDONYM_KEY: is required when PII_MASK_STRATEGY is pseudonym',
    ]);
  });
});
