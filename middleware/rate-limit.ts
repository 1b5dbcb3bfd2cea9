// rateLimit(): express-rate-limit over a Portcullis counter store, keyed by API key, user, or client IP.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit as expressRateLimit, type Options, type Store } from 'express-rate-limit';
import type { RateLimitStore } from '../src/contracts/rate-limit.js';
import { ConfigError, RateLimitedError, didYouMean } from '../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../src/logger.js';
import { contextOf } from './context.js';

export interface RateLimitOptions {
  /** Counter store (`stores.rateLimit`). Required. */
  store: RateLimitStore;
  /** Requests allowed per window per client. Default 300. */
  limit?: number;
  /** Window length in ms. Default 60 000. */
  windowMs?: number;
  /** Names this limit's counters, so two routes with their own limits never share one. Default `global`. */
  name?: string;
  /** When the store is down: `open` serves without limiting (logged), `closed` answers 503. Default `open`. */
  onStoreError?: 'open' | 'closed';
  /** IPv6 clients are counted per subnet of this prefix length. Default 56. */
  ipv6Subnet?: number;
  /** Client key; default: API key id, else user id, else the client IP (`req.ip`, so set `trust proxy`). */
  keyGenerator?: (req: Request) => string;
  /** Called when a request is refused (e.g. `metrics.recordRateLimitHit`). */
  onLimited?: (name: string, req: Request) => void;
  /** Only count failed requests (status >= 400), e.g. for login. Default false. */
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

/** The default client key: the authenticated credential when there is one, else the (grouped) IP. */
export function clientKey(req: Request, ipv6Subnet = 56): string {
  const principal = contextOf(req).principal;
  if (principal?.apiKeyId) return `key:${principal.apiKeyId}`;
  if (principal && principal.kind !== 'anonymous') return `user:${principal.id}`;
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown', ipv6Subnet)}`;
}

class CounterStoreAdapter implements Store {
  readonly localKeys: boolean;
  readonly prefix: string;
  #windowMs = 60_000;
  constructor(
    readonly counters: RateLimitStore,
    name: string,
  ) {
    this.localKeys = counters.backend === 'memory';
    this.prefix = `${name}:`;
  }
  init(options: Options): void {
    this.#windowMs = options.windowMs;
  }
  get(key: string) {
    return this.counters.get(this.prefix + key);
  }
  increment(key: string) {
    return this.counters.increment(this.prefix + key, this.#windowMs);
  }
  decrement(key: string) {
    return this.counters.decrement(this.prefix + key);
  }
  resetKey(key: string) {
    return this.counters.reset(this.prefix + key);
  }
}

/** A fixed-window rate limit; refusals are 429 problem+json with `Retry-After` and the standard `RateLimit` headers. */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  for (const key of Object.keys(options ?? {})) {
    if (!KNOWN.includes(key))
      throw new ConfigError(key, 'is not a rateLimit() option', { hint: didYouMean(key, KNOWN) });
  }
  if (typeof options?.store?.increment !== 'function') throw new ConfigError('store', 'must be a RateLimitStore');
  const limit = options.limit ?? 300;
  const windowMs = options.windowMs ?? 60_000;
  const name = options.name ?? 'global';
  const ipv6Subnet = options.ipv6Subnet ?? 56;
  const onStoreError = options.onStoreError ?? 'open';
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ConfigError('limit', 'must be a positive integer');
  if (!Number.isSafeInteger(windowMs) || windowMs < 1000) throw new ConfigError('windowMs', 'must be at least 1000');
  if (!/^[\w.-]{1,64}$/.test(name)) throw new ConfigError('name', 'must be 1-64 letters, digits, _ . -');
  if (!Number.isSafeInteger(ipv6Subnet) || ipv6Subnet < 32 || ipv6Subnet > 128) {
    throw new ConfigError('ipv6Subnet', 'must be between 32 and 128');
  }
  for (const flag of ['countFailuresOnly', 'headers'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      throw new ConfigError(flag, 'must be true or false');
  }
  if (onStoreError !== 'open' && onStoreError !== 'closed')
    throw new ConfigError('onStoreError', 'must be open or closed');
  const logger = options.logger ?? silentLogger;
  const keyGenerator = options.keyGenerator ?? ((req: Request) => clientKey(req, ipv6Subnet));
  return expressRateLimit({
    store: new CounterStoreAdapter(options.store, name),
    limit,
    windowMs,
    standardHeaders: options.headers === false ? false : 'draft-8',
    legacyHeaders: false,
    identifier: name,
    keyGenerator,
    passOnStoreError: onStoreError === 'open',
    skipSuccessfulRequests: options.countFailuresOnly ?? false,
    // The default-key validations are about req.ip use we already handle (ipKeyGenerator).
    validate: { keyGeneratorIpFallback: false },
    logger: {
      error: (error: unknown) =>
        logger.warn(
          { code: 'rate_limit.store_error', limit: name, err: errorForLog(error).name },
          'rate limit not applied',
        ),
      warn: (error: unknown) =>
        logger.warn({ code: 'rate_limit.warning', err: errorForLog(error).message }, 'rate limit'),
    },
    handler(req: Request, _res: Response, next: NextFunction) {
      options.onLimited?.(name, req);
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? (resetTime.getTime() - Date.now()) / 1000 : windowMs / 1000;
      next(new RateLimitedError(seconds, 'Too many requests; try again later.', { code: 'rate_limited' }));
    },
  });
}
