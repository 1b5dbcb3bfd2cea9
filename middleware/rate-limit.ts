// rateLimit(): express-rate-limit over a counter store, keyed by API key, user, or client address, errors to next().
import { checkOptions, integerOption } from '../src/options.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  ipKeyGenerator,
  rateLimit as expressRateLimit,
  type Logger as LimiterLogger,
  type RateLimitInfo,
  type Store,
} from 'express-rate-limit';
import type { RateLimitStore } from '../src/contracts/rate-limit.js';
import { ConfigError, PortcullisError, RateLimitedError, StoreUnavailableError } from '../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';
import { requireClientAddress } from './client-address.js';
import { contextOf } from './context.js';
import { describeGuard } from './openapi/describe.js';

export interface RateLimitOptions {
  /**
   * Counter store. Required. `stores.rateLimit` (memory or Redis) may serve any number of limiters; any other
   * express-rate-limit `Store` (rate-limit-redis, …) serves one limiter, as express-rate-limit requires.
   */
  store: RateLimitStore | Store;
  /** Requests allowed per window per client. Default 300. */
  limit?: number;
  /** Window length in ms. Default 60 000. */
  windowMs?: number;
  /** Names this limit in the headers and its counters, so two limits never share one. Default `global`. */
  name?: string;
  /** When the store is down: `open` serves without limiting (logged), `closed` answers 503. Default `open`. */
  onStoreError?: 'open' | 'closed';
  /** IPv6 clients are counted per subnet of this prefix length. Default 56. */
  ipv6Subnet?: number;
  /**
   * Client key, a string or a promise of one; default `clientKey`: API key id, else user id, else the client
   * address (`req.ip`, so set `trust proxy`).
   */
  keyGenerator?: (req: Request) => string | Promise<string>;
  /** Called when a request is refused (e.g. `metrics.recordRateLimitHit`); a throw is the request's error. */
  onLimited?: (name: string, req: Request) => void;
  /** Only count failed requests (status >= 400). Default false. */
  countFailuresOnly?: boolean;
  /**
   * Send the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers. Turn off for a limiter clients
   * should not plan by, such as a failure counter beside the real quota. Default true.
   */
  headers?: boolean;
  logger?: Logger;
}

const KNOWN = [
  'store',
  'limit',
  'windowMs',
  'name',
  'onStoreError',
  'ipv6Subnet',
  'keyGenerator',
  'onLimited',
  'countFailuresOnly',
  'headers',
  'logger',
];

/** The default client key: the authenticated credential when there is one, else the (grouped) address. */
export function clientKey(req: Request, ipv6Subnet = 56): string {
  const principal = contextOf(req).principal;
  if (principal?.apiKeyId) return `key:${principal.apiKeyId}`;
  if (principal && principal.kind !== 'anonymous') return `user:${principal.id}`;
  return `ip:${addressKey(req, ipv6Subnet)}`;
}

/**
 * The address a client is counted under (express-rate-limit's `ipKeyGenerator`): IPv4 as is, IPv4-mapped
 * IPv6 as its IPv4 address, other IPv6 as its network of `ipv6Subnet` bits (one customer usually holds a whole
 * /56 or /64, and would otherwise get a fresh counter per address).
 */
export function addressKey(req: Request, ipv6Subnet = 56): string {
  return ipKeyGenerator(requireClientAddress(req), ipv6Subnet);
}

// A failure of a hook (key generator, onLimited), told apart from the store's in the limiter's error path.
class HookFailed {
  constructor(readonly error: unknown) {}
}

function isSharedStore(store: RateLimitStore | Store): store is RateLimitStore {
  return 'forLimiter' in store && typeof store.forLimiter === 'function';
}

/**
 * A fixed-window rate limit on express-rate-limit; refusals are 429 problem+json with `Retry-After` and
 * the standard `RateLimit` headers (IETF draft 8). Every failure goes to `next(err)`: a throwing key
 * generator or `onLimited` is the request's error, a failing store follows `onStoreError`.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  checkOptions('rateLimit()', options, KNOWN);
  const given = options?.store;
  for (const method of ['increment', 'decrement', 'resetKey'] as const) {
    if (typeof given?.[method] !== 'function')
      throw new ConfigError('store', `must be an express-rate-limit Store (no ${method} method)`);
  }
  const limit = integerOption('limit', options.limit, { fallback: 300, min: 1 });
  const windowMs = integerOption('windowMs', options.windowMs, { fallback: 60_000, min: 1000, max: 2 ** 31 - 1 });
  const name = options.name ?? 'global';
  const ipv6Subnet = integerOption('ipv6Subnet', options.ipv6Subnet, { fallback: 56, min: 32, max: 128 });
  const onStoreError = options.onStoreError ?? 'open';
  if (!/^[\w.-]{1,64}$/.test(name)) throw new ConfigError('name', 'must be 1-64 letters, digits, _ . -');
  for (const flag of ['countFailuresOnly', 'headers'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      throw new ConfigError(flag, 'must be true or false');
  }
  if (onStoreError !== 'open' && onStoreError !== 'closed')
    throw new ConfigError('onStoreError', 'must be open or closed');
  for (const hook of ['keyGenerator', 'onLimited'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      throw new ConfigError(hook, 'must be a function');
  }
  const logger = options.logger ?? silentLogger;
  const onLimited = options.onLimited;
  const custom = options.keyGenerator;
  const store = isSharedStore(given) ? given.forLimiter(name) : given;

  function storeFailed(error: unknown): void {
    logger.warn(
      { code: 'rate_limit.store_error', limit: name, err: errorForLog(error).name },
      'rate limit not applied',
    );
  }

  // express-rate-limit reports a failed decrement or store init, and its once-only configuration checks, here.
  const limiterLogger: LimiterLogger = {
    error: (error: unknown, message?: string) => logLimiterProblem(error, message),
    warn: (error: unknown, message?: string) => logLimiterProblem(error, message),
  };
  function logLimiterProblem(error: unknown, message: string | undefined): void {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_ERL_')) {
      logger.warn({ code: 'rate_limit.misconfigured', limit: name, erl: code }, (error as Error).message);
    } else {
      storeFailed(error);
      if (message) logger.debug({ code: 'rate_limit.store_error', limit: name }, message);
    }
  }

  const limiter = expressRateLimit({
    store,
    limit,
    windowMs,
    identifier: name,
    standardHeaders: options.headers === false ? false : 'draft-8',
    legacyHeaders: false,
    skipSuccessfulRequests: options.countFailuresOnly ?? false,
    passOnStoreError: false,
    logger: limiterLogger,
    keyGenerator: custom
      ? async (req: Request) => {
          let key: unknown;
          try {
            key = await custom(req);
          } catch (error) {
            throw new HookFailed(error);
          }
          if (typeof key !== 'string' || key.length === 0) {
            throw new HookFailed(new TypeError(`rateLimit(${name}): keyGenerator returned no string key`));
          }
          return key;
        }
      : (req: Request) => clientKey(req, ipv6Subnet),
    handler(req: Request, _res: Response, next: NextFunction) {
      try {
        onLimited?.(name, req);
      } catch (error) {
        next(new HookFailed(error));
        return;
      }
      const info = (req as Request & { rateLimit: RateLimitInfo }).rateLimit;
      const seconds = info.resetTime ? (info.resetTime.getTime() - Date.now()) / 1000 : windowMs / 1000;
      next(new RateLimitedError(seconds, 'Too many requests; try again later.', { code: 'rate_limited' }));
    },
  });

  // Described as a guard, so the OpenAPI document lists its 429 (and 503 when closed) on the routes after it.
  const problems = { 429: ['rate_limited'], ...(onStoreError === 'closed' ? { 503: ['store_unavailable'] } : {}) };
  return describeGuard(function portcullisRateLimit(req: Request, res: Response, next: NextFunction) {
    void limiter(req, res, (error?: unknown) => {
      // The refusal and the hooks' failures are the request's errors; anything else came from the store.
      if (error === undefined || error instanceof RateLimitedError) {
        next(error);
      } else if (error instanceof HookFailed) {
        next(error.error);
      } else {
        storeFailed(error);
        if (onStoreError === 'open') next();
        else next(error instanceof PortcullisError ? error : new StoreUnavailableError('rate-limit', { cause: error }));
      }
    });
  }, problems);
}
