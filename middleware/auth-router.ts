// Login, logout, own sessions, "who am I" and "may I" routes over a session store and a JWT signer.
import { randomBytes } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { JwtSigner } from '../src/auth/jwt.js';
import { isEndpointPermitted } from '../src/auth/permissions.js';
import { DUMMY_PASSWORD_HASH, verifySecret } from '../src/auth/secrets.js';
import { PENDING_TOTP_STAGE } from '../src/auth/totp.js';
import type { PrincipalStore } from '../src/contracts/principals.js';
import type { SessionRecord, SessionStore } from '../src/contracts/sessions.js';
import { AuthenticationError, ConfigError, NotFoundError, ValidationError, type FieldProblem } from '../src/errors.js';
import { silentLogger, type Logger } from '../src/logger.js';
import type { PiiMasker } from '../src/pii/engine.js';
import { pathScope } from '../src/auth/scopes.js';
import { requireScope, scopeDenial } from './authorize-endpoint.js';
import { contextOf } from './context.js';
import type { FailureLimit } from './failure-limit.js';
import { auditStep, secondFactor, type SecondFactorOptions } from './second-factor.js';
import { describeRouter, type DescribedRouter } from './openapi/describe.js';
import { describeAuthRouter } from './openapi/routers.js';
import { checkOptions, integerOption } from '../src/options.js';

export interface AuthRouterOptions {
  principals: PrincipalStore;
  sessions: SessionStore;
  /** Signs login tokens; its verifier must accept them (`createJwtSigner`). */
  signer: JwtSigner;
  /** `authenticate()` for every route but `POST /login`. */
  authenticate: RequestHandler;
  /** Session and token lifetime. Default 12 h. */
  sessionTtlMs?: number;
  /** Run before `POST /login`, e.g. a `rateLimit()` per address against floods. Default none. */
  loginLimiter?: RequestHandler;
  /**
   * Counts failed logins per (address, username) and per address (`failureLimit()`); a username over its
   * limit from an address is refused there (429) before its password is checked. Default none.
   */
  failures?: FailureLimit;
  /**
   * The TOTP second factor: `POST /login` then asks principals who enrolled one for a code
   * (`POST /login/totp`), and `/totp` routes let each user enrol. Without it, a principal with a confirmed
   * second factor cannot log in here (401 `authentication.totp_unavailable`). Default none.
   */
  secondFactor?: SecondFactorOptions;
  /**
   * Masks what a login's User-Agent carries (an e-mail address, a phone number...) before it is stored in the
   * session's `meta` and shown by `GET /sessions`. Default none: the header is stored as sent (first 256
   * characters).
   */
  masker?: Pick<PiiMasker, 'maskText'>;
  logger?: Logger;
}

/**
 * `POST /login`, `POST /login/totp`, `GET|POST|DELETE /totp`, `POST /totp/confirm`, `POST /totp/recovery-codes`, `POST /logout`, `GET /sessions`, `DELETE /sessions`, `DELETE /sessions/:id`, `GET /me`,
 * `POST /me/has-permission`. Needs `express.json()` before it.
 */
export function authRouter(options: AuthRouterOptions): Router & DescribedRouter {
  checkOptions('authRouter()', options, [
    'principals',
    'sessions',
    'signer',
    'authenticate',
    'sessionTtlMs',
    'loginLimiter',
    'failures',
    'secondFactor',
    'masker',
    'logger',
  ]);
  for (const name of ['principals', 'sessions', 'signer', 'authenticate'] as const) {
    if (!options?.[name]) throw new ConfigError(name, 'is required by authRouter');
  }
  const ttlMs = integerOption('sessionTtlMs', options.sessionTtlMs, { fallback: 12 * 3_600_000, min: 1000 });
  const { principals, sessions, signer, authenticate, failures, masker } = options;
  if (masker !== undefined && typeof masker?.maskText !== 'function') {
    throw new ConfigError('masker', 'must be a masker (createMasker() or maskerFromConfig())');
  }
  // A key scoped to other resources (`accounts:read`) must not read or end its owner's sessions.
  const readSessions = requireScope(SESSIONS_READ);
  const deleteSessions = requireScope(SESSIONS_DELETE);
  const logger = options.logger ?? silentLogger;
  const router = express.Router();
  const login: RequestHandler[] = options.loginLimiter ? [options.loginLimiter] : [];
  const factor = options.secondFactor
    ? secondFactor(options.secondFactor, { principals, sessions }, logger)
    : undefined;

  async function startSession(req: Request, res: Response, userId: string, extra: Record<string, unknown> = {}) {
    const id = randomBytes(24).toString('base64url');
    const session = await sessions.create({
      id,
      userId,
      ttlMs,
      meta: { ip: req.ip ?? '', userAgent: userAgentOf(String(req.headers['user-agent'] ?? ''), masker) },
    });
    const token = signer.sign({ sub: userId, jti: id }, ttlMs);
    res.status(201).json({
      token,
      tokenType: 'Bearer',
      sessionId: id,
      expiresAt: session.expiresAt.toISOString(),
      ...extra,
    });
  }

  router.post('/login', ...login, async (req, res) => {
    const { username, password } = loginBody(req.body);
    const account = `user:${username}`;
    await failures?.check(req, account);
    const record = await principals.getPrincipal(username);
    // A missing user costs the same scrypt as a wrong password, so timing does not reveal who exists.
    const hash = record?.passwordHash ?? DUMMY_PASSWORD_HASH;
    const ok =
      (await verifySecret(password, hash)) && record !== undefined && !record.disabled && record.type === 'user';
    if (!ok) {
      auditStep(req, 'auth.login_failed', username);
      await failures?.failed(req, account);
      logger.info({ code: 'auth.login_failed' }, 'login failed');
      throw new AuthenticationError('Invalid username or password.', { code: 'authentication.login_failed' });
    }
    await failures?.succeeded(req, account);
    auditStep(req, 'auth.login', record.id);
    if (factor) {
      // Sets the step's own audit action: a pending login, or a bypass.
      const pending = await factor.afterPassword(req, record);
      if (pending) {
        res.status(202).json(pending);
        return;
      }
    } else if ((await principals.getSecondFactor(record.id))?.confirmed) {
      auditStep(req, 'auth.totp.unavailable', record.id);
      throw new AuthenticationError('This account needs a second factor, which this server cannot check.', {
        code: 'authentication.totp_unavailable',
      });
    }
    await startSession(req, res, record.id);
  });

  if (factor) {
    router.post('/login/totp', ...login, async (req, res) => {
      const { userId, recoveryCodesLeft } = await factor.completeLogin(req);
      await startSession(req, res, userId, { recoveryCodesLeft });
    });
  }

  router.use(authenticate);
  factor?.install(router);

  router.post('/logout', async (req, res) => {
    const sessionId = contextOf(req).principal?.sessionId;
    if (!sessionId)
      throw new ValidationError('This request was not authenticated by a session.', { code: 'validation.no_session' });
    await sessions.revoke(sessionId);
    res.status(204).end();
  });

  router.get('/sessions', readSessions, async (req, res) => {
    const principal = contextOf(req).principal!;
    const list = await sessions.listByUser(principal.id);
    res.json({
      items: list
        .filter((session) => session.meta.stage !== PENDING_TOTP_STAGE)
        .map((session) => sessionView(session, principal.sessionId)),
    });
  });

  router.delete('/sessions', deleteSessions, async (req, res) => {
    const revoked = await sessions.revokeAllForUser(contextOf(req).principal!.id);
    res.json({ revoked });
  });

  router.delete('/sessions/:id', deleteSessions, async (req, res) => {
    const id = String(req.params.id);
    const session = await sessions.get(id);
    // Someone else's session is reported exactly like a missing one.
    if (!session || session.userId !== contextOf(req).principal!.id) throw new NotFoundError('No such session.');
    await sessions.revoke(id);
    res.status(204).end();
  });

  router.get('/me', (req, res) => {
    const { principal, permissions } = contextOf(req);
    res.json({ principal, permissions });
  });

  // The answer the call itself would get from the endpoint and scope guards (not from ABAC policies).
  router.post('/me/has-permission', (req, res) => {
    const { method, path } = permissionBody(req.body);
    const { scope, own } = guardOfCall(method, path, req.baseUrl);
    // This router's own routes are open to every signed-in caller: no endpoint grant is asked.
    const allowed =
      (own || isEndpointPermitted(contextOf(req).permissions, method, path)) &&
      (scope === undefined || scopeDenial(req, scope) === undefined);
    res.json({ method, path, allowed });
  });

  return describeRouter(
    router,
    describeAuthRouter({ loginLimited: options.loginLimiter !== undefined, secondFactor: factor !== undefined }),
  );
}

const SESSIONS_READ = 'sessions:read';
const SESSIONS_DELETE = 'sessions:delete';

// This router's routes without a scope check (every other path is someone else's).
const UNSCOPED_ROUTE = /^\/(?:login(?:\/totp)?|logout|totp(?:\/confirm|\/recovery-codes)?|me(?:\/has-permission)?)$/;

/**
 * How `METHOD path` is guarded: this router's own routes (mounted at `base`, `own`) as above, with the scope
 * each needs, and other paths by the endpoint grants and the default scope (`pathScope`).
 */
function guardOfCall(method: string, path: string, base: string): { scope: string | undefined; own: boolean } {
  // Express matches routes case-insensitively and with or without a trailing slash.
  const lower = path.toLowerCase().replace(/(.)\/+$/, '$1');
  const prefix = base.toLowerCase();
  if (lower.startsWith(`${prefix}/`)) {
    const route = lower.slice(prefix.length);
    if ((method === 'GET' || method === 'HEAD') && route === '/sessions') return { scope: SESSIONS_READ, own: true };
    if (method === 'DELETE' && /^\/sessions(?:\/[^/]+)?$/.test(route)) return { scope: SESSIONS_DELETE, own: true };
    if (UNSCOPED_ROUTE.test(route)) return { scope: undefined, own: true };
  }
  return { scope: pathScope(method, path), own: false };
}

function sessionView(session: SessionRecord, current: string | undefined) {
  return {
    id: session.id,
    createdAt: session.createdAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    meta: session.meta,
    current: session.id === current,
  };
}

function loginBody(body: unknown): { username: string; password: string } {
  const problems: FieldProblem[] = [];
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof value.username !== 'string' || value.username.length === 0 || value.username.length > 128) {
    problems.push({ field: 'username', message: 'must be a string of 1-128 characters' });
  }
  if (typeof value.password !== 'string' || value.password.length === 0 || value.password.length > 1024) {
    problems.push({ field: 'password', message: 'must be a string of 1-1024 characters' });
  }
  if (problems.length > 0) throw new ValidationError('Invalid login request.', { errors: problems });
  return { username: value.username as string, password: value.password as string };
}

function permissionBody(body: unknown): { method: string; path: string } {
  const problems: FieldProblem[] = [];
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof value.method !== 'string' || !/^[A-Za-z]{1,16}$/.test(value.method)) {
    problems.push({ field: 'method', message: 'must be an HTTP method' });
  }
  if (typeof value.path !== 'string' || !value.path.startsWith('/') || value.path.length > 2048) {
    problems.push({ field: 'path', message: 'must be a path starting with / of at most 2048 characters' });
  }
  if (problems.length > 0) throw new ValidationError('Invalid permission check.', { errors: problems });
  return { method: (value.method as string).toUpperCase(), path: (value.path as string).split('?')[0]! };
}

/** The stored User-Agent: at most 256 characters, masked when a masker is given (cut first: masks stay whole). */
function userAgentOf(header: string, masker: Pick<PiiMasker, 'maskText'> | undefined): string {
  const cut = header.slice(0, 256);
  return masker ? masker.maskText(cut) : cut;
}
