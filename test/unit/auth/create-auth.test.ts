// createAuth(config): misconfiguration fails at creation, naming the variable.
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Env } from '../../../src/config/index.js';
import { ConfigError, ConfigErrors } from '../../../src/errors.js';
import type { Logger } from '../../../src/logger.js';
import { createAuth } from '../../../middleware/auth-setup.js';
import { authenticate } from '../../../middleware/authenticate.js';
import { apiKeyStrategy, jwtStrategy, proxyStrategy } from '../../../middleware/auth-strategies.js';
import { principalAdminRouter } from '../../../middleware/principal-admin-router.js';
import { createProxyTrust } from '../../../src/auth/proxy-trust.js';
import { createJwtVerifier } from '../../../src/auth/jwt.js';
import { rateLimit } from '../../../middleware/rate-limit.js';
import { quota } from '../../../middleware/quota.js';
import { securityHeaders } from '../../../middleware/security-headers.js';
import { MemoryPrincipalStore } from '../../../stores/memory/principals.js';
import { MemorySessionStore } from '../../../stores/memory/sessions.js';
import { MemoryQuotaStore, MemoryRateLimitStore } from '../../../stores/memory/rate-limit.js';

const stores = () => ({
  principals: new MemoryPrincipalStore(),
  sessions: new MemorySessionStore(),
  rateLimit: new MemoryRateLimitStore(),
  quotas: new MemoryQuotaStore(),
});

function build(env: Env, logger?: Logger) {
  return createAuth({ config: loadConfig(env), stores: stores(), ...(logger ? { logger } : {}) });
}

function failsWith(env: Env, option: string, pattern: RegExp) {
  let caught: unknown;
  try {
    build(env);
  } catch (error) {
    caught = error;
  }
  const problem = caught instanceof ConfigErrors ? caught.problems[0] : caught;
  expect(problem, String(caught)).to.be.instanceOf(ConfigError);
  expect((problem as ConfigError).option).to.equal(option);
  expect((problem as ConfigError).message).to.match(pattern);
}

describe('auth: createAuth validates its configuration at creation', function () {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-auth-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicFile = join(dir, 'public.pem');
  const privateFile = join(dir, 'private.pem');
  writeFileSync(publicFile, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(privateFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));

  it('names the variable for every JWT problem', function () {
    failsWith({ JWT_ALGORITHMS: 'HS256,RS256' }, 'JWT_ALGORITHMS', /mixes HMAC and public-key/);
    failsWith({ JWT_ALGORITHMS: 'none' }, 'JWT_ALGORITHMS', /unsupported algorithm "none"/);
    failsWith({ JWT_ALGORITHMS: 'RS256' }, 'JWT_PUBLIC_KEY_FILE', /is required/);
    failsWith(
      { JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY_FILE: join(dir, 'missing.pem') },
      'JWT_PUBLIC_KEY_FILE',
      /cannot read/,
    );
    failsWith(
      { JWT_ALGORITHMS: 'ES256', JWT_PUBLIC_KEY_FILE: publicFile },
      'JWT_PUBLIC_KEY_FILE',
      /fits none of ES256/,
    );
    failsWith({ JWT_SECRET: 'too-short' }, 'JWT_SECRET', /invalid format/);
  });

  it('requires TRUSTED_PROXIES for the proxy strategy and checks each entry (at load)', function () {
    failsWith({ AUTH_STRATEGIES: 'proxy' }, 'TRUSTED_PROXIES', /is empty|must list/);
    failsWith({ AUTH_STRATEGIES: 'proxy', TRUSTED_PROXIES: '10.0.0.0/33' }, 'TRUSTED_PROXIES', /prefix/);
    failsWith({ AUTH_STRATEGIES: 'proxy', TRUSTED_PROXIES: 'proxy.local' }, 'TRUSTED_PROXIES', /not an IP/);
    failsWith({ AUTH_STRATEGIES: 'apikey' }, 'AUTH_STRATEGIES', /unknown strategy "apikey"/);
  });

  it('warns once, coded, when JWT_SECRET is unset; RS256 signs with the private key file', function () {
    const warnings: Record<string, unknown>[] = [];
    const auth = build({}, { error() {}, warn: (o) => warnings.push(o), info() {}, debug() {} });
    expect(warnings.map((w) => w.code)).to.deep.equal(['auth.ephemeral_jwt_secret']);
    expect(auth.signer?.algorithm).to.equal('HS256');
    const rs = build({ JWT_ALGORITHMS: 'RS256', JWT_PRIVATE_KEY_FILE: privateFile });
    const token = rs.signer!.sign({ sub: 'alice' }, 60_000);
    expect(rs.verifier!.verify(token).sub).to.equal('alice');
    const verifyOnly = build({ JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY_FILE: publicFile });
    expect(verifyOnly.signer).to.equal(undefined);
    expect(() => verifyOnly.authRouter()).to.throw(ConfigError, /JWT_PRIVATE_KEY_FILE/);
  });

  it('middleware factories reject unknown options with a hint, and being used uncalled', function () {
    expect(() => authenticate({ strategies: [], allowAnonymos: true } as never)).to.throw(
      ConfigError,
      /did you mean allowAnonymous/,
    );
    expect(() => authenticate({ strategies: [] })).to.throw(ConfigError, /^strategies/);
    expect(() => authenticate({ headers: {}, method: 'GET', url: '/' } as never)).to.throw(
      TypeError,
      /called with options/,
    );
    expect(() => rateLimit({ store: new MemoryRateLimitStore(), windowMS: 1000 } as never)).to.throw(
      ConfigError,
      /did you mean windowMs/,
    );
    expect(() => rateLimit({ store: new MemoryRateLimitStore(), limit: 0 })).to.throw(ConfigError, /^limit/);
    expect(() => rateLimit({ store: {} as never })).to.throw(ConfigError, /^store/);
    expect(() => quota({ store: new MemoryQuotaStore(), action: 'a b', limit: 1 })).to.throw(ConfigError, /^action/);
    expect(() => securityHeaders({ headers: {}, method: 'GET' } as never)).to.throw(TypeError, /securityHeaders\(\)/);
  });
});

describe('auth: strategy and router factories reject unknown options', function () {
  it('names the unknown option with a hint', function () {
    const store = new MemoryPrincipalStore();
    const verifier = createJwtVerifier({ algorithms: ['HS256'], secret: 'x'.repeat(32) });
    expect(() => apiKeyStrategy({ store, headr: 'x-key' } as never)).to.throw(ConfigError, /did you mean header/);
    expect(() => jwtStrategy({ verifier, store, requireSessions: true } as never)).to.throw(
      ConfigError,
      /did you mean requireSession/,
    );
    expect(() => proxyStrategy({ trust: createProxyTrust(['::1']), store, header: {} } as never)).to.throw(
      ConfigError,
      /did you mean headers/,
    );
    expect(() =>
      principalAdminRouter({ principals: store, authenticate: () => undefined, hashr: 1 } as never),
    ).to.throw(ConfigError, /did you mean hasher/);
  });
});
