// createAuth(): builds the strategies, key objects, routers and limiters of this area from the configuration.
import { createPublicKey, createSecretKey, randomBytes, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestHandler, Router } from 'express';
import { ApiKeyHasher } from '../src/auth/api-keys.js';
import {
  createJwtSigner,
  createJwtVerifier,
  type JwtAlgorithm,
  type JwtSigner,
  type JwtVerifier,
  type JwtVerifierOptions,
} from '../src/auth/jwt.js';
import { createProxyTrust } from '../src/auth/proxy-trust.js';
import type { Config } from '../src/config/index.js';
import type { PrincipalStore } from '../src/contracts/principals.js';
import type { QuotaStore, RateLimitStore } from '../src/contracts/rate-limit.js';
import type { SessionStore } from '../src/contracts/sessions.js';
import { ConfigError } from '../src/errors.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { authRouter } from './auth-router.js';
import type { DescribedRouter } from './openapi/describe.js';
import { apiKeyStrategy, jwtStrategy, proxyStrategy, type AuthStrategy } from './auth-strategies.js';
import { authenticate, type AuthenticateOptions } from './authenticate.js';
import { failureLimit, type FailureLimit } from './failure-limit.js';
import type { SecondFactorOptions } from './second-factor.js';
import { createTotp } from '../src/auth/totp.js';
import { parseKeyRing } from '../src/pii/key-ring.js';
import { bootstrapAdmin, principalAdminRouter } from './principal-admin-router.js';
import { rateLimit, type RateLimitOptions } from './rate-limit.js';
import type { PiiMasker } from '../src/pii/engine.js';

type AuthConfig = Pick<
  Config,
  | 'AUTH_STRATEGIES'
  | 'JWT_ALGORITHMS'
  | 'JWT_SECRET'
  | 'JWT_PUBLIC_KEY_FILE'
  | 'JWT_JWKS_FILE'
  | 'JWT_PRIVATE_KEY_FILE'
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'JWT_CLOCK_TOLERANCE'
  | 'SESSION_TTL'
  | 'SESSION_REQUIRED'
  | 'API_KEY_HEADER'
  | 'API_KEY_PEPPER'
  | 'TRUSTED_PROXIES'
  | 'OIDC_USER_HEADER'
  | 'OIDC_NAME_HEADER'
  | 'OIDC_EMAIL_HEADER'
  | 'OIDC_GROUPS_HEADER'
  | 'RATE_LIMIT_WINDOW'
  | 'RATE_LIMIT_MAX'
  | 'RATE_LIMIT_LOGIN_MAX'
  | 'RATE_LIMIT_FAILURES_MAX'
  | 'RATE_LIMIT_ON_STORE_ERROR'
  | 'RATE_LIMIT_IPV6_SUBNET'
  | 'ADMIN_ROLE'
  | 'ENCRYPTION_KEYS'
  | 'ENCRYPTION_CURRENT_KEY_VERSION'
  | 'TOTP_ISSUER'
  | 'TOTP_WINDOW'
  | 'TOTP_MAX_ATTEMPTS'
  | 'TOTP_ATTEMPT_WINDOW'
  | 'TOTP_PENDING_TTL'
  | 'TOTP_BYPASS_MAX'
>;

export interface CreateAuthOptions {
  config: AuthConfig;
  stores: { principals: PrincipalStore; sessions: SessionStore; rateLimit: RateLimitStore; quotas: QuotaStore };
  /** Masks the User-Agent stored with each login session (`authRouter`'s `masker`). Default none. */
  masker?: Pick<PiiMasker, 'maskText'>;
  logger?: Logger;
}

export interface Auth {
  readonly strategies: readonly AuthStrategy[];
  readonly verifier: JwtVerifier | undefined;
  /** Undefined when tokens cannot be signed (public-key algorithms without JWT_PRIVATE_KEY_FILE). */
  readonly signer: JwtSigner | undefined;
  readonly hasher: ApiKeyHasher;
  /** Failed credential checks per (address, account) and per address, shared by the strategies and login. */
  readonly failures: FailureLimit;
  /** The TOTP second factor of `authRouter()`; undefined without ENCRYPTION_KEYS (its secrets are encrypted). */
  readonly secondFactor: SecondFactorOptions | undefined;
  /** `authenticate()` with the configured strategies. */
  authenticate(options?: Pick<AuthenticateOptions, 'allowAnonymous' | 'anonymousPermissions'>): RequestHandler;
  /** `rateLimit()` on the configured store with the RATE_LIMIT_* defaults. */
  rateLimit(options?: Partial<RateLimitOptions>): RequestHandler;
  /** Login, logout, sessions, me, has-permission. */
  authRouter(): Router & DescribedRouter;
  /** Principals, groups and API keys (admin). */
  principalAdminRouter(): Router & DescribedRouter;
  /** Creates or updates the admin principal of ADMIN_API_KEY, with the `role` attribute ADMIN_ROLE. */
  bootstrapAdmin(apiKey: string): Promise<{ principalId: string; keyId: string }>;
}

function readFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
}

/** Builds everything once; a misconfiguration throws a `ConfigError` naming the variable. */
export function createAuth(options: CreateAuthOptions): Auth {
  const { config, stores } = options;
  const logger = options.logger ?? silentLogger;
  const algorithms = config.JWT_ALGORITHMS as JwtAlgorithm[];
  const hmac = algorithms.length > 0 && algorithms.every((a) => a.startsWith('HS'));
  if (!hmac && algorithms.some((a) => a.startsWith('HS'))) {
    throw new ConfigError('JWT_ALGORITHMS', 'mixes HMAC and public-key algorithms, which allows key-type confusion');
  }
  if (config.AUTH_STRATEGIES.includes('proxy') && config.TRUSTED_PROXIES.length === 0) {
    throw new ConfigError('TRUSTED_PROXIES', 'must list the proxy addresses when AUTH_STRATEGIES includes proxy');
  }
  const pepper = config.API_KEY_PEPPER ? createSecretKey(Buffer.from(config.API_KEY_PEPPER, 'utf8')) : undefined;
  const hasher = new ApiKeyHasher(pepper ? { pepper } : {});
  const common = {
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };

  let verifier: JwtVerifier | undefined;
  let signer: JwtSigner | undefined;
  const wantsJwt = config.AUTH_STRATEGIES.includes('jwt');
  // Errors of the JWT builders name their option; the operator needs the variable.
  const variables: Record<string, string> = {
    algorithms: 'JWT_ALGORITHMS',
    secret: 'JWT_SECRET',
    publicKey: 'JWT_PUBLIC_KEY_FILE',
    jwks: 'JWT_JWKS_FILE',
    privateKey: 'JWT_PRIVATE_KEY_FILE',
    clockToleranceSec: 'JWT_CLOCK_TOLERANCE',
    issuer: 'JWT_ISSUER',
    audience: 'JWT_AUDIENCE',
  };
  const rename = (build: () => void) => {
    try {
      build();
    } catch (error) {
      const variable = error instanceof ConfigError ? variables[error.option.split('.')[0]!] : undefined;
      if (variable) {
        const message = error instanceof ConfigError ? error.message.slice(error.option.length + 2) : '';
        throw new ConfigError(variable, message, { cause: error, code: (error as ConfigError).code });
      }
      throw error;
    }
  };
  rename(() => {
    if (hmac) {
      let secret = config.JWT_SECRET;
      if (!secret) {
        secret = randomBytes(48).toString('base64url');
        logger.warn(
          { code: 'auth.ephemeral_jwt_secret' },
          'JWT_SECRET is not set: tokens are signed with a random per-process secret (one process only; they die on restart)',
        );
      }
      const verifierOptions: JwtVerifierOptions = {
        algorithms,
        secret,
        ...common,
        clockToleranceSec: config.JWT_CLOCK_TOLERANCE / 1000,
      };
      verifier = createJwtVerifier(verifierOptions);
      signer = createJwtSigner({ algorithm: algorithms[0]!, secret, ...common });
      return;
    }
    const privatePem = config.JWT_PRIVATE_KEY_FILE
      ? readFile('JWT_PRIVATE_KEY_FILE', config.JWT_PRIVATE_KEY_FILE)
      : undefined;
    let publicKey: string | undefined = config.JWT_PUBLIC_KEY_FILE
      ? readFile('JWT_PUBLIC_KEY_FILE', config.JWT_PUBLIC_KEY_FILE)
      : undefined;
    const jwks = config.JWT_JWKS_FILE ? parseJwks(readFile('JWT_JWKS_FILE', config.JWT_JWKS_FILE)) : undefined;
    if (!publicKey && !jwks && privatePem) {
      publicKey = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }) as string;
    }
    if (!wantsJwt && !publicKey && !jwks) return;
    if (!publicKey && !jwks) {
      throw new ConfigError('JWT_PUBLIC_KEY_FILE', `is required for ${algorithms.join(', ')} (or set JWT_JWKS_FILE)`);
    }
    verifier = createJwtVerifier({
      algorithms,
      ...(jwks ? { jwks } : { publicKey }),
      ...common,
      clockToleranceSec: config.JWT_CLOCK_TOLERANCE / 1000,
    });
    if (privatePem) signer = createJwtSigner({ algorithm: algorithms[0]!, privateKey: privatePem, ...common });
  });

  const failures = failureLimit({
    store: stores.rateLimit,
    accountLimit: config.RATE_LIMIT_LOGIN_MAX,
    addressLimit: config.RATE_LIMIT_FAILURES_MAX,
    windowMs: config.RATE_LIMIT_WINDOW,
    onStoreError: config.RATE_LIMIT_ON_STORE_ERROR,
    ipv6Subnet: config.RATE_LIMIT_IPV6_SUBNET,
    logger,
  });

  let secondFactor: SecondFactorOptions | undefined;
  if (config.ENCRYPTION_KEYS) {
    secondFactor = {
      totp: createTotp({
        keys: parseKeyRing(config.ENCRYPTION_KEYS, config.ENCRYPTION_CURRENT_KEY_VERSION),
        issuer: config.TOTP_ISSUER,
        window: config.TOTP_WINDOW,
      }),
      failures: failureLimit({
        name: 'totp',
        store: stores.rateLimit,
        accountAcrossAddresses: true,
        accountLimit: config.TOTP_MAX_ATTEMPTS,
        addressLimit: config.RATE_LIMIT_FAILURES_MAX,
        windowMs: config.TOTP_ATTEMPT_WINDOW,
        onStoreError: config.RATE_LIMIT_ON_STORE_ERROR,
        ipv6Subnet: config.RATE_LIMIT_IPV6_SUBNET,
        logger,
      }),
      pendingTtlMs: config.TOTP_PENDING_TTL,
    };
  }

  const strategies: AuthStrategy[] = config.AUTH_STRATEGIES.map((name) => {
    switch (name) {
      case 'apiKey':
        return apiKeyStrategy({ store: stores.principals, hasher, header: config.API_KEY_HEADER, failures, logger });
      case 'jwt':
        return jwtStrategy({
          verifier: verifier!,
          store: stores.principals,
          sessions: stores.sessions,
          requireSession: config.SESSION_REQUIRED,
          failures,
          logger,
        });
      case 'proxy':
        return proxyStrategy({
          trust: createProxyTrust(config.TRUSTED_PROXIES, 'TRUSTED_PROXIES'),
          store: stores.principals,
          headers: {
            user: config.OIDC_USER_HEADER,
            name: config.OIDC_NAME_HEADER,
            email: config.OIDC_EMAIL_HEADER,
            groups: config.OIDC_GROUPS_HEADER,
          },
          logger,
        });
      default:
        throw new ConfigError('AUTH_STRATEGIES', `unknown strategy ${name}`);
    }
  });

  const limiterDefaults = {
    store: stores.rateLimit,
    windowMs: config.RATE_LIMIT_WINDOW,
    onStoreError: config.RATE_LIMIT_ON_STORE_ERROR,
    ipv6Subnet: config.RATE_LIMIT_IPV6_SUBNET,
    logger,
  };
  const required = authenticate({ strategies });

  return {
    strategies,
    verifier,
    signer,
    hasher,
    failures,
    secondFactor,
    authenticate: (extra = {}) => (Object.keys(extra).length === 0 ? required : authenticate({ strategies, ...extra })),
    rateLimit: (extra = {}) => rateLimit({ ...limiterDefaults, limit: config.RATE_LIMIT_MAX, ...extra }),
    authRouter() {
      if (!signer) {
        throw new ConfigError('JWT_PRIVATE_KEY_FILE', 'is required to issue login tokens with public-key algorithms');
      }
      return authRouter({
        principals: stores.principals,
        sessions: stores.sessions,
        signer,
        authenticate: required,
        sessionTtlMs: config.SESSION_TTL,
        failures,
        ...(secondFactor ? { secondFactor } : {}),
        ...(options.masker ? { masker: options.masker } : {}),
        logger,
      });
    },
    principalAdminRouter() {
      return principalAdminRouter({
        principals: stores.principals,
        authenticate: required,
        sessions: stores.sessions,
        hasher,
        maxTotpBypassMs: config.TOTP_BYPASS_MAX,
      });
    },
    bootstrapAdmin(apiKey) {
      const role = config.ADMIN_ROLE;
      return bootstrapAdmin({
        principals: stores.principals,
        apiKey,
        hasher,
        ...(role ? { attributes: { role } } : {}),
      });
    },
  };
}

function parseJwks(text: string): { keys: JsonWebKey[] } {
  try {
    const parsed = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('no keys');
    return parsed as { keys: JsonWebKey[] };
  } catch (error) {
    throw new ConfigError('JWT_JWKS_FILE', 'is not a JWKS document ({"keys": [...]})', { cause: error });
  }
}
