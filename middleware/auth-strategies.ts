// Authentication strategies: API key, JWT bearer (optionally bound to a session) and trusted-proxy claims.
import type { Request } from 'express';
import { apiKeyUnusable, ApiKeyHasher, MAX_API_KEY_LENGTH, parseApiKey } from '../src/auth/api-keys.js';
import { JwtRejected, MAX_TOKEN_LENGTH, type JwtVerifier } from '../src/auth/jwt.js';
import type { EffectivePermissions, Principal } from '../src/auth/principal.js';
import type { ProxyTrust } from '../src/auth/proxy-trust.js';
import { permissionsOf, permissionsOfOidcUser, principalFrom } from '../src/auth/resolve.js';
import { ID_PATTERN } from '../src/auth/validate.js';
import { systemClock, type Clock } from '../src/clock.js';
import type { PrincipalStore } from '../src/contracts/principals.js';
import type { SessionStore } from '../src/contracts/sessions.js';
import { PENDING_TOTP_STAGE } from '../src/auth/totp.js';
import { AuthenticationError, ConfigError } from '../src/errors.js';
import { silentLogger, type Logger } from '../src/logger.js';
import type { OpenApiSecurityScheme } from '../src/openapi/types.js';
import type { FailureLimit } from './failure-limit.js';
import { checkOptions } from '../src/options.js';

export interface AuthResult {
  principal: Principal;
  permissions: EffectivePermissions;
}

/**
 * One way of authenticating. `authenticate` returns `undefined` when the request carries no credential of
 * this kind (the next strategy is tried) and throws `AuthenticationError` when it carries a bad one.
 */
export interface AuthStrategy {
  readonly name: string;
  authenticate(req: Request): Promise<AuthResult | undefined>;
  /** How clients present this credential, for the OpenAPI document; none when clients never send it themselves. */
  readonly securityScheme?: { name: string; scheme: OpenApiSecurityScheme };
}

/** The one message for every rejected credential, so the answer never tells an attacker what was wrong. */
export function invalidCredentials(
  challenge: string,
  reason: string,
  logger: Logger,
  req: Request,
): AuthenticationError {
  logger.info({ code: 'auth.rejected', reason, path: req.path }, 'credential rejected');
  return new AuthenticationError('The credentials are not valid.', {
    code: 'authentication.invalid_credentials',
    challenge,
  });
}

/** Counts a rejected credential with the failure limit, if there is one, and gives the error back to throw. */
async function counted(
  failures: FailureLimit | undefined,
  req: Request,
  account: string | undefined,
  error: AuthenticationError,
): Promise<AuthenticationError> {
  await failures?.failed(req, account);
  return error;
}

function singleHeader(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

// Writes of "last used" are spaced out so a busy key does not cost a store write per request.
class TouchThrottle {
  readonly #last = new Map<string, number>();
  constructor(readonly intervalMs: number) {}
  due(id: string, now: number): boolean {
    const last = this.#last.get(id);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (this.#last.size > 50_000) this.#last.clear();
    this.#last.set(id, now);
    return true;
  }
}

export interface ApiKeyStrategyOptions {
  store: PrincipalStore;
  /** Hashes and verifies secrets (and caches successful scrypt checks). Default: scrypt, no pepper. */
  hasher?: ApiKeyHasher;
  /** Header carrying the key. Default `x-api-key`. */
  header?: string;
  /** Least time between two "last used" writes of one key. Default 60 000. */
  touchIntervalMs?: number;
  /**
   * Counts rejected keys per (address, key id) and per address (`failureLimit()`); a key id over its limit
   * is refused before its secret is hashed, unless this secret already verified for it. Default none.
   */
  failures?: FailureLimit;
  now?: Clock;
  logger?: Logger;
}

export function apiKeyStrategy(options: ApiKeyStrategyOptions): AuthStrategy {
  checkOptions('apiKeyStrategy()', options, [
    'store',
    'hasher',
    'header',
    'touchIntervalMs',
    'failures',
    'now',
    'logger',
  ]);
  if (!options?.store) throw new ConfigError('store', 'apiKeyStrategy needs a principal store');
  const header = (options.header ?? 'x-api-key').toLowerCase();
  if (!/^[a-z0-9-]{1,64}$/.test(header)) throw new ConfigError('header', 'must be a valid HTTP header name');
  const store = options.store;
  const hasher = options.hasher ?? new ApiKeyHasher();
  const now = options.now ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const throttle = new TouchThrottle(options.touchIntervalMs ?? 60_000);
  const failures = options.failures;
  const challenge = `ApiKey realm="portcullis", header="${header}"`;
  return {
    name: 'apiKey',
    securityScheme: {
      name: 'apiKey',
      scheme: {
        type: 'apiKey',
        in: 'header',
        name: header,
        description: 'An API key from the principal admin routes; its scopes narrow what its owner may do.',
      },
    },
    async authenticate(req) {
      const presented = singleHeader(req, header);
      if (presented === undefined) return undefined;
      const reject = (reason: string, account?: string) =>
        counted(failures, req, account, invalidCredentials(challenge, reason, logger, req));
      if (presented.length > MAX_API_KEY_LENGTH) throw await reject('api key too long');
      const parsed = parseApiKey(presented.trim());
      if (!parsed) throw await reject('api key malformed');
      const account = `key:${parsed.id}`;
      const record = await store.getApiKey(parsed.id);
      if (!record) throw await reject('api key unknown', account);
      const time = now();
      const unusable = apiKeyUnusable(record, time);
      if (unusable) throw await reject(`api key ${unusable}`, account);
      // A secret that verified before skips the failure limit: guesses at this key from a shared address never
      // lock its holder out, and the usual request reads no counter.
      if (!hasher.verifiedBefore(parsed.secret, record)) {
        await failures?.check(req, account);
        if (!(await hasher.verify(parsed.secret, record))) throw await reject('api key secret mismatch', account);
        await failures?.succeeded(req, account);
      }
      const owner = await store.getPrincipal(record.principalId);
      if (!owner || owner.disabled)
        throw invalidCredentials(challenge, 'api key owner missing or disabled', logger, req);
      if (throttle.due(record.id, time)) {
        store.touchApiKey(record.id, new Date(time)).catch((error: unknown) => {
          logger.warn(
            { code: 'auth.api_key_touch_failed', err: (error as Error).name },
            'could not record API key use',
          );
        });
      }
      return {
        principal: principalFrom(owner, 'apiKey', { apiKeyId: record.id, scopes: [...record.scopes] }),
        permissions: await permissionsOf(store, owner),
      };
    },
  };
}

export interface JwtStrategyOptions {
  verifier: JwtVerifier;
  /** Where principals are looked up by `sub`; a token for an unknown `sub` gets the grants of its `groups` claim. */
  store: PrincipalStore;
  /** When given, a token whose `jti` names a session is checked against it (revoked or expired: 401). */
  sessions?: SessionStore;
  /** Refuse tokens that do not name a live session. Default true when `sessions` is given. */
  requireSession?: boolean;
  /** Least time between two `lastSeenAt` writes of one session. Default 30 000. */
  touchIntervalMs?: number;
  /** Counts rejected tokens per address (`failureLimit()`). Default none. */
  failures?: FailureLimit;
  now?: Clock;
  logger?: Logger;
}

const BEARER = /^Bearer +([A-Za-z0-9_.~+/=-]+)$/i;

export function jwtStrategy(options: JwtStrategyOptions): AuthStrategy {
  checkOptions('jwtStrategy()', options, [
    'verifier',
    'store',
    'sessions',
    'requireSession',
    'touchIntervalMs',
    'failures',
    'now',
    'logger',
  ]);
  if (!options?.verifier) throw new ConfigError('verifier', 'jwtStrategy needs a verifier (createJwtVerifier)');
  if (!options.store) throw new ConfigError('store', 'jwtStrategy needs a principal store');
  const requireSession = options.requireSession ?? options.sessions !== undefined;
  if (requireSession && !options.sessions) throw new ConfigError('sessions', 'is required when requireSession is true');
  const { verifier, store, sessions } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? systemClock;
  const throttle = new TouchThrottle(options.touchIntervalMs ?? 30_000);
  const challenge = 'Bearer realm="portcullis", error="invalid_token"';
  const failures = options.failures;
  const securityScheme = {
    name: 'bearer',
    scheme: {
      type: 'http' as const,
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: requireSession
        ? 'A token from `POST /auth/login`, valid while its session lives (`POST /auth/logout` ends it).'
        : 'A JWT from `POST /auth/login` or a trusted identity provider; one naming a session (`jti`) ends with it.',
    },
  };
  const strategy: AuthStrategy = {
    name: 'jwt',
    securityScheme,
    async authenticate(req) {
      const authorization = singleHeader(req, 'authorization');
      if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization)) return undefined;
      if (authorization.length > MAX_TOKEN_LENGTH + 7)
        throw invalidCredentials(challenge, 'token too long', logger, req);
      const token = BEARER.exec(authorization)?.[1];
      if (!token) throw invalidCredentials(challenge, 'malformed bearer', logger, req);
      let claims;
      try {
        claims = verifier.verify(token);
      } catch (error) {
        if (error instanceof JwtRejected) throw invalidCredentials(challenge, `jwt ${error.reason}`, logger, req);
        throw error;
      }
      const sub = claims.sub;
      if (typeof sub !== 'string' || !ID_PATTERN.test(sub))
        throw invalidCredentials(challenge, 'jwt sub invalid', logger, req);
      let sessionId: string | undefined;
      if (sessions && (requireSession || typeof claims.jti === 'string')) {
        if (typeof claims.jti !== 'string') throw invalidCredentials(challenge, 'jwt has no session', logger, req);
        const session = await sessions.get(claims.jti);
        // A pending login (password given, code not yet) is no session: it must not authenticate anything.
        if (!session || session.userId !== sub || session.meta.stage === PENDING_TOTP_STAGE)
          throw invalidCredentials(challenge, 'session revoked or expired', logger, req);
        sessionId = session.id;
        const time = now();
        if (throttle.due(session.id, time)) sessions.touch(session.id).catch(() => undefined);
      }
      const scopes = scopesClaim(claims.scope);
      if (scopes === null) throw invalidCredentials(challenge, 'jwt scope claim invalid', logger, req);
      const extra = { ...(sessionId ? { sessionId } : {}), ...(scopes ? { scopes } : {}) };
      const record = await store.getPrincipal(sub);
      if (record) {
        if (record.disabled || record.type !== 'user')
          throw invalidCredentials(challenge, 'principal disabled', logger, req);
        return { principal: principalFrom(record, 'user', extra), permissions: await permissionsOf(store, record) };
      }
      if (sessionId) throw invalidCredentials(challenge, 'session user no longer exists', logger, req);
      // A token from an identity provider for a user Portcullis does not store: its groups claim decides.
      const groups = Array.isArray(claims.groups)
        ? claims.groups.filter((g): g is string => typeof g === 'string' && ID_PATTERN.test(g)).slice(0, 64)
        : [];
      const principal: Principal = {
        id: sub,
        kind: 'oidc',
        ...(typeof claims.name === 'string' ? { name: claims.name.slice(0, 256) } : {}),
        ...(typeof claims.email === 'string' ? { email: claims.email.slice(0, 256) } : {}),
        groups,
        attributes: {},
        ...extra,
      };
      return { principal, permissions: await permissionsOfOidcUser(store, undefined, groups) };
    },
  };
  if (!failures) return strategy;
  const verify = strategy.authenticate;
  return {
    name: 'jwt',
    securityScheme,
    async authenticate(req) {
      try {
        return await verify(req);
      } catch (error) {
        // A token names no account an address could guess at: its failures count for the address only.
        if (error instanceof AuthenticationError) await failures.failed(req);
        throw error;
      }
    },
  };
}

export interface ProxyHeaders {
  /** Header with the user id. Default `x-oidc-sub`. */
  user?: string;
  /** Default `x-oidc-name`. */
  name?: string;
  /** Default `x-oidc-email`. */
  email?: string;
  /** Comma-separated group ids. Default `x-oidc-groups`. */
  groups?: string;
}

export interface ProxyStrategyOptions {
  /** Which TCP peers may send claim headers (`createProxyTrust([...])`); from any other peer they are ignored. */
  trust: ProxyTrust;
  store: PrincipalStore;
  headers?: ProxyHeaders;
  logger?: Logger;
}

export function proxyStrategy(options: ProxyStrategyOptions): AuthStrategy {
  checkOptions('proxyStrategy()', options, ['trust', 'store', 'headers', 'logger']);
  if (!options?.trust) throw new ConfigError('trust', 'proxyStrategy needs the trusted proxy list (createProxyTrust)');
  if (options.trust.size === 0) throw new ConfigError('trustedProxies', 'is empty: no proxy could ever be trusted');
  if (!options.store) throw new ConfigError('store', 'proxyStrategy needs a principal store');
  const names = {
    user: (options.headers?.user ?? 'x-oidc-sub').toLowerCase(),
    name: (options.headers?.name ?? 'x-oidc-name').toLowerCase(),
    email: (options.headers?.email ?? 'x-oidc-email').toLowerCase(),
    groups: (options.headers?.groups ?? 'x-oidc-groups').toLowerCase(),
  };
  for (const [key, value] of Object.entries(names)) {
    if (!/^[a-z0-9-]{1,64}$/.test(value)) throw new ConfigError(`headers.${key}`, 'must be a valid HTTP header name');
  }
  const { trust, store } = options;
  const logger = options.logger ?? silentLogger;
  const challenge = 'Bearer realm="portcullis"';
  return {
    name: 'proxy',
    async authenticate(req) {
      const user = singleHeader(req, names.user);
      if (user === undefined) return undefined;
      // The TCP peer, not req.ip: forwarded-for headers are exactly what a spoofer controls.
      const peer = req.socket.remoteAddress;
      if (!trust.trusts(peer)) {
        logger.warn(
          { code: 'auth.proxy_untrusted', peer, header: names.user },
          'ignored claim headers from an untrusted address',
        );
        return undefined;
      }
      if (!ID_PATTERN.test(user)) throw invalidCredentials(challenge, 'proxy user id invalid', logger, req);
      const groups = (singleHeader(req, names.groups) ?? '')
        .split(',')
        .map((g) => g.trim())
        .filter((g) => ID_PATTERN.test(g))
        .slice(0, 64);
      const record = await store.getPrincipal(user);
      if (record?.disabled) throw invalidCredentials(challenge, 'principal disabled', logger, req);
      const name = singleHeader(req, names.name)?.slice(0, 256);
      const email = singleHeader(req, names.email)?.slice(0, 256);
      const principal: Principal = {
        id: user,
        kind: 'oidc',
        ...(name ? { name } : record?.name ? { name: record.name } : {}),
        ...(email ? { email } : record?.email ? { email: record.email } : {}),
        groups,
        ...(record?.quotas ? { quotas: { ...record.quotas } } : {}),
        attributes: { ...record?.attributes },
      };
      return {
        principal,
        permissions: await permissionsOfOidcUser(store, record?.type === 'user' ? record : undefined, groups),
      };
    },
  };
}

/**
 * The `scope` claim: a space-separated string (RFC 8693, RFC 9068) or a list of strings; absent is
 * `undefined` (no restriction). Anything else is `null`: refused rather than read as unscoped.
 */
const MAX_CLAIM_SCOPES = 256;

function scopesClaim(claim: unknown): string[] | undefined | null {
  if (claim === undefined) return undefined;
  const scopes = typeof claim === 'string' ? claim.split(' ').filter(Boolean) : claim;
  if (!Array.isArray(scopes) || scopes.length > MAX_CLAIM_SCOPES) return null;
  // Identity providers name scopes freely (URLs included): only the shape is checked.
  return scopes.every((scope) => typeof scope === 'string' && scope.length > 0 && scope.length <= 256) ? scopes : null;
}
